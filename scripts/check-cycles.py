#!/usr/bin/env python3
"""Module cycles: fails when two modules of a crate depend on each other, directly or around a loop.

    scripts/check-cycles.py [PACKAGE...]     (default: every workspace member)

The graph comes from `cargo modules dependencies` (crate cargo-modules): every item of the crate
and the "uses" edges between them, resolved by rust-analyzer. Its own `--acyclic` flag works on
items, not modules: a type and its own method, or a recursive function, count as a cycle there, so
no real crate passes it. It also sees `use` declarations and signatures but not paths written
inside function bodies (`crate::testing::dispatch(..)`), so the script adds those: each
`crate::`/`super::`/`self::` path in a source file is an edge from the module it is written in.
It then lifts the item graph to modules and checks it level by level:

- an item belongs to the innermost module that contains it (a method belongs to its type's module);
- an edge between a module and one of its own ancestors is not a cycle (a child uses what its
  parent defines, a parent re-exports its children);
- code that only tests compile (`#[cfg(test)] mod ...`) is left out: a test may use the helpers
  that use the code under test;
- any other edge from module A to module B is lifted to their common ancestor C, as an edge between
  the two children of C that hold A and B. At every level, the children of each module must form a
  DAG: `deploy` may use `triggers`, or `triggers` `deploy`, never both, even through different files.

Prints each cycle with the item edges that make it, and exits 1 if any crate has one.
"""

import json
import os
import re
import subprocess
import sys
from collections import defaultdict

NODE = re.compile(r'^\s*"([^"]+)" \[label="([^"|]*)\|')
EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)" \[label="uses"')


def graph(package, target):
    kind, name = target
    which = ["--lib"] if kind == "lib" else ["--bin", name]
    out = subprocess.run(
        ["cargo", "modules", "dependencies", "--package", package, *which,
         "--no-externs", "--no-sysroot", "--layout", "dot"],
        check=True, capture_output=True, text=True,
    ).stdout
    modules, edges = set(), []
    for line in out.splitlines():
        if m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        elif m := NODE.match(line):
            kind = m.group(2).split()[-1] if m.group(2) else ""
            if kind in ("mod", "crate"):
                modules.add(m.group(1))
    if not modules:
        raise SystemExit(f"check-cycles: cargo modules printed no graph for {package}")
    return modules, edges


def metadata():
    return json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        check=True, capture_output=True, text=True,
    ).stdout)


def root_target(meta, package):
    """The package's library target, else its (first) binary: (kind, name, root file)."""
    for p in meta["packages"]:
        if p["name"] == package:
            for kind in ("lib", "bin"):
                for t in p["targets"]:
                    if kind in t["kind"]:
                        return kind, t["name"], t["src_path"]
    raise SystemExit(f"check-cycles: no package {package} with a lib or bin target")


TOKEN = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])\'|\bmod\s+(\w+)\s*\{|[{}]'
    r"|\b((?:crate|super|self)(?:::\w+)+)",
    re.S,
)


def paths_in(text):
    """(inline module path within the file, path) for each `crate::`/`super::`/`self::` path,
    skipping comments, strings and char literals, and following inline `mod name { .. }` blocks."""
    depth, inline = 0, []  # inline: [(name, depth inside its braces)]
    for m in TOKEN.finditer(text):
        tok = m.group(0)
        if m.group(1):
            depth += 1
            inline.append((m.group(1), depth))
        elif tok == "{":
            depth += 1
        elif tok == "}":
            if inline and inline[-1][1] == depth:
                inline.pop()
            depth -= 1
        elif m.group(2):
            yield [name for name, _ in inline], m.group(2)


TEST_ONLY = re.compile(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)")


def source_edges(root_file, crate, modules, test_only):
    """Edges from each file's module to the modules its `crate::`/`super::` paths name.
    Adds every file's module to `modules`, and the modules only tests compile to `test_only`."""
    src = os.path.dirname(root_file)
    root_name = os.path.splitext(os.path.basename(root_file))[0]
    edges = []
    for dirpath, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), src)[:-3].split(os.sep)
            if rel[-1] == "mod" or (len(rel) == 1 and rel[0] == root_name):
                rel = rel[:-1]
            here = "::".join([crate] + rel)
            # cargo modules leaves out modules behind a cfg it does not evaluate (such as
            # `#[cfg(not(target_arch = "wasm32"))]`): a file is a module all the same.
            modules.add(here)
            text = open(os.path.join(dirpath, name), encoding="utf-8").read()
            test_only.update(f"{here}::{m}" for m in TEST_ONLY.findall(text))
            for inner, path in paths_in(text):
                module = here.split("::") + inner
                parts = path.split("::")
                base = [crate] if parts[0] == "crate" else module
                rest = parts[1:] if parts[0] in ("crate", "self") else parts
                while rest and rest[0] == "super":
                    base, rest = base[:-1], rest[1:]
                edges.append(("::".join(module), "::".join(base + rest)))
    return edges


def module_of(item, modules):
    parts = item.split("::")
    while parts:
        path = "::".join(parts)
        if path in modules:
            return path
        parts.pop()
    return None


def is_ancestor(a, b):
    return b.startswith(a + "::")


def lift(a, b):
    """(common ancestor, child of it holding a, child of it holding b)."""
    pa, pb = a.split("::"), b.split("::")
    n = 0
    while n < min(len(pa), len(pb)) and pa[n] == pb[n]:
        n += 1
    common = "::".join(pa[:n])
    return common, "::".join(pa[: n + 1]), "::".join(pb[: n + 1])


def cycles(adj):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
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
                out.append(sorted(comp))

    for v in list(adj):
        if v not in index:
            visit(v)
    return out


def check(meta, package):
    kind, name, root_file = root_target(meta, package)
    modules, edges = graph(package, (kind, name))
    test_only = set()
    edges += source_edges(root_file, name.replace("-", "_"), modules, test_only)
    levels = defaultdict(lambda: defaultdict(set))  # common -> child -> {child}
    evidence = defaultdict(list)
    for a, b in edges:
        ma, mb = module_of(a, modules), module_of(b, modules)
        if any(x == t or is_ancestor(t, x) for t in test_only for x in (a, ma or "")):
            continue  # written in code only tests compile (an inline `mod tests` included)
        if ma is None or mb is None or ma == mb or is_ancestor(ma, mb) or is_ancestor(mb, ma):
            continue
        common, sa, sb = lift(ma, mb)
        levels[common][sa].add(sb)
        levels[common].setdefault(sb, set())
        evidence[(sa, sb)].append((a, b))
    found = 0
    for common, adj in sorted(levels.items()):
        for comp in cycles(adj):
            found += 1
            print(f"{package}: cycle among {', '.join(comp)}")
            members = set(comp)
            for (sa, sb), uses in sorted(evidence.items()):
                if sa in members and sb in members:
                    shown = "; ".join(f"{x} -> {y}" for x, y in uses[:3])
                    more = f" (+{len(uses) - 3} more)" if len(uses) > 3 else ""
                    print(f"    {sa} -> {sb}: {shown}{more}")
    if not found:
        print(f"{package}: {len(modules)} modules, no cycles")
    return found


def main():
    meta = metadata()
    members = set(meta["workspace_members"])
    packages = sys.argv[1:] or [p["name"] for p in meta["packages"] if p["id"] in members]
    total = sum(check(meta, p) for p in packages)
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
