"""The package's shape: each layer imports only the layers below it, no module imports itself back
through others, and no module uses another's private names. Every import counts, those inside
functions too, read from the source (nothing is imported to check it)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "anpr_ocr"

# The layers, lowest first. A module may import its own layer and the layers of lower rank; reader and
# detector share a rank and do not import each other. The package's __init__ and __main__ sit on top.
LAYERS = {"core": 0, "reader": 1, "detector": 1, "pipeline": 2, "video": 3, "train": 4, "research": 5, "report": 6,
          "cli": 7}
TOP = 8


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported anpr_ocr module, names taken from it, line) for every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "anpr_ocr"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "anpr_ocr":
                continue
            for alias in node.names:  # `from .. import core` imports the module anpr_ocr.core
                sub = f"{module}.{alias.name}"
                found.append((sub, [], node.lineno) if sub in MODULES else (module, [alias.name], node.lineno))
    return found


def _rank(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 and parts[1] in LAYERS else TOP


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_every_folder_is_a_layer_and_every_module_sits_in_one():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(LAYERS), f"place each new folder in LAYERS (tests/test_layers.py): {folders ^ set(LAYERS)}"
    loose = {name for name in MODULES if _layer(name) is None}
    assert loose == {"anpr_ocr", "anpr_ocr.__main__"}, loose


def test_layer_packages_import_nothing():
    """A layer's __init__ holds its docstring only, so importing one module of a layer loads no other."""
    for layer in LAYERS:
        assert GRAPH[f"anpr_ocr.{layer}"] == [], layer


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for name, imports in GRAPH.items():
        for target, _, line in imports:
            if target not in MODULES:
                wrong.append(f"{name}:{line} imports {target}, which is no module of anpr_ocr")
            elif _layer(target) != _layer(name) and _rank(target) >= _rank(name):
                wrong.append(f"{name}:{line} ({_layer(name)}) imports {target} ({_layer(target)})")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_itself_back():
    edges = {name: sorted({t for t, _, _ in imports if t in MODULES}) for name, imports in GRAPH.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in edges[node]:
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt):] + [node, nxt]) if nxt in path else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for name in edges:
        if name not in state:
            visit(name, [])
    assert not cycles, "\n".join(cycles)


def test_no_private_name_crosses_a_module():
    crossing = []
    for name, imports in GRAPH.items():
        for target, names, line in imports:
            crossing += [f"{name}:{line} imports {target}.{n}" for n in names if n.startswith("_")]
        tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
        modules = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   for a in node.names if (node.level or (node.module or "").startswith("anpr_ocr"))}
        crossing += [f"{name}:{node.lineno} uses {node.value.id}.{node.attr}" for node in ast.walk(tree)
                     if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                     and node.value.id in modules and node.attr.startswith("_") and not node.attr.startswith("__")]
    assert not crossing, "\n".join(crossing)


def test_the_walk_sees_imports_inside_functions_and_relative_ones():
    """The checks above would pass vacuously if the walk missed imports: it finds known ones."""
    pipeline = {t for t, _, _ in GRAPH["anpr_ocr.pipeline.read"]}
    assert {"anpr_ocr.reader.predict", "anpr_ocr.detector.net", "anpr_ocr.core.images"} <= pipeline
    inside = {t for t, _, _ in GRAPH["anpr_ocr.reader.loader"]}
    assert "anpr_ocr.reader.onnx_backend" in inside  # imported inside _onnx_reader
    assert ("anpr_ocr.core.metrics", [], ) == GRAPH["anpr_ocr.research.evaluate"][0][:2]


def test_every_imported_name_exists():
    """Imports inside functions run only when the function does: each name they take must be there."""
    import importlib

    missing = [f"{name}:{line} imports {target}.{n}" for name, imports in GRAPH.items()
               for target, names, line in imports for n in names
               if target in MODULES and not hasattr(importlib.import_module(target), n)]
    assert not missing, "\n".join(missing)
