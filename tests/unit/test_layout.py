"""The package's layout rules, checked on the source: no import cycles between modules, the
layers never import a feature, and no two packages share a name.

Layers (``text``, ``labels``, ``sources``, ``spark``, ``runtime``, ``config``) are what the
features (``ingest``, ``clean``, ``dedup``, ``score``, ``select``, ``rebalance``, ``drift``,
``export``, ``report``, ``reviews``, ``inspect``) are built from; a layer that imported a feature would make the
features' order of import, and what a reader must read first, circular. A feature's
``settings`` module is the one exception: it only declares that feature's configuration, so
the root settings model composes it and the layers that implement the feature read it.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "libs" / "refinery"
LAYERS = ("text", "labels", "sources", "spark", "runtime", "config")
FEATURES = (
    "ingest",
    "clean",
    "dedup",
    "score",
    "select",
    "rebalance",
    "drift",
    "export",
    "report",
    "reviews",
    "inspect",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The ``refinery`` modules ``path`` imports anywhere (a deferred import inside a function
    still ties the two modules together), except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("refinery"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("refinery"):
            found.add(node.module)
            # `from refinery.text import pii` imports the module refinery.text.pii
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_module_import_cycles():
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_layers_do_not_import_features():
    wrong = []
    for name, targets in graph().items():
        layer = name.split(".")[1] if name.count(".") else ""
        if layer not in LAYERS:
            continue
        for target in targets:
            parts = target.split(".")
            if len(parts) > 1 and parts[1] in FEATURES:
                if parts[-1] == "settings":
                    continue  # declarations only (module docstring)
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_every_top_level_folder_is_a_layer_or_a_feature():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(LAYERS) | set(FEATURES)


def test_no_two_packages_share_a_name():
    names = Counter(p.parent.name for p in PACKAGE.rglob("__init__.py"))
    assert [name for name, n in names.items() if n > 1] == []
