#!/usr/bin/env python3
"""Fails when the library's source files import each other in a circle.

Every file of `src/` is a module; a `use crate::...`, `use super::...` or an inline
`crate::x::` path is an edge to the file module it names (doc comments and unit tests
left out; a parent's `mod child;` is not an import). Prints each circle found and
exits 1; prints what `error` imports and exits 0 when there is none.

    python3 ci/import_cycles.py [SRC_DIR]
"""

import os
import re
import sys
from collections import defaultdict


def modules(root):
    found = {}
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".rs"):
                path = os.path.join(d, f)
                rel = os.path.relpath(path, root)[:-3].split("/")
                if rel[-1] in ("mod", "lib"):
                    rel = rel[:-1]
                found[tuple(rel)] = path
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "src"
    mods = modules(root)

    def resolve(parts):
        for n in range(len(parts), 0, -1):
            if tuple(parts[:n]) in mods:
                return tuple(parts[:n])
        return None

    edges = defaultdict(set)
    for m, path in mods.items():
        with open(path) as f:
            src = f.read()
        src = re.sub(r"^\s*//.*$", "", src, flags=re.M)
        src = re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", src, flags=re.S)
        # `super` of a file module is its parent module (for `x/mod.rs` and `x.rs` alike).
        parent = list(m[:-1])
        for mt in re.finditer(r"\b(crate|super)((?:::\w+)+)", src):
            parts = mt.group(2).strip(":").split("::")
            full = parts if mt.group(1) == "crate" else parent + parts
            t = resolve(full)
            if t and t != m:
                edges[m].add(t)
        for mt in re.finditer(r"use (crate|super)::\{([^}]*)\}", src):
            base = [] if mt.group(1) == "crate" else parent
            for item in mt.group(2).split(","):
                item = item.strip().split("::")[0].split(" ")[0]
                if item and item != "self":
                    t = resolve(base + [item])
                    if t and t != m:
                        edges[m].add(t)

    # Tarjan's strongly connected components: a component of two or more is a circle.
    index, low, stack, on, circles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted("::".join(x) or "lib" for x in comp))

    sys.setrecursionlimit(10000)
    for v in list(mods):
        if v not in index:
            visit(v)
    name = lambda x: "::".join(x) or "lib"
    for c in circles:
        print("import circle: " + ", ".join(c))
    if circles:
        sys.exit(1)
    print(f"no import circles among {len(mods)} files; error imports: "
          + ", ".join(sorted(name(t) for t in edges[("error",)])))


if __name__ == "__main__":
    main()
