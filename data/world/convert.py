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
                pts = ring_points(arcs, ring)
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
