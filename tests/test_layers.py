"""The package layers: the ground floor (`deepcorpus.core`) imports nothing else of the project, and no
two packages import each other, directly or through others. Read from the source with `ast`, so a lazy
import inside a function counts the same as one at the top of a file."""

from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("deepcorpus", "pipelines", "dedup", "classifiers", "formal", "model", "train", "interop", "evaluation", "posttrain")
GROUND = "deepcorpus.core"
# Bundled data with a path helper; it imports nothing and anything may read it.
DATA = "deepcorpus.samples"


def unit_of(module: str) -> str | None:
    """The layer a dotted module name belongs to, or None when it is not ours."""
    for sub in (GROUND, DATA):
        if module == sub or module.startswith(sub + "."):
            return sub
    top = module.split(".")[0]
    return top if top in PACKAGES else None


def _module_name(path: str) -> str:
    rel = os.path.relpath(path, ROOT)[: -len(".py")].split(os.sep)
    if rel[-1] == "__init__":
        rel = rel[:-1]
    return ".".join(rel)


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            out.add(name)
            out.update(f"{name}.{a.name}" for a in node.names)  # `from deepcorpus import core`
    return out


def import_graph() -> dict[str, dict[str, set[str]]]:
    """{unit: {imported unit: files that import it}} over every module of our packages."""
    graph: dict[str, dict[str, set[str]]] = {}
    for package in PACKAGES:
        for dirpath, dirnames, files in os.walk(os.path.join(ROOT, package)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for f in files:
                if not f.endswith(".py"):
                    continue
                path = os.path.join(dirpath, f)
                module = _module_name(path)
                here = unit_of(module)
                with open(path, encoding="utf-8") as fh:
                    tree = ast.parse(fh.read(), path)
                for name in _imported(tree, module, f == "__init__.py"):
                    there = unit_of(name)
                    # `from deepcorpus import core` names the ground floor, not the application
                    if there == "deepcorpus" and name in ("deepcorpus", "deepcorpus.__version__"):
                        continue
                    if there and there != here:
                        graph.setdefault(here, {}).setdefault(there, set()).add(os.path.relpath(path, ROOT))
    return graph


def _cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


def test_the_ground_floor_imports_nothing_above_it():
    above = {unit: sorted(files) for unit, files in import_graph().get(GROUND, {}).items()}
    assert not above, f"{GROUND} must import nothing else of the project: {above}"


def test_bundled_data_imports_nothing_of_the_project():
    assert not import_graph().get(DATA), import_graph()[DATA]


def test_no_import_cycle_between_packages():
    graph = import_graph()
    cycles = _cycles(graph)
    explained = [" -> ".join(c) + "  (" + "; ".join(
        f"{a}->{b}: {', '.join(sorted(graph[a][b])[:3])}" for a, b in zip(c, c[1:])) + ")" for c in cycles]
    assert not cycles, "import cycles between packages:\n" + "\n".join(explained)


def test_the_checker_sees_a_cycle_and_a_lazy_import():
    graph = {"a": {"b": {"a.py"}}, "b": {"a": {"b.py"}}}
    assert _cycles(graph) == [["a", "b", "a"]]
    tree = ast.parse("def f():\n    from deepcorpus.core import datasets\n")
    assert unit_of(next(iter(sorted(_imported(tree, "x.y", False))))) == GROUND
