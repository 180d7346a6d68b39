#!/usr/bin/env python3
"""The context map, read from the code: which top-level package of src/aftersales imports which.

    python3 scripts/context_map.py            writes docs/context-map.svg (`make context-map`)
    python3 scripts/context_map.py --check    exits 1 when the committed picture is stale

Every import counts, deferred ones inside functions too (import-linter's layers contract sees the
module graph; this walk is what tests/unit/test_import_shape.py checks for cycles and hidden
arrows). The picture ranks packages by their longest path down to a leaf, so every arrow points
down the page; a cycle has no such order and is drawn in red. Pure Python: no Graphviz needed.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "aftersales"
SVG = ROOT / "docs" / "context-map.svg"
SKIPPED = frozenset({"migrations", "__init__", "__pycache__"})  # Alembic's scripts; the package root


@dataclass(frozen=True)
class Import:
    source: str  # the importing top-level package or module, e.g. "tickets", "main"
    target: str  # the imported one
    path: str  # the importing file, relative to src/aftersales
    line: int
    deferred: bool  # inside a function body: import-linter's readers easily miss the arrow


def _module_parts(rel: Path) -> list[str]:
    parts = ["aftersales", *rel.parts[:-1]]
    return parts if rel.name == "__init__.py" else [*parts, rel.stem]


def _targets(node: ast.AST, parts: list[str], is_init: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = parts[: len(parts) - node.level + (1 if is_init else 0)]
            module = ".".join([*base, *([node.module] if node.module else [])])
        else:
            module = node.module or ""
        names = [f"{module}.{alias.name}" for alias in node.names] if module == "aftersales" else [module]
        return names
    return []


def _walk(tree: ast.AST, deferred: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(tree):
        inside = deferred or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield child, inside
        yield from _walk(child, inside)


def top_level_names(src: Path = SRC) -> set[str]:
    """Our top-level packages and modules (cli, config, main, models): the nodes of the map."""
    names = {p.name for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    names |= {p.stem for p in src.glob("*.py")}
    return names - SKIPPED


def imports(src: Path = SRC) -> list[Import]:
    """Every import from one of our top-level packages or modules into another."""
    nodes = top_level_names(src)
    found: list[Import] = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        source = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        if source not in nodes:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        parts = _module_parts(rel)
        for node, deferred in _walk(tree):
            for target in _targets(node, parts, rel.name == "__init__.py"):
                bits = target.split(".")
                if len(bits) >= 2 and bits[0] == "aftersales" and bits[1] in nodes and bits[1] != source:
                    found.append(Import(source, bits[1], rel.as_posix(), getattr(node, "lineno", 0), deferred))
    return found


def edges(found: Iterable[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in found:
        graph[imp.source].add(imp.target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan), each sorted, in name order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return sorted(groups)


def ranks(graph: dict[str, set[str]], nodes: Iterable[str]) -> dict[str, int]:
    """0 for a package that imports none of ours, else one more than the highest it imports; the
    members of a cycle share a rank (the group is collapsed first)."""
    group_of = {n: n for n in nodes}
    for group in cycles(graph):
        for member in group:
            group_of[member] = group[0]
    collapsed: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        collapsed[group_of[source]] |= {group_of[t] for t in targets if group_of[t] != group_of[source]}
    memo: dict[str, int] = {}

    def rank(g: str) -> int:
        if g not in memo:
            memo[g] = 1 + max((rank(t) for t in collapsed.get(g, ())), default=-1)
        return memo[g]

    return {n: rank(group_of[n]) for n in group_of}


# --- the picture ---------------------------------------------------------------------------------
# Rows: the longest path down to a leaf, as in the layers contract of pyproject.toml. Arrows are drawn
# over the boxes, so one that passes a box is seen to pass. The shared plumbing sits under the
# contexts and the composition roots above them: every context uses the first and the second import
# everything, so their arrows are left out of the picture (the test still checks them).
PLUMBING = {
    "kit": "shared kernel",
    "config": "settings",
    "db": "database, unit of work",
    "messaging": "outbox, events, queue",
    "web": "web shell",
}
ROOTS = {
    "main": "composition root: web app",
    "cli": "composition root: commands",
    "worker": "composition root: worker",
    "demo": "demo shop seed",
    "models": "every table (Alembic)",
}
# Not a bounded context, yet drawn with them (contexts import it, it imports only kit).
SHARED = {"understanding": "reading customers' words"}
BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 150, 44, 24, 56, 20


def _rows(graph: dict[str, set[str]], nodes: set[str]) -> list[list[str]]:
    """Top to bottom: the roots, the contexts by rank (highest first), the plumbing by rank; inside
    a row, boxes sit near the boxes they import (barycentres, from the bottom up)."""
    contexts = nodes - set(PLUMBING) - set(ROOTS)
    plumbing = nodes & set(PLUMBING)
    inner = {n: {t for t in graph.get(n, ()) if t in contexts} for n in contexts}
    low = {n: {t for t in graph.get(n, ()) if t in plumbing} for n in plumbing}
    rows: list[list[str]] = []
    for group, sub in ((plumbing, low), (contexts, inner)):
        rank_of = ranks(sub, group)
        for r in range(max(rank_of.values(), default=-1) + 1):
            rows.insert(0, sorted(n for n in group if rank_of[n] == r))
    rows.insert(0, sorted(nodes & set(ROOTS)))
    position: dict[str, float] = {}

    def centre(name: str) -> float:
        below = [position[t] for t in graph.get(name, ()) if t in position and t not in plumbing]
        return sum(below) / len(below) if below else 0.0

    for row in reversed(rows):
        if any(n in position for t in row for n in graph.get(t, ())):
            row.sort(key=lambda n: (centre(n), n))
        for i, name in enumerate(row):
            position[name] = i - (len(row) - 1) / 2
    return [row for row in rows if row]


def render_svg(graph: dict[str, set[str]], nodes: set[str]) -> str:
    rows = _rows(graph, nodes)
    widest = max(len(r) for r in rows)
    width = 2 * MARGIN + widest * BOX_W + (widest - 1) * GAP_X
    height = 2 * MARGIN + len(rows) * BOX_H + (len(rows) - 1) * GAP_Y + 20
    where: dict[str, tuple[float, float]] = {}
    for row_no, names in enumerate(rows):
        span = len(names) * BOX_W + (len(names) - 1) * GAP_X
        x0 = (width - span) / 2
        for i, name in enumerate(names):
            where[name] = (x0 + i * (BOX_W + GAP_X), MARGIN + row_no * (BOX_H + GAP_Y))
    in_cycle = {(a, b) for group in cycles(graph) for a in group for b in group}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12">',
        "<title>Aftersales context map (generated by scripts/context_map.py from the imports)</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#5a6572"/></marker>'
        '<marker id="bad" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#c0392b"/></marker></defs>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    for name in sorted(nodes):
        x, y = where[name]
        label = ROOTS.get(name) or PLUMBING.get(name) or SHARED.get(name) or "bounded context"
        fill = "#fdf2e3" if name in ROOTS else ("#eef2f7" if name in PLUMBING else "#e6f4ea")
        out.append(
            f'<g><rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" '
            f'stroke="#4a5568"/><text x="{x + BOX_W / 2:.1f}" y="{y + 18:.1f}" text-anchor="middle" '
            f'font-weight="bold">{escape(name)}</text><text x="{x + BOX_W / 2:.1f}" y="{y + 34:.1f}" '
            f'text-anchor="middle" font-size="10" fill="#4a5568">{escape(label)}</text></g>'
        )
    for source in sorted(graph):
        if source in ROOTS:
            continue
        for target in sorted(graph[source]):
            if target in PLUMBING and source not in PLUMBING:
                continue
            (sx, sy), (tx, ty) = where[source], where[target]
            x1, y1, x2, y2 = sx + BOX_W / 2, sy + BOX_H, tx + BOX_W / 2, ty
            if ty <= sy:  # same row or upwards: only inside a cycle
                x1, x2 = (sx + BOX_W, tx) if tx > sx else (sx, tx + BOX_W)
                y1 = y2 = sy + BOX_H / 2 + (5 if source < target else -5)
            bad = (source, target) in in_cycle
            colour, marker = ("#c0392b", "bad") if bad else ("#8a94a1", "arrow")
            out.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                f'stroke-width="{1.6 if bad else 1}" stroke-opacity="0.75" marker-end="url(#{marker})">'
                f"<title>{escape(source)} imports {escape(target)}</title></line>"
            )
    out.append(
        f'<text x="{MARGIN}" y="{height - 12:.0f}" font-size="10" fill="#4a5568">An arrow: the upper package '
        "imports the lower one. Green: bounded contexts (each also uses the grey plumbing); orange: composition "
        "roots (they import what they compose); red: a cycle.</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def current_svg(src: Path = SRC) -> str:
    return render_svg(edges(imports(src)), top_level_names(src))


def main(argv: list[str]) -> int:
    svg = current_svg()
    if "--check" in argv:
        if not SVG.exists() or SVG.read_text(encoding="utf-8") != svg:
            print(f"{SVG.relative_to(ROOT)} is stale: run `make context-map`", file=sys.stderr)
            return 1
        return 0
    SVG.write_text(svg, encoding="utf-8")
    for group in cycles(edges(imports())):
        print("cycle:", " <-> ".join(group))
    print(f"wrote {SVG.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
