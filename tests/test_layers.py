"""Imports point one way: every import in server/ (function-level ones included)
goes from a part to a part in a lower layer, never up, never sideways, never
round in a cycle; and the web layer neither speaks SQL nor writes.

The order is the one docs/architecture.md draws. A new part of server/ must be
placed in LAYERS before anything may import it. Migrations are left out: alembic
runs them apart from the app, and their env.py reads every table from the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "server"

# Top to bottom. Parts in one layer may not import each other, except in the
# last: the small modules everything may use, which must only not form a cycle.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),
    ("demo",),
    ("models", "onboarding"),
    ("web",),
    ("services", "privacy", "merging"),
    ("exports",),
    ("proactive",),
    ("bots",),
    ("conversations",),
    ("tracking",),
    ("contacts", "accounts"),
    ("channels",),
    ("sites",),
    ("realtime",),
    ("db",),
    (
        "scheduler",
        "outgoing",
        "protocol",
        "config",
        "tokens",
        "operators",
        "patterns",
        "untrusted",
        "errors",
        "ids",
    ),
)
RANK = {part: rank for rank, layer in enumerate(LAYERS) for part in layer}
BASE = len(LAYERS) - 1


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(SERVER.rglob("*.py")):
        rel = path.relative_to(SERVER)
        if rel.parts[0] == "db" and "migrations" in rel.parts:
            continue
        yield ".".join(("server", *rel.with_suffix("").parts)).removesuffix(".__init__"), path


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every server module this file imports, anywhere in it, with the line."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            if base == "server":  # from server import errors: each name is a module
                for alias in node.names:
                    yield f"server.{alias.name}", node.lineno
            else:
                yield base, node.lineno


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "server" and len(parts) > 1 else None


def _graph() -> dict[str, list[tuple[str, int]]]:
    graph: dict[str, list[tuple[str, int]]] = {}
    for module, path in _modules():
        graph[module] = [(name, line) for name, line in _imports(module, path) if _part(name)]
    return graph


def test_every_part_has_a_place_in_the_order() -> None:
    parts = {_part(module) for module, _ in _modules()} - {None}
    assert parts - set(RANK) == set(), "add new parts of server/ to LAYERS (and the docs' diagram)"
    assert set(RANK) - parts == set(), "LAYERS names parts that are gone"


def test_no_import_points_up_or_sideways() -> None:
    wrong = []
    for module, imported in _graph().items():
        mine = _part(module)
        if mine is None:  # server/__init__.py
            continue
        for name, line in imported:
            theirs = _part(name)
            if theirs is None or theirs == mine:
                continue
            if RANK[theirs] < RANK[mine] or (RANK[theirs] == RANK[mine] and RANK[mine] != BASE):
                wrong.append(f"{module}:{line} imports {name} ({mine} may not import {theirs})")
    assert wrong == []


def test_no_import_cycles_between_parts_or_modules() -> None:
    """Between parts (the base layer included) and between the modules of any part."""
    graph = _graph()
    edges: dict[str, set[str]] = {}
    for module, imported in graph.items():
        for name, _ in imported:
            target = name if name in graph else name.rpartition(".")[0]
            if target in graph and target != module:
                edges.setdefault(module, set()).add(target)
                mine, theirs = _part(module), _part(target)
                if mine != theirs:
                    edges.setdefault(f"part:{mine}", set()).add(f"part:{theirs}")
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            found = visit(nxt)
            if found:
                return found
        path.pop()
        done.add(node)
        return None

    for start in sorted(edges):
        cycle = visit(start)
        assert cycle is None, " -> ".join(cycle)


def test_the_web_layer_runs_no_sql_and_writes_nothing() -> None:
    """Routes call actions: they neither import SQLAlchemy nor open a write transaction."""
    offenders = []
    for module, path in _modules():
        if _part(module) != "web":
            continue
        for name, line in _imports(module, path):
            if name.split(".")[0] in ("sqlalchemy", "sqlmodel"):
                offenders.append(f"{module}:{line} imports {name}")
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "db.write" in text:
                offenders.append(f"{module}:{number} writes: {text.strip()}")
    assert offenders == []


def test_the_check_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    """The reader itself: an import inside a function, and a relative one, are found."""
    source = tmp_path / "store.py"
    source.write_text(
        "def f():\n    from server.web import app\n\nfrom . import models\nfrom server import errors\n"
    )
    found = {name for name, _ in _imports("server.sites.store", source)}
    assert found == {"server.web", "server.sites", "server.errors"}
