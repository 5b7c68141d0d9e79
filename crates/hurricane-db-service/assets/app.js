// The storm explorer. Plain DOM and Leaflet (vendored, served by this service), nothing
// fetched from any other origin. Every view lives in the URL's fragment
// (#view=season&year=2005&basin=North+Atlantic), so a view can be shared, bookmarked
// and restored, and Back works. One message line: an error, once shown, is not
// replaced by a later "loaded" message of the same view.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const VIEWS = ["overview", "storms", "place", "season", "landfalls", "compare"];
  const YEAR_MIN = 1800;
  const YEAR_MAX = 2100;
  const UNKNOWN_COLOUR = "#FF00FF"; // a code this build does not know, as the pictures draw it
  // Per-storm line colours of the compare chart (Okabe and Ito), with dashes so
  // colour is never the only cue.
  const SERIES = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
  const DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4"];

  // The SVG namespace's name (an identifier, never fetched).
  const SVG_NS = ["http:", "", "www.w3.org", "2000", "svg"].join("/");

  let coverage = null;
  let categories = new Map(); // code -> {code, meaning, group, colour, rank}
  let seq = 0; // the current render; answers of older renders are dropped
  let message = { seq: -1, error: false };
  let map = null;
  let layers = null;
  let labelCandidates = [];
  let labelLayer = null;
  let pointIndex = new Map(); // fid -> circle marker

  // ---- messages ---------------------------------------------------------------

  function say(text, isError, at) {
    const s = at === undefined ? seq : at;
    if (s !== seq) return;
    if (!isError && message.seq === s && message.error) return; // an error stays
    message = { seq: s, error: !!isError };
    const el = $("message");
    el.textContent = text;
    el.className = isError ? "error" : "";
    el.setAttribute("role", isError ? "alert" : "status");
  }

  class Refused extends Error {}

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Refused(body && body.error ? body.error : response.status + " " + response.statusText);
    }
    return body;
  }

  // ---- small helpers ----------------------------------------------------------

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children || []) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    return e;
  }

  function svgEl(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  const displayName = (name) => (String(name).toUpperCase() === "NOTNAMED" ? "Unnamed" : name);
  const utc = (iso) => iso.slice(0, 16).replace("T", " ") + " UTC";
  const day = (iso) => iso.slice(0, 10);
  const fmtLat = (v) => Math.abs(v).toFixed(1) + "°" + (v < 0 ? "S" : "N");
  const fmtLon = (v) => {
    let x = ((v + 540) % 360) - 180;
    if (x === -180 && v > 0) x = 180;
    return Math.abs(x).toFixed(1) + "°" + (x < 0 ? "W" : "E");
  };

  function catInfo(code) {
    return categories.get(code) || { code: code, meaning: "code " + code + " (not in the categories table)", group: code, colour: UNKNOWN_COLOUR, rank: 0 };
  }

  // A category code with its meaning, wherever a code appears.
  function catCell(code) {
    const info = catInfo(code);
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.background = info.colour;
    return el("span", { class: "cat" }, [swatch, el("abbr", { title: info.meaning, text: code })]);
  }

  function hashState() {
    return new URLSearchParams(location.hash.replace(/^#/, ""));
  }

  function go(params) {
    const next = "#" + params.toString();
    if (location.hash === next) render();
    else location.hash = next;
  }

  function checkYear(text, label) {
    if (text === null || text === "") return null;
    if (!/^-?\d+$/.test(text.trim())) {
      throw new Refused(label + " “" + text + "” is not a year: type a year such as 2005 (" + YEAR_MIN + " to " + YEAR_MAX + ").");
    }
    const y = Number(text);
    if (y < YEAR_MIN || y > YEAR_MAX) {
      throw new Refused(label + " " + y + " is out of range: type a year from " + YEAR_MIN + " to " + YEAR_MAX + ".");
    }
    return y;
  }

  function checkNumber(text, label, lo, hi, unit) {
    if (text === null || text === "") return null;
    const v = Number(text);
    if (!Number.isFinite(v) || text.trim() === "") throw new Refused(label + " “" + text + "” is not a number.");
    if (v < lo || v > hi) throw new Refused(label + " " + v + " is out of range: type " + lo + " to " + hi + (unit ? " " + unit : "") + ".");
    return v;
  }

  // What the database covers, in words: for "no results" messages.
  function coverageWords() {
    if (!coverage || coverage.basins.length === 0) return "The database is empty.";
    const parts = coverage.basins.map((b) => b.name + " " + b.years.map(([a, z]) => (a === z ? String(a) : a + "–" + z)).join(", "));
    return "The database holds " + parts.join(" and ") + ".";
  }

  function table(caption, headers, rows, options) {
    const t = el("table", { class: "data" + (options && options.className ? " " + options.className : "") });
    t.appendChild(el("caption", { text: caption }));
    const tr = el("tr");
    headers.forEach((h) => tr.appendChild(el("th", { scope: "col", class: h.num ? "num" : null, text: h.label })));
    t.appendChild(el("thead", {}, [tr]));
    const body = el("tbody");
    for (const r of rows) {
      const row = el("tr");
      r.forEach((value, i) => {
        const td = el("td", { "data-label": headers[i].label, class: headers[i].num ? "num" : null });
        if (value instanceof Node) td.appendChild(value);
        else td.textContent = value === null || value === undefined ? "—" : String(value);
        row.appendChild(td);
      });
      body.appendChild(row);
    }
    t.appendChild(body);
    return el("div", { class: "table-wrap" }, [t]);
  }

  // ---- the map ----------------------------------------------------------------

  function initMap() {
    if (map || typeof L === "undefined") return;
    map = L.map("map", {
      preferCanvas: true,
      worldCopyJump: false,
      minZoom: 1,
      maxZoom: 10,
      zoomSnap: 0.5,
      attributionControl: true,
    });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Land: Natural Earth · Map: Leaflet");
    map.fitBounds([[5, -170], [55, -10]]);
    layers = L.layerGroup().addTo(map);
    labelLayer = L.layerGroup().addTo(map);
    map.on("zoomend", placeLabels);
    map.on("click", (e) => {
      const view = hashState().get("view") || "overview";
      if (view !== "overview" && view !== "place") return;
      const state = hashState();
      const p = new URLSearchParams();
      p.set("view", "place");
      p.set("lat", e.latlng.lat.toFixed(2));
      let lon = e.latlng.lng;
      lon = ((lon + 540) % 360) - 180;
      p.set("lon", lon.toFixed(2));
      p.set("km", state.get("km") || "200");
      go(p);
    });
    fetch("/land.geojson")
      .then((r) => r.json())
      .then((land) => {
        const style = { fillColor: "#EFE9D8", fillOpacity: 1, color: "#8C8C8C", weight: 0.6, interactive: false };
        L.geoJSON(land, { style: style, interactive: false }).addTo(map).bringToBack();
        // Copies 360° east and west of the rings near the date line, so a track that
        // crosses it has land on both sides.
        for (const shift of [-360, 360]) {
          const polys = land.geometry.coordinates.filter((poly) => {
            const xs = poly[0].map((p) => p[0]);
            return shift < 0 ? Math.max(...xs) > 90 : Math.min(...xs) < -90;
          });
          const moved = {
            type: "Feature",
            properties: {},
            geometry: { type: "MultiPolygon", coordinates: polys.map((poly) => poly.map((ring) => ring.map(([x, y]) => [x + shift, y]))) },
          };
          L.geoJSON(moved, { style: style, interactive: false }).addTo(map).bringToBack();
        }
      })
      .catch(() => say("The land could not be drawn.", true));
  }

  function clearMap() {
    if (!map) return;
    layers.clearLayers();
    labelLayer.clearLayers();
    labelCandidates = [];
    pointIndex = new Map();
  }

  // Observations per storm from a GeoJSON export, longitudes unwrapped so a track
  // across the date line stays continuous (179.5 then -179.5 becomes 180.5).
  function tracksFrom(collection) {
    const tracks = new Map();
    for (const f of collection.features) {
      const p = f.properties;
      if (p.kind === "track") {
        const t = tracks.get(p.btid) || { points: [] };
        t.info = p;
        tracks.set(p.btid, t);
      } else if (p.kind === "observation") {
        const t = tracks.get(p.btid) || { points: [] };
        t.points.push({
          lon: f.geometry.coordinates[0],
          lat: f.geometry.coordinates[1],
          time: p.time,
          wind: p.wind_kts,
          pressure: p.pressure_mb,
          cat: p.cat,
          status: p.status,
          record: p.record_id,
          fid: p.fid,
          name: p.name,
          btid: p.btid,
        });
        tracks.set(p.btid, t);
      }
    }
    for (const t of tracks.values()) {
      t.points.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.fid - b.fid));
      let prev = null;
      for (const p of t.points) {
        let x = p.lon;
        if (prev !== null) {
          while (x - prev > 180) x -= 360;
          while (prev - x > 180) x += 360;
        }
        p.x = x;
        prev = x;
      }
      if (!t.info && t.points.length) {
        const first = t.points[0];
        t.info = { btid: first.btid, name: first.name, year: Number(first.time.slice(0, 4)), basin: "", peak_wind_kts: Math.max(...t.points.map((q) => q.wind)) };
      }
    }
    return [...tracks.values()].filter((t) => t.points.length > 0);
  }

  function pointText(t, p) {
    const info = catInfo(p.cat);
    const lines = [
      displayName(t.info.name) + " " + t.info.year,
      utc(p.time),
      p.wind + " kt" + (p.pressure ? " · " + p.pressure + " mb" : " · pressure not measured"),
      p.cat + ": " + info.meaning,
      fmtLat(p.lat) + " " + fmtLon(p.lon),
    ];
    if (p.status) lines.push("status " + p.status);
    lines.push("record " + (p.record ? p.record + (p.record === "L" ? " (landfall)" : "") : "none") + " · FID " + p.fid);
    return lines;
  }

  function bearing(a, b) {
    const crs = map.options.crs;
    const pa = crs.latLngToPoint(L.latLng(a.lat, a.x), 0);
    const pb = crs.latLngToPoint(L.latLng(b.lat, b.x), 0);
    return (Math.atan2(pb.y - pa.y, pb.x - pa.x) * 180) / Math.PI;
  }

  // Draws tracks coloured by category; options: ticks (daily time labels), arrows,
  // names (a label per storm), lineColour (per-storm colour for compare).
  function drawTracks(tracks, options) {
    const opts = options || {};
    const all = [];
    for (const [i, t] of tracks.entries()) {
      const latlngs = t.points.map((p) => [p.lat, p.x]);
      all.push(...latlngs);
      if (latlngs.length > 1) {
        L.polyline(latlngs, { color: "#1d2733", weight: 5, opacity: 0.35, interactive: false }).addTo(layers);
        for (let k = 0; k + 1 < t.points.length; k++) {
          const colour = opts.lineColours ? opts.lineColours[i] : catInfo(t.points[k].cat).colour;
          L.polyline([latlngs[k], latlngs[k + 1]], { color: colour, weight: 3, opacity: 1, interactive: false, dashArray: opts.dashes ? opts.dashes[i] || null : null }).addTo(layers);
        }
      }
      t.points.forEach((p, k) => {
        const marker = L.circleMarker([p.lat, p.x], {
          radius: opts.small ? 3 : 4.5,
          color: "#1d2733",
          weight: 1,
          fillColor: catInfo(p.cat).colour,
          fillOpacity: 1,
        });
        const text = pointText(t, p);
        marker.bindTooltip(el("div", {}, text.slice(0, 4).map((line) => el("div", { text: line }))), { sticky: true, direction: "top" });
        const popup = () => el("div", { class: "popup" }, text.map((line, n) => el(n === 0 ? "strong" : "div", { text: line })));
        marker.bindPopup(popup());
        marker.addTo(layers);
        pointIndex.set(p.fid, marker);
        if (p.record === "L") {
          const icon = L.divIcon({ className: "landfall-icon", iconSize: [14, 14], html: el("span", { "aria-hidden": "true" }) });
          // On top of the point: it answers hover and click for it.
          L.marker([p.lat, p.x], { icon: icon, keyboard: false, title: "Landfall " + utc(p.time) })
            .bindTooltip(el("div", {}, ["Landfall"].concat(text.slice(0, 4)).map((line) => el("div", { text: line }))), { direction: "top" })
            .bindPopup(popup())
            .addTo(layers);
        }
        if (opts.arrows && k > 0 && k % 4 === 2 && k + 1 < t.points.length) {
          const deg = bearing(p, t.points[k + 1]);
          const arrow = el("span", { class: "arrow-glyph", "aria-hidden": "true" });
          arrow.style.transform = "rotate(" + deg.toFixed(0) + "deg)";
          const icon = L.divIcon({ className: "arrow-icon", iconSize: [16, 16], html: arrow });
          // Half-way to the next position, clear of the points.
          const q = t.points[k + 1];
          L.marker([(p.lat + q.lat) / 2, (p.x + q.x) / 2], { icon: icon, interactive: false, keyboard: false }).addTo(layers);
        }
        if (opts.ticks && p.time.slice(11, 16) === "00:00") {
          labelCandidates.push({ lat: p.lat, lng: p.x, text: p.time.slice(5, 10), kind: "tick", priority: 2 });
        }
      });
      if (opts.names) {
        const pts = t.points;
        const peak = pts.reduce((a, b) => (b.wind > a.wind ? b : a), pts[0]);
        const order = [peak, pts[0], pts[pts.length - 1]].concat(pts.filter((_, n) => n % 3 === 0));
        labelCandidates.push({ spots: order.map((p) => [p.lat, p.x]), text: displayName(t.info.name), kind: "name", priority: 1 });
      }
    }
    if (all.length) map.fitBounds(L.latLngBounds(all).pad(0.08), { maxZoom: 7 });
    placeLabels();
  }

  // The width of a label's text as drawn (the style sheet's font for .map-label).
  let measure = null;
  function textWidth(text, kind) {
    if (!measure) measure = document.createElement("canvas").getContext("2d");
    const family = getComputedStyle(document.body).fontFamily;
    measure.font = (kind === "name" ? "600 12px " : "400 11px ") + family;
    return Math.ceil(measure.measureText(text).width);
  }

  // Labels that never overlap: names first (each tries several spots along its
  // track), then time ticks; whatever would overlap is left out at this zoom.
  function placeLabels() {
    if (!map) return;
    labelLayer.clearLayers();
    const taken = [];
    const fits = (box) => !taken.some((b) => box.x < b.x + b.w && b.x < box.x + box.w && box.y < b.y + b.h && b.y < box.y + box.h);
    const sorted = [...labelCandidates].sort((a, b) => a.priority - b.priority);
    for (const c of sorted) {
      const spots = c.spots || [[c.lat, c.lng]];
      const w = textWidth(c.text, c.kind) + 8;
      const h = c.kind === "name" ? 18 : 16;
      for (const s of spots) {
        const pt = map.latLngToLayerPoint(s);
        const box = { x: pt.x + 6, y: pt.y - h - 2, w: w, h: h };
        if (!fits(box)) continue;
        taken.push(box);
        const label = el("span", { text: c.text });
        const icon = L.divIcon({ className: "map-label map-label-" + c.kind, iconSize: [w, h], iconAnchor: [-6, h + 2], html: label });
        L.marker(s, { icon: icon, interactive: false, keyboard: false }).addTo(labelLayer);
        break;
      }
    }
  }

  function drawPlace(lat, lon, km) {
    L.circle([lat, lon], { radius: km * 1000, color: "#0b5cad", weight: 2, fillOpacity: 0.06, interactive: false }).addTo(layers);
    const icon = L.divIcon({ className: "place-icon", iconSize: [14, 14], html: el("span", { "aria-hidden": "true" }) });
    L.marker([lat, lon], { icon: icon, keyboard: false, title: "The place: " + fmtLat(lat) + " " + fmtLon(lon) }).addTo(layers);
  }

  // ---- legend and downloads ---------------------------------------------------

  function drawLegend() {
    const box = $("legend");
    box.replaceChildren();
    if (!categories.size) return;
    const groups = new Map();
    for (const c of [...categories.values()].sort((a, b) => b.rank - a.rank || a.code.localeCompare(b.code))) {
      const g = groups.get(c.group) || { colour: c.colour, codes: [], rank: c.rank };
      g.codes.push(c);
      groups.set(c.group, g);
    }
    const list = el("ul", { class: "legend" });
    const ordered = [...groups.entries()].sort((a, b) => (a[1].rank || 99) - (b[1].rank || 99));
    for (const [group, g] of ordered) {
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = g.colour;
      const codes = g.codes.map((c) => el("abbr", { title: c.meaning, text: c.code }));
      const item = el("li", { title: g.codes.map((c) => c.code + ": " + c.meaning).join("; ") }, [swatch, el("span", { text: group })]);
      if (g.codes.length > 1) {
        const span = el("span", { class: "codes" }, [": "]);
        codes.forEach((c, n) => {
          if (n) span.appendChild(document.createTextNode(", "));
          span.appendChild(c);
        });
        item.appendChild(span);
      }
      list.appendChild(item);
    }
    const extra = el("li", {}, [el("span", { class: "landfall-key", "aria-hidden": "true" }), el("span", { text: "landfall (record L)" })]);
    list.appendChild(extra);
    list.appendChild(el("li", {}, [el("span", { class: "arrow-key", "aria-hidden": "true", text: "➤" }), el("span", { text: "direction of travel; MM-DD labels at 00 UTC" })]));
    box.appendChild(el("h2", { class: "visually-hidden", text: "Legend" }));
    box.appendChild(list);
    const details = el("details", { class: "codes-glossary" }, [el("summary", { text: "Every category code" })]);
    details.appendChild(
      table(
        "Category codes",
        [{ label: "Code" }, { label: "Meaning" }],
        [...categories.values()].sort((a, b) => b.rank - a.rank || a.code.localeCompare(b.code)).map((c) => [catCell(c.code), c.meaning])
      )
    );
    box.appendChild(details);
  }

  // Links for what is on screen, one line per group {label, params, stem, hurdat2};
  // `hurdat2` false when none of the group's storms has an ATCF id (data loaded from
  // the IHW CSV), which HURDAT2 needs.
  function showDownloads(...groups) {
    const box = $("downloads");
    box.replaceChildren();
    if (!groups.length) {
      box.hidden = true;
      return;
    }
    for (const g of groups) {
      const line = el("p", { class: "download-line" }, [el("span", { class: "what", text: "Download " + g.label + ":" })]);
      const q = g.params.toString();
      for (const [fmt, ext, text] of [["csv", "csv", "CSV (IHW)"], ["geojson", "geojson", "GeoJSON"], ["hurdat2", "txt", "HURDAT2"]]) {
        if (fmt === "hurdat2" && g.hurdat2 === false) {
          line.appendChild(el("span", { class: "unavailable", title: "HURDAT2 needs ATCF storm ids; these storms were loaded from the IHW CSV, which has none", text: "HURDAT2: no ATCF ids (IHW CSV data)" }));
          continue;
        }
        line.appendChild(el("a", { href: "/export." + fmt + "?" + q, download: g.stem + "." + ext, class: "download", "data-format": fmt, text: text }));
      }
      box.appendChild(line);
    }
    box.hidden = false;
  }

  function withAtcf(tracks) {
    return tracks.some((t) => t.info && t.info.atcf_id);
  }

  // ---- detail: positions table, charts ----------------------------------------

  function positionsTable(t) {
    const rows = t.points.map((p) => {
      const time = el("button", { type: "button", class: "linkish", "data-fid": String(p.fid), text: utc(p.time) });
      time.addEventListener("click", () => focusPoint(p.fid));
      return [time, fmtLat(p.lat), fmtLon(p.lon), p.wind, p.pressure, catCell(p.cat), p.status, p.record];
    });
    return table(
      "Positions of " + displayName(t.info.name) + " " + t.info.year + " (the map's data as text; a time shows the point on the map)",
      [{ label: "Time (UTC)" }, { label: "Lat" }, { label: "Lon" }, { label: "Wind (kt)", num: true }, { label: "Pressure (mb)", num: true }, { label: "Cat" }, { label: "Status" }, { label: "Record" }],
      rows,
      { className: "positions" }
    );
  }

  function focusPoint(fid) {
    const m = pointIndex.get(fid);
    if (!m) return;
    map.setView(m.getLatLng(), Math.max(map.getZoom(), 5));
    m.openPopup();
  }

  // Wind of several storms on one chart, hours since each storm's first observation.
  function compareChart(tracks) {
    const W = 760;
    const H = 320;
    const M = { l: 48, r: 12, t: 14, b: 38 };
    const series = tracks.map((t) => {
      const t0 = Date.parse(t.points[0].time);
      return t.points.map((p) => [(Date.parse(p.time) - t0) / 3600000, p.wind]);
    });
    const maxX = Math.max(24, ...series.flat().map((p) => p[0]));
    const maxY = Math.max(60, ...series.flat().map((p) => p[1])) + 10;
    const x = (v) => M.l + (v / maxX) * (W - M.l - M.r);
    const y = (v) => H - M.b - (v / maxY) * (H - M.t - M.b);
    const names = tracks.map((t) => displayName(t.info.name) + " " + t.info.year);
    const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "cmp-title cmp-desc", class: "chart" });
    svg.appendChild(svgEl("title", { id: "cmp-title" }, "Wind over time: " + names.join(", ")));
    svg.appendChild(svgEl("desc", { id: "cmp-desc" }, "Sustained wind in knots against hours since each storm's first observation; the table below gives the peaks."));
    for (const [kt, label] of [[34, "TS"], [64, "H1"], [83, "H2"], [96, "H3"], [113, "H4"], [137, "H5"]]) {
      if (kt > maxY) continue;
      svg.appendChild(svgEl("line", { x1: M.l, x2: W - M.r, y1: y(kt), y2: y(kt), class: "band" }));
      svg.appendChild(svgEl("text", { x: W - M.r - 2, y: y(kt) - 3, "text-anchor": "end", class: "band-label" }, label + " " + kt + " kt"));
    }
    for (let v = 0; v <= maxY; v += 20) svg.appendChild(svgEl("text", { x: M.l - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, String(v)));
    const stepX = maxX > 480 ? 96 : maxX > 240 ? 48 : 24;
    for (let v = 0; v <= maxX; v += stepX) svg.appendChild(svgEl("text", { x: x(v), y: H - M.b + 16, "text-anchor": "middle", class: "tick" }, "day " + v / 24));
    svg.appendChild(svgEl("line", { x1: M.l, x2: M.l, y1: M.t, y2: H - M.b, class: "axis" }));
    svg.appendChild(svgEl("line", { x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b, class: "axis" }));
    svg.appendChild(svgEl("text", { x: 12, y: M.t + 4, class: "tick", transform: "rotate(-90 12 " + (M.t + 4) + ")", "text-anchor": "end" }, "wind (kt)"));
    series.forEach((pts, i) => {
      const d = pts.map((p, n) => (n ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1)).join(" ");
      const path = svgEl("path", { d: d, fill: "none", stroke: SERIES[i % SERIES.length], "stroke-width": "2.5" });
      if (DASHES[i % DASHES.length]) path.setAttribute("stroke-dasharray", DASHES[i % DASHES.length]);
      svg.appendChild(path);
    });
    const key = el("ul", { class: "series-key" });
    names.forEach((n, i) => {
      const sw = el("span", { class: "series-swatch", "aria-hidden": "true" });
      sw.style.borderTopColor = SERIES[i % SERIES.length];
      sw.style.borderTopStyle = DASHES[i % DASHES.length] ? "dashed" : "solid";
      key.appendChild(el("li", {}, [sw, el("span", { text: n })]));
    });
    return el("figure", { class: "compare-chart" }, [svg, key, el("figcaption", { text: "Intensity on one chart: wind against time since each storm began." })]);
  }

  function stormSummaryTable(tracks, caption, extra) {
    const dates = (t) => (t.info.first_time ? t.info.first_time.slice(5, 10) + " to " + t.info.last_time.slice(5, 10) : null);
    return table(
      caption,
      [{ label: "Storm" }, { label: "Year" }, { label: "Peak" }, { label: "Wind (kt)", num: true }, { label: "Pressure (mb)", num: true }, { label: "Dates (UTC)" }].concat(extra ? extra.headers : []),
      tracks.map((t, i) => {
        const link = el("a", { href: "#view=storms&storm=" + t.info.btid, class: "storm-link", "data-btid": String(t.info.btid), text: displayName(t.info.name) });
        return [link, t.info.year, catCell(t.info.peak_cat || "—"), t.info.peak_wind_kts, t.info.min_pressure_mb, dates(t)].concat(extra ? extra.cells(t, i) : []);
      })
    );
  }

  // ---- views ------------------------------------------------------------------

  async function viewOverview(at) {
    showDownloads();
    $("detail").replaceChildren();
    if (!coverage) return;
    const box = $("coverage");
    const rows = coverage.basins.map((b) => [b.name + " (" + b.code + ")", b.years.map(([a, z]) => (a === z ? String(a) : a + "–" + z)).join(", "), b.storms.toLocaleString("en"), b.observations.toLocaleString("en")]);
    rows.push(["All", "", coverage.storms.toLocaleString("en"), coverage.observations.toLocaleString("en")]);
    box.replaceChildren(
      table("Coverage, read from the database", [{ label: "Basin" }, { label: "Years" }, { label: "Storms", num: true }, { label: "Observations", num: true }], rows),
      el("p", {
        class: "hint",
        text: coverage.landfalls > 0
          ? coverage.landfalls.toLocaleString("en") + " landfall records (from HURDAT2 loads)."
          : "No landfall records: they come with HURDAT2 loads; the IHW CSV does not carry them.",
      })
    );
    say(coverageWords(), false, at);
  }

  async function viewStorms(state, at) {
    const form = $("storms-form");
    for (const f of ["name", "year", "basin", "min_wind"]) form.elements[f].value = state.get(f) || "";
    const results = $("storms-results");
    const btid = state.get("storm");
    const hasSearch = ["name", "year", "basin", "min_wind"].some((f) => state.get(f));
    let storms = [];
    let params = null;
    if (hasSearch) {
      const year = checkYear(state.get("year"), "Year");
      const wind = checkNumber(state.get("min_wind"), "Min peak wind", 0, 300, "kt");
      params = new URLSearchParams();
      const q = new URLSearchParams();
      if (state.get("name")) {
        const name = state.get("name").trim();
        const pattern = /[*?]/.test(name) ? name : name + "*";
        q.set("name", pattern);
        params.set("name", pattern);
      }
      if (year !== null) {
        q.set("year_from", year);
        q.set("year_to", year);
        params.set("year", year);
      }
      if (state.get("basin")) {
        q.set("basin", state.get("basin"));
        params.set("basin", state.get("basin"));
      }
      if (wind !== null) {
        q.set("min_wind", wind);
        params.set("min_wind", wind);
      }
      q.set("limit", "200");
      say("Searching…", false, at);
      storms = await getJson("/storms?" + q);
      if (at !== seq) return;
      const rows = storms.map((s) => {
        const p = new URLSearchParams(state);
        p.set("storm", s.btid);
        const link = el("a", { href: "#" + p, class: "storm-link", "data-btid": String(s.btid), text: displayName(s.name) });
        return [link, s.year, s.basin, catCell(s.peak_cat), s.peak_wind_kts, s.min_pressure];
      });
      const what = [state.get("name"), year].filter(Boolean).join(" ");
      results.replaceChildren(
        storms.length
          ? table(storms.length + (storms.length === 200 ? " strongest storms (narrow the search for more)" : storms.length === 1 ? " storm" : " storms, strongest first"), [{ label: "Name" }, { label: "Year" }, { label: "Basin" }, { label: "Peak" }, { label: "Wind (kt)", num: true }, { label: "Pressure (mb)", num: true }], rows)
          : el("p", { class: "empty", text: "No storm matches " + (what || "this search") + ". " + coverageWords() })
      );
      if (!storms.length) {
        say("No storm matches " + (what || "this search") + ". " + coverageWords(), false, at);
        clearMap();
        showDownloads();
        $("detail").replaceChildren();
        return;
      }
    } else {
      results.replaceChildren();
    }
    // One match opens it; otherwise the storm named in the address.
    const open = btid || (storms.length === 1 ? String(storms[0].btid) : null);
    if (open) {
      if (!/^\d+$/.test(open)) throw new Refused("Storm “" + open + "”: a storm is named by its number (BTID), such as 1303.");
      await showStorm(Number(open), at, storms.length > 1 ? { params: params, count: storms.length } : null);
      return;
    }
    if (!hasSearch) {
      say("Type a name (KATRINA, or K* for every name starting with K), a year, or both.", false, at);
      clearMap();
      showDownloads();
      $("detail").replaceChildren();
      return;
    }
    // Several matches: their tracks (the first 60) on the map.
    const shown = storms.slice(0, 60);
    const data = await getJson("/export.geojson?" + shown.map((s) => "btid=" + s.btid).join("&"));
    if (at !== seq) return;
    clearMap();
    const tracks = tracksFrom(data);
    drawTracks(tracks, { names: true, small: true });
    showDownloads({ label: "this search (" + storms.length + " storms)", params: params, stem: "search", hurdat2: withAtcf(tracks) });
    $("detail").replaceChildren(el("p", { class: "hint", text: "Pick a storm in the list for its track, times and intensity." }));
    say(storms.length + (storms.length === 1 ? " storm." : " storms, strongest first" + (shown.length < storms.length ? "; the map shows the first " + shown.length : "") + "."), false, at);
  }

  async function showStorm(btid, at, search) {
    say("Loading storm " + btid + "…", false, at);
    let data;
    try {
      data = await getJson("/export.geojson?btid=" + btid);
    } catch (e) {
      throw new Refused("Storm " + btid + ": " + e.message);
    }
    if (at !== seq) return;
    const tracks = tracksFrom(data);
    if (!tracks.length) throw new Refused("Storm " + btid + " is not in the database. " + coverageWords());
    const t = tracks[0];
    clearMap();
    drawTracks(tracks, { ticks: true, arrows: true });
    const info = t.info;
    const name = displayName(info.name) + " " + info.year;
    const first = t.points[0];
    const last = t.points[t.points.length - 1];
    const peak = t.points.reduce((a, b) => (b.wind > a.wind ? b : a), first);
    const landfalls = t.points.filter((p) => p.record === "L");
    const detail = $("detail");
    const seasonHref = "#view=season&year=" + info.year + "&basin=" + encodeURIComponent(info.basin).replace(/%20/g, "+");
    const addCompare = el("a", { href: "#view=compare&btid=" + btid, text: "Compare with other storms" });
    const img = el("img", {
      id: "intensity-chart",
      src: "/storms/" + btid + "/intensity.svg",
      alt: "Wind and pressure of " + name + " over time, from " + utc(first.time) + " to " + utc(last.time) + "; peak " + peak.wind + " kt (" + peak.cat + ").",
      width: "1200",
      height: "600",
    });
    img.addEventListener("error", () => say("The intensity chart of " + name + " could not be drawn.", true, at));
    detail.replaceChildren(
      el("h2", { id: "storm-title", text: name + " · " + info.basin }),
      el("p", {
        id: "storm-facts",
        text: t.points.length + " observations from " + utc(first.time) + " to " + utc(last.time) + "; peak " + peak.wind + " kt (" + peak.cat + ": " + catInfo(peak.cat).meaning + ") at " + utc(peak.time) + (info.min_pressure_mb ? "; lowest pressure " + info.min_pressure_mb + " mb" : "") + "; " + (landfalls.length ? landfalls.length + " landfall" + (landfalls.length > 1 ? "s" : "") + " (" + landfalls.map((p) => utc(p.time)).join(", ") + ")." : "no landfall records."),
      }),
      el("p", { class: "links" }, [el("a", { href: seasonHref, text: "The " + info.year + " " + info.basin + " season" }), " · ", addCompare, " · ", el("a", { href: "/storms/" + btid + "/track.svg", text: "Track as a picture (SVG)" })]),
      el("figure", {}, [img, el("figcaption", { text: "Wind (kt) and central pressure (mb) of " + name + " over time." })]),
      positionsTable(t)
    );
    const own = { label: name, params: new URLSearchParams("btid=" + btid), stem: (displayName(info.name) + "-" + info.year).toLowerCase(), hurdat2: withAtcf(tracks) };
    if (search && search.params) showDownloads(own, { label: "this search (" + search.count + " storms)", params: search.params, stem: "search" });
    else showDownloads(own);
    say(name + ": " + t.points.length + " observations. Hover or click a point for its time, wind, pressure and category.", false, at);
  }

  async function viewPlace(state, at) {
    const form = $("place-form");
    form.elements.lat.value = state.get("lat") || "";
    form.elements.lon.value = state.get("lon") || "";
    if (state.get("km")) form.elements.km.value = state.get("km");
    const results = $("place-results");
    if (!state.get("lat") && !state.get("lon")) {
      clearMap();
      results.replaceChildren();
      showDownloads();
      $("detail").replaceChildren();
      say("Type a latitude and longitude, or click the map.", false, at);
      return;
    }
    const lat = checkNumber(state.get("lat"), "Latitude", -90, 90, "°N");
    const lon = checkNumber(state.get("lon"), "Longitude", -180, 180, "°E");
    const km = checkNumber(state.get("km") || "200", "Radius", 1, 2000, "km");
    if (lat === null || lon === null) throw new Refused("Type both a latitude and a longitude, or click the map.");
    say("Searching within " + km + " km of " + fmtLat(lat) + " " + fmtLon(lon) + "…", false, at);
    const near = await getJson("/storms/near?" + new URLSearchParams({ lat: lat, lon: lon, km: km }));
    if (at !== seq) return;
    clearMap();
    drawPlace(lat, lon, km);
    const where = fmtLat(lat) + " " + fmtLon(lon);
    if (!near.length) {
      results.replaceChildren(el("p", { class: "empty", text: "No storm passed within " + km + " km of " + where + ". " + coverageWords() }));
      map.setView([lat, lon], 5);
      showDownloads();
      $("detail").replaceChildren();
      say("No storm passed within " + km + " km of " + where + ". " + coverageWords(), false, at);
      return;
    }
    const rows = near.map((s) => [
      el("a", { href: "#view=storms&storm=" + s.btid, class: "storm-link", "data-btid": String(s.btid), text: displayName(s.name) }),
      s.year,
      s.basin,
      Math.round(s.closest_km),
      utc(s.time),
      s.wind_kts,
    ]);
    results.replaceChildren(
      table(near.length + " storms within " + km + " km of " + where + ", closest first", [{ label: "Storm" }, { label: "Year" }, { label: "Basin" }, { label: "Closest (km)", num: true }, { label: "When (UTC)" }, { label: "Wind then (kt)", num: true }], rows)
    );
    const shown = near.slice(0, 40);
    const data = await getJson("/export.geojson?" + shown.map((s) => "btid=" + s.btid).join("&"));
    if (at !== seq) return;
    const tracks = tracksFrom(data);
    drawTracks(tracks, { small: true });
    for (const s of shown) {
      const t = tracks.find((x) => x.info.btid === s.btid);
      const p = t && t.points.find((q) => q.fid === s.fid);
      if (!p) continue;
      L.circleMarker([p.lat, p.x], { radius: 7, color: "#0b5cad", weight: 3, fill: false })
        .bindTooltip("Closest approach of " + displayName(s.name) + " " + s.year + ": " + Math.round(s.closest_km) + " km, " + utc(s.time) + ", " + s.wind_kts + " kt")
        .addTo(layers);
    }
    map.fitBounds(L.latLng(lat, lon).toBounds(km * 2600), { maxZoom: 8 });
    const params = new URLSearchParams();
    near.forEach((s) => params.append("btid", s.btid));
    showDownloads({ label: "these " + near.length + " storms", params: params, stem: "near-" + lat + "-" + lon + "-" + km + "km", hurdat2: withAtcf(tracks) });
    $("detail").replaceChildren();
    say(near.length + " storms passed within " + km + " km of " + where + (shown.length < near.length ? "; the map shows the " + shown.length + " closest" : "") + ".", false, at);
  }

  async function viewSeason(state, at) {
    const form = $("season-form");
    form.elements.year.value = state.get("year") || "";
    form.elements.basin.value = state.get("basin") || "";
    const results = $("season-results");
    const year = checkYear(state.get("year"), "Year");
    if (year === null) {
      clearMap();
      results.replaceChildren();
      showDownloads();
      $("detail").replaceChildren();
      say("Type a year (and pick a basin) to see every track of a season.", false, at);
      return;
    }
    const params = new URLSearchParams({ year: year });
    if (state.get("basin")) params.set("basin", state.get("basin"));
    const label = year + " " + (state.get("basin") || "season, both basins");
    say("Loading the " + label + "…", false, at);
    const data = await getJson("/export.geojson?" + params);
    if (at !== seq) return;
    const tracks = tracksFrom(data).sort((a, b) => (a.points[0].time < b.points[0].time ? -1 : 1));
    clearMap();
    if (!tracks.length) {
      results.replaceChildren(el("p", { class: "empty", text: "No storm in " + label + ". " + coverageWords() }));
      showDownloads();
      $("detail").replaceChildren();
      say("No storm in " + label + ". " + coverageWords(), false, at);
      return;
    }
    drawTracks(tracks, { names: true, arrows: false, small: true });
    results.replaceChildren(stormSummaryTable(tracks, tracks.length + " storms of " + label + ", in order of formation"));
    showDownloads({ label: "the " + label, params: params, stem: "season-" + year + (state.get("basin") ? "-" + state.get("basin").toLowerCase().replace(/\s+/g, "-") : ""), hurdat2: withAtcf(tracks) });
    $("detail").replaceChildren(el("p", { class: "hint", text: "Names are placed where they do not overlap; zoom in for more. Pick a storm in the list for its positions." }));
    say(tracks.length + " storms in " + label + ".", false, at);
  }

  async function viewLandfalls(state, at) {
    const form = $("landfalls-form");
    form.elements.year.value = state.get("year") || "";
    form.elements.basin.value = state.get("basin") || "";
    form.elements.min_cat.value = state.get("min_cat") || "";
    const results = $("landfalls-results");
    const year = checkYear(state.get("year"), "Year");
    const q = new URLSearchParams();
    if (year !== null) q.set("year", year);
    if (state.get("basin")) q.set("basin", state.get("basin"));
    if (state.get("min_cat")) q.set("min_cat", state.get("min_cat"));
    say("Listing landfalls…", false, at);
    const storms = await getJson("/landfalls?" + q);
    if (at !== seq) return;
    clearMap();
    if (!storms.length) {
      const why = coverage && coverage.landfalls === 0 ? " This database has no landfall records: they come with HURDAT2 loads, not with the IHW CSV." : " " + coverageWords();
      results.replaceChildren(el("p", { class: "empty", text: "No landfall matches." + why }));
      showDownloads();
      $("detail").replaceChildren();
      say("No landfall matches." + why, false, at);
      return;
    }
    const rows = [];
    for (const s of storms) {
      for (const l of s.landfalls) {
        rows.push([
          el("a", { href: "#view=storms&storm=" + s.btid, class: "storm-link", "data-btid": String(s.btid), text: displayName(s.name) }),
          s.year,
          utc(l.timestamp),
          fmtLat(Number(l.lat)) + " " + fmtLon(Number(l.long)),
          l.wind_kts,
          l.pressure,
          catCell(l.cat),
        ]);
      }
    }
    results.replaceChildren(table(rows.length + " landfalls of " + storms.length + " storms, in time order", [{ label: "Storm" }, { label: "Year" }, { label: "Time (UTC)" }, { label: "Where" }, { label: "Wind (kt)", num: true }, { label: "Pressure (mb)", num: true }, { label: "Cat" }], rows));
    const shown = storms.slice(0, 60);
    const data = await getJson("/export.geojson?" + shown.map((s) => "btid=" + s.btid).join("&"));
    if (at !== seq) return;
    const tracks = tracksFrom(data);
    drawTracks(tracks, { small: true, names: true });
    const params = new URLSearchParams();
    storms.forEach((s) => params.append("btid", s.btid));
    showDownloads({ label: "these " + storms.length + " storms", params: params, stem: "landfalls", hurdat2: withAtcf(tracks) });
    $("detail").replaceChildren();
    say(rows.length + " landfalls of " + storms.length + " storms. Landfalls are the ◆ marks on the map.", false, at);
  }

  async function viewCompare(state, at) {
    const btids = state.getAll("btid");
    const results = $("compare-results");
    for (const b of btids) if (!/^\d+$/.test(b)) throw new Refused("Storm “" + b + "”: a storm is named by its number (BTID), such as 1303.");
    if (!btids.length) {
      clearMap();
      results.replaceChildren(el("p", { class: "hint", text: "Add two or more storms by name and year." }));
      showDownloads();
      $("detail").replaceChildren();
      say("Add two or more storms by name and year to compare them.", false, at);
      return;
    }
    say("Loading " + btids.length + " storms…", false, at);
    const params = new URLSearchParams();
    btids.forEach((b) => params.append("btid", b));
    const data = await getJson("/export.geojson?" + params);
    if (at !== seq) return;
    const byId = new Map(tracksFrom(data).map((t) => [String(t.info.btid), t]));
    const missing = btids.filter((b) => !byId.has(b));
    const tracks = btids.filter((b) => byId.has(b)).map((b) => byId.get(b));
    clearMap();
    // Each storm's line in its chart colour and dash; points keep category colours.
    drawTracks(tracks, { names: true, arrows: true, lineColours: tracks.map((_, i) => SERIES[i % SERIES.length]), dashes: tracks.map((_, i) => DASHES[i % DASHES.length]) });
    results.replaceChildren(
      stormSummaryTable(tracks, tracks.length + " storms compared", {
        headers: [{ label: "" }],
        cells: (t) => {
          const rest = new URLSearchParams(state);
          rest.delete("btid");
          btids.filter((b) => b !== String(t.info.btid)).forEach((b) => rest.append("btid", b));
          return [el("a", { href: "#" + rest, class: "remove", "aria-label": "Remove " + displayName(t.info.name) + " " + t.info.year, text: "remove" })];
        },
      })
    );
    $("detail").replaceChildren(tracks.length ? compareChart(tracks) : el("p"));
    showDownloads({ label: "these " + tracks.length + " storms", params: params, stem: "compare", hurdat2: withAtcf(tracks) });
    if (missing.length) throw new Refused("Not in the database: storm " + missing.join(", ") + ".");
    say(tracks.length < 2 ? "Add another storm to compare." : "Comparing " + tracks.map((t) => displayName(t.info.name) + " " + t.info.year).join(", ") + ".", false, at);
  }

  // ---- forms ------------------------------------------------------------------

  function formTo(view, form, fields) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const p = new URLSearchParams();
      p.set("view", view);
      for (const f of fields) {
        const v = String(form.elements[f].value || "").trim();
        if (v !== "") p.set(f, v);
      }
      go(p);
    });
  }

  async function addToCompare(event) {
    event.preventDefault();
    const at = ++seq;
    const form = $("compare-form");
    const name = form.elements.name.value.trim();
    try {
      const year = checkYear(form.elements.year.value.trim(), "Year");
      if (!name) throw new Refused("Type the name of the storm to add, such as RITA.");
      const q = new URLSearchParams({ name: name, limit: "5" });
      if (year !== null) {
        q.set("year_from", year);
        q.set("year_to", year);
      }
      const found = await getJson("/storms?" + q);
      if (!found.length) throw new Refused("No storm named " + name + (year ? " in " + year : "") + ". " + coverageWords());
      const state = hashState();
      state.set("view", "compare");
      if (!state.getAll("btid").includes(String(found[0].btid))) state.append("btid", found[0].btid);
      form.elements.name.value = "";
      go(state);
    } catch (e) {
      say(e.message, true, at);
    }
  }

  // ---- render -----------------------------------------------------------------

  async function render() {
    const at = ++seq;
    const state = hashState();
    // Addresses of the storm browser (#name=...&storm=...) open the storms view.
    let view = state.get("view");
    if (!view) view = state.get("name") || state.get("storm") || state.get("year") ? "storms" : "overview";
    if (!VIEWS.includes(view)) view = "overview";
    for (const v of VIEWS) $("view-" + v).hidden = v !== view;
    for (const a of document.querySelectorAll("#views a")) {
      if (a.dataset.view === view) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    document.title = ({ overview: "Storm explorer", storms: "Storms", place: "Near a place", season: "Season", landfalls: "Landfalls", compare: "Compare" })[view] + " · hurricane-db";
    initMap();
    try {
      if (!coverage) {
        coverage = await getJson("/coverage");
        categories = new Map(coverage.categories.map((c) => [c.code, c]));
        for (const select of document.querySelectorAll("select.basins")) {
          for (const b of coverage.basins) select.appendChild(el("option", { value: b.name, text: b.name }));
        }
        drawLegend();
      }
      if (at !== seq) return;
      if (view === "overview") {
        clearMap();
        await viewOverview(at);
      } else if (view === "storms") await viewStorms(state, at);
      else if (view === "place") await viewPlace(state, at);
      else if (view === "season") await viewSeason(state, at);
      else if (view === "landfalls") await viewLandfalls(state, at);
      else if (view === "compare") await viewCompare(state, at);
    } catch (e) {
      if (at !== seq) return;
      say(e instanceof Refused ? e.message : "Something went wrong: " + e.message, true, at);
    } finally {
      if (at === seq) document.body.dataset.rendered = String(at);
    }
  }

  // For tests and the curious: the map and the points drawn on it.
  window.stormExplorer = { map: () => map, point: (fid) => pointIndex.get(fid), points: () => [...pointIndex.keys()] };

  formTo("storms", $("storms-form"), ["name", "year", "basin", "min_wind"]);
  formTo("place", $("place-form"), ["lat", "lon", "km"]);
  formTo("season", $("season-form"), ["year", "basin"]);
  formTo("landfalls", $("landfalls-form"), ["year", "basin", "min_cat"]);
  $("compare-form").addEventListener("submit", addToCompare);
  window.addEventListener("hashchange", render);
  render();
})();
