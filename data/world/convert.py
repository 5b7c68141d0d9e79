#!/usr/bin/env python3
"""Converts world-atlas's land TopoJSON into data/world/land-50m.txt.

Usage (from the repository root):

    curl -sSfL https://registry.npmjs.org/world-atlas/-/world-atlas-2.0.2.tgz | tar xz -C /tmp
    python3 data/world/convert.py /tmp/package/land-50m.json > data/world/land-50m.txt

Output format (read by src/plot/world.rs), one ring per line after the header:

    O x0 y0 dx1 dy1 dx2 dy2 ...     outer ring of a land polygon
    H x0 y0 dx1 dy1 ...             a hole in the polygon before it (a lake or inland sea)

Coordinates are integers in hundredths of a degree (longitude x, latitude y); after the
first point each pair is the difference to the previous point. Points that round to the
same position as the previous one are dropped.

world-atlas's rings are spherical: some cross the date line (Chukotka, Wrangel Island,
Fiji) and Antarctica's outer ring goes around the South Pole. Each ring is therefore
unwrapped (every longitude within 180 degrees of the one before, so Chukotka continues
past 180 to about 190) and a ring that goes all the way round is closed along the pole.
The reader draws each ring shifted by -360, 0 and +360 degrees as its frame needs.
Rings with no area (d3's ring along the pole itself) are dropped.
"""
import json
import sys

UNIT = 100  # hundredths of a degree


def decode_arcs(topo):
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    return arcs


def ring_points(arcs, indexes):
    pts = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        # Consecutive arcs share their end point.
        pts.extend(arc if not pts else arc[1:])
    return pts


def unwrap(pts):
    out = []
    for lon, lat in pts:
        if out:
            prev = out[-1][0]
            lon = prev + ((lon - prev + 180.0) % 360.0 - 180.0)
        out.append((lon, lat))
    # A ring around a pole ends a whole turn away from where it started: close it
    # along the pole.
    if out and abs(out[-1][0] - out[0][0]) > 180.0:
        pole = -90.0 if sum(p[1] for p in out) < 0 else 90.0
        out.append((out[-1][0], pole))
        out.append((out[0][0], pole))
    # Centre the ring's longitudes on -180..180.
    mid = (min(p[0] for p in out) + max(p[0] for p in out)) / 2.0
    turn = 360.0 * round(mid / 360.0)
    return [(lon - turn, lat) for lon, lat in out]


def main():
    topo = json.load(open(sys.argv[1]))
    arcs = decode_arcs(topo)
    out = [
        "# Natural Earth 1:50m land, from the npm package world-atlas 2.0.2 (land-50m.json).",
        "# Data: public domain (Natural Earth); world-atlas: ISC. See README.md.",
        "# Regenerate: python3 data/world/convert.py land-50m.json > data/world/land-50m.txt",
    ]
    for geom in topo["objects"]["land"]["geometries"]:
        polys = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        for poly in polys:
            for k, ring in enumerate(poly):
                pts = unwrap(ring_points(arcs, ring))
                lons = [p[0] for p in pts]
                lats = [p[1] for p in pts]
                if max(lons) - min(lons) < 0.01 or max(lats) - min(lats) < 0.01:
                    continue
                q = []
                for lon, lat in pts:
                    p = (round(lon * UNIT), round(lat * UNIT))
                    if not q or q[-1] != p:
                        q.append(p)
                if len(q) < 4:
                    continue
                fields = ["O" if k == 0 else "H", str(q[0][0]), str(q[0][1])]
                for (ax, ay), (bx, by) in zip(q, q[1:]):
                    fields.append(str(bx - ax))
                    fields.append(str(by - ay))
                out.append(" ".join(fields))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
