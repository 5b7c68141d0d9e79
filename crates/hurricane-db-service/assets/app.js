// The storm browser's behaviour. Plain DOM, no framework, nothing fetched from any
// other origin. The page's state (the search and the chosen storm) lives in the URL's
// fragment, so a view can be bookmarked or shared and Back works.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("search");
  const status = $("status");
  const FIELDS = ["name", "year", "basin", "min_wind"];
  let searchSeq = 0;
  let stormSeq = 0;

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  // A JSON answer, or an Error carrying the service's one-line message.
  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const why = body && body.error ? body.error : response.status + " " + response.statusText;
      throw new Error(why);
    }
    return body;
  }

  function stateFromHash() {
    return new URLSearchParams(location.hash.replace(/^#/, ""));
  }

  function formState() {
    const state = new URLSearchParams();
    for (const f of FIELDS) {
      const value = $(f).value.trim();
      if (value !== "") state.set(f, value);
    }
    return state;
  }

  function fillForm(state) {
    for (const f of FIELDS) $(f).value = state.get(f) || "";
  }

  function stormsQuery(state) {
    const q = new URLSearchParams();
    if (state.has("name")) {
      // A bare name finds every storm whose name starts with it.
      const name = state.get("name");
      q.set("name", /[*?]/.test(name) ? name : name + "*");
    }
    if (state.has("year")) {
      q.set("year_from", state.get("year"));
      q.set("year_to", state.get("year"));
    }
    if (state.has("basin")) q.set("basin", state.get("basin"));
    if (state.has("min_wind")) q.set("min_wind", state.get("min_wind"));
    q.set("limit", "200");
    return q;
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  async function search(state) {
    const seq = ++searchSeq;
    const hasQuery = FIELDS.some((f) => state.has(f));
    if (!hasQuery) {
      $("results").hidden = true;
      return;
    }
    say("Searching…");
    let storms;
    try {
      storms = await getJson("/storms?" + stormsQuery(state));
    } catch (e) {
      if (seq === searchSeq) say("Search failed: " + e.message, true);
      return;
    }
    if (seq !== searchSeq) return; // a newer search has started
    const rows = $("storm-rows");
    rows.replaceChildren();
    for (const s of storms) {
      const tr = document.createElement("tr");
      const name = cell(tr, "");
      const link = document.createElement("a");
      const target = new URLSearchParams(state);
      target.set("storm", String(s.btid));
      link.href = "#" + target;
      link.textContent = s.name;
      link.className = "storm-link";
      link.dataset.btid = String(s.btid);
      name.appendChild(link);
      cell(tr, String(s.year));
      cell(tr, s.basin);
      cell(tr, s.peak_cat, "cat cat-" + s.peak_cat);
      cell(tr, String(s.peak_wind_kts), "num");
      cell(tr, s.min_pressure == null ? "—" : String(s.min_pressure), "num");
      cell(tr, String(s.observations), "num");
      rows.appendChild(tr);
    }
    $("results").hidden = false;
    const more = storms.length === 200 ? " (the 200 strongest; narrow the search for more)" : "";
    const n = storms.length;
    say(n === 0 ? "No storm matches." : n + (n === 1 ? " storm" : " storms, strongest first") + more + ".");
  }

  function isoDay(t) {
    return t.slice(0, 16).replace("T", " ") + " UTC";
  }

  async function showStorm(btid) {
    const seq = ++stormSeq;
    const section = $("storm");
    if (!/^\d+$/.test(btid || "")) {
      section.hidden = true;
      return;
    }
    let track;
    try {
      track = await getJson("/storms/" + btid + "/track");
    } catch (e) {
      if (seq === stormSeq) {
        section.hidden = true;
        say("Storm " + btid + ": " + e.message, true);
      }
      return;
    }
    if (seq !== stormSeq) return;
    if (track.length === 0) {
      section.hidden = true;
      say("Storm " + btid + " has no observations.", true);
      return;
    }
    const first = track[0];
    const last = track[track.length - 1];
    const year = first.timestamp.slice(0, 4);
    const peak = track.reduce((a, b) => (b.wind_kts > a.wind_kts ? b : a));
    $("storm-title").textContent = first.name + " " + year + " · " + first.basin;
    $("storm-facts").textContent =
      track.length + " observations from " + isoDay(first.timestamp) + " to " + isoDay(last.timestamp) +
      "; peak " + peak.wind_kts + " kt (" + peak.cat + ") at " + isoDay(peak.timestamp) + ".";
    $("track-map").src = "/storms/" + btid + "/track.svg";
    $("intensity-chart").src = "/storms/" + btid + "/intensity.svg";
    $("season-link").href = "/seasons/" + year + ".svg?basin=" + encodeURIComponent(first.basin);
    $("season-link").textContent = "The " + year + " " + first.basin + " season on one map";
    section.hidden = false;
  }

  for (const id of ["track-map", "intensity-chart"]) {
    $(id).addEventListener("error", () => say("The picture " + id + " could not be drawn.", true));
  }

  async function render() {
    const state = stateFromHash();
    fillForm(state);
    await Promise.all([search(state), showStorm(state.get("storm"))]);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = "#" + formState();
    if (location.hash === next) render();
    else location.hash = next;
  });
  window.addEventListener("hashchange", render);
  render();
})();
