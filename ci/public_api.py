#!/usr/bin/env python3
"""Lists every public path of the `hurricane-db` library, one per line, sorted.

Reads the crate's rustdoc JSON (`cargo rustdoc -p hurricane-db --lib --all-features --
-Z unstable-options --output-format json`, which the machine's one stable toolchain
runs with RUSTC_BOOTSTRAP=1: see ci/public-api) and walks it from the crate root the
way a downstream crate sees it: public modules, re-exports, items, their public fields,
variants, inherent methods and associated items, and the traits each type implements
(auto traits and blanket impls left out). Diesel's generated `schema` module is listed
down to its tables and columns, without the hundreds of trait impls the `table!` macro
writes.

    python3 ci/public_api.py target/doc/hurricane_db.json            # the list
    python3 ci/public_api.py target/doc/hurricane_db.json --count    # counts by kind
"""

import json
import sys
from collections import Counter

CRATE = "hurricane_db"


def main():
    path = sys.argv[1]
    with open(path) as f:
        doc = json.load(f)
    index = doc["index"]
    paths = doc.get("paths", {})
    lines = set()

    def item(i):
        return index.get(str(i))

    def kind_of(it):
        inner = it["inner"]
        return inner if isinstance(inner, str) else next(iter(inner))

    def trait_name(t):
        entry = paths.get(str(t.get("id")))
        if entry:
            return "::".join(entry["path"])
        return t.get("path", "?")

    def hidden_trait(name):
        # Compiler plumbing and doc-hidden helper traits of derives: not API.
        return name.endswith("StructuralPartialEq") or "::__" in name

    def impls(it, owner, in_schema):
        inner = it["inner"][kind_of(it)]
        for impl_id in inner.get("impls", []):
            imp = item(impl_id)
            if imp is None:
                continue
            body = imp["inner"]["impl"]
            if body.get("is_synthetic") or body.get("blanket_impl") is not None:
                continue
            if body.get("trait") is None:
                for sub_id in body.get("items", []):
                    sub = item(sub_id)
                    if sub is None or sub.get("visibility") != "public":
                        continue
                    k = {"function": "fn", "assoc_const": "const", "assoc_type": "type"}.get(
                        kind_of(sub), kind_of(sub)
                    )
                    lines.add(f"{k} {owner}::{sub['name']}")
            elif not in_schema and not hidden_trait(trait_name(body["trait"])):
                neg = "!" if body.get("is_negative") else ""
                lines.add(f"impl {owner}: {neg}{trait_name(body['trait'])}")

    def walk(i, prefix, seen, in_schema=False):
        it = item(i)
        if it is None:
            return
        k = kind_of(it)
        if k == "use":
            use = it["inner"]["use"]
            target = item(use["id"]) if use.get("id") is not None else None
            if use.get("is_glob"):
                if target is not None and kind_of(target) == "module":
                    for sub in target["inner"]["module"]["items"]:
                        walk(sub, prefix, seen, in_schema)
                else:
                    lines.add(f"use {prefix}::* = {use['source']}")
                return
            if target is None:
                lines.add(f"use {prefix}::{use['name']} = {use['source']}")
                return
            # A re-export of one of our items: listed under the name it is exported as.
            renamed = dict(target, name=use["name"])
            walk_item(renamed, use["id"], prefix, seen, in_schema)
            return
        walk_item(it, i, prefix, seen, in_schema)

    def walk_item(it, i, prefix, seen, in_schema):
        k = kind_of(it)
        if it.get("visibility") != "public" and k != "module":
            return
        name = it["name"]
        path = f"{prefix}::{name}" if prefix else name
        if k == "module":
            if (i, path) in seen:
                return
            seen.add((i, path))
            if prefix:
                lines.add(f"mod {path}")
            schema = in_schema or path == f"{CRATE}::schema"
            for sub in it["inner"]["module"]["items"]:
                walk(sub, path, seen, schema)
            return
        short = {
            "function": "fn",
            "constant": "const",
            "static": "static",
            "type_alias": "type",
            "macro": "macro",
            "trait_alias": "trait",
        }
        if k in short:
            lines.add(f"{short[k]} {path}")
            return
        if k == "struct":
            lines.add(f"struct {path}")
            body = it["inner"]["struct"]["kind"]
            if isinstance(body, dict) and "plain" in body:
                for f_id in body["plain"]["fields"]:
                    f = item(f_id)
                    if f is not None and f.get("visibility") == "public":
                        lines.add(f"field {path}::{f['name']}")
            elif isinstance(body, dict) and "tuple" in body:
                for n, f_id in enumerate(body["tuple"]):
                    f = item(f_id) if f_id is not None else None
                    if f is not None and f.get("visibility") == "public":
                        lines.add(f"field {path}::{n}")
            impls(it, path, in_schema)
            return
        if k == "enum":
            lines.add(f"enum {path}")
            for v_id in it["inner"]["enum"]["variants"]:
                v = item(v_id)
                if v is None:
                    continue
                lines.add(f"variant {path}::{v['name']}")
                vk = v["inner"]["variant"]["kind"]
                if isinstance(vk, dict) and "struct" in vk:
                    for f_id in vk["struct"]["fields"]:
                        f = item(f_id)
                        if f is not None:
                            lines.add(f"field {path}::{v['name']}::{f['name']}")
            impls(it, path, in_schema)
            return
        if k == "union":
            lines.add(f"union {path}")
            impls(it, path, in_schema)
            return
        if k == "trait":
            lines.add(f"trait {path}")
            for sub_id in it["inner"]["trait"]["items"]:
                sub = item(sub_id)
                if sub is not None:
                    sk = {"function": "fn", "assoc_const": "const", "assoc_type": "type"}
                    lines.add(f"{sk.get(kind_of(sub), kind_of(sub))} {path}::{sub['name']}")
            return
        lines.add(f"{k} {path}")

    walk(doc["root"], "", set())
    ordered = sorted(lines, key=lambda l: (l.split(" ", 1)[1], l))
    if "--count" in sys.argv[2:]:
        counts = Counter(l.split(" ", 1)[0] for l in ordered)
        schema = sum(1 for l in ordered if f" {CRATE}::schema" in l)
        items = sum(n for k, n in counts.items() if k != "impl")
        print(f"{items} public items ({schema} of them in the generated schema), "
              f"{counts.get('impl', 0)} trait impls; by kind: "
              + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    else:
        print("\n".join(ordered))


if __name__ == "__main__":
    main()
