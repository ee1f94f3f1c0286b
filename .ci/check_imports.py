#!/usr/bin/env python3
"""Imports run one way: no import cycle among the package's modules, counting
imports inside functions, and no lower layer importing a higher one.

Reads every module under src/venv_doctor with ``ast`` (nothing is imported),
prints each cycle and each upward import, and exits 1 when there is any.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "venv_doctor"

# Lowest first. A module may import its own layer and the layers below it, never
# one above. An entry names a top-level module or subpackage, or a module inside
# one (the most specific entry wins: the state DB sits below the rest of record/).
# A module no entry covers is reported, so a new one gets its place on purpose.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "paths", "fsutil", "render.sanitize", "render.words", "runner", "config"),
    ("model",),
    ("discover",),
    ("context",),
    ("interpreters", "diagnose"),
    ("record.state",),
    ("targets",),
    ("record", "check"),
    ("install",),
    ("repair", "guard"),
    ("notify", "render", "export"),
    ("daemon", "service"),
    ("cli", "__main__"),
)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted((root / PACKAGE).rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """The package's modules that ``name`` imports anywhere in its body, with line numbers."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _resolve(alias.name, known, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, is_package, node.module, node.level)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield from _resolve(full if full in known else base, known, node.lineno)


def _absolute(name: str, is_package: bool, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    parts = name.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([module] if module else [])])


def _resolve(target: str, known: set[str], line: int) -> Iterator[tuple[str, int]]:
    while target and target not in known:
        target = target.rpartition(".")[0]
    if target and target != PACKAGE:
        yield target, line


def graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    found = modules(root)
    known = set(found)
    edges: dict[str, dict[str, int]] = {}
    for name, path in found.items():
        edges[name] = {}
        for target, line in imported(name, path, known):
            if target != name:
                edges[name].setdefault(target, line)
    return edges


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def one_path(edges: dict[str, dict[str, int]], members: list[str]) -> list[str]:
    """A concrete loop through the component's first module, to show the reader."""
    start, inside = members[0], set(members)
    paths = {start: [start]}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for nxt in sorted(edges[node]):
            if nxt == start:
                return [*paths[node], start]
            if nxt in inside and nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                todo.append(nxt)
    return members


def layer_of(name: str) -> int | None:
    """The layer of the most specific LAYERS entry covering ``name``."""
    inner = name.split(".")[1:]
    for size in range(len(inner), 0, -1):
        key = ".".join(inner[:size])
        for number, layer in enumerate(LAYERS):
            if key in layer:
                return number
    return None


def upward(edges: dict[str, dict[str, int]]) -> list[str]:
    problems = []
    for name, targets in sorted(edges.items()):
        mine = layer_of(name)
        if name == PACKAGE:
            continue
        if mine is None:
            problems.append(f"{name}: in no layer (add it to LAYERS in .ci/check_imports.py)")
            continue
        for target, line in sorted(targets.items()):
            theirs = layer_of(target)
            if theirs is not None and theirs > mine:
                problems.append(f"{name}:{line} imports {target}, a higher layer")
    return problems


def main(argv: list[str]) -> int:
    """``check_imports.py [SRC]``: SRC is the directory holding venv_doctor/ (default: src)."""
    edges = graph(Path(argv[0]) if argv else ROOT)
    found = cycles(edges)
    for members in found:
        loop = one_path(edges, members)
        steps = " -> ".join(
            f"{a} (line {edges[a][b]})" for a, b in zip(loop, loop[1:], strict=False)
        )
        print(f"import cycle among {len(members)} modules: {steps} -> {loop[-1]}")
    problems = upward(edges)
    for problem in problems:
        print(f"import against the layers: {problem}")
    if found or problems:
        return 1
    print(f"imports: {len(edges)} modules, no cycle, no upward import")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
