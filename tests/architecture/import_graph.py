"""The package's import graph from its source (an AST walk, nothing imported).

An edge ``a -> b`` means module ``a`` imports ``b`` when it is loaded: at module
level, outside ``if TYPE_CHECKING:``. Imports inside functions are kept apart
(``deferred``) so a test can look at them too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "townsquare"
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class Graph:
    """Module name -> the package modules it imports, at load time and inside functions."""

    modules: dict[str, Path] = field(default_factory=dict)
    eager: dict[str, set[str]] = field(default_factory=dict)
    deferred: dict[str, set[tuple[str, int]]] = field(default_factory=dict)

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of the load-time graph with more than one module."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on: set[str] = set()
        out: list[list[str]] = []

        def visit(v: str) -> None:
            index[v] = low[v] = len(index)
            stack.append(v)
            on.add(v)
            for w in sorted(self.eager.get(v, ())):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    out.append(sorted(component))

        for module in sorted(self.modules):
            if module not in index:
                visit(module)
        return out


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(graph: Graph, current: str, is_package: bool, node: ast.ImportFrom) -> Iterator[str]:
    if node.level:
        base = current.split(".") if is_package else current.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith(PACKAGE):
        return
    for alias in node.names:
        submodule = f"{target}.{alias.name}"
        yield submodule if submodule in graph.modules else target


def _targets(graph: Graph, current: str, is_package: bool, node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.startswith(PACKAGE):
                yield alias.name
    elif isinstance(node, ast.ImportFrom):
        yield from _resolve(graph, current, is_package, node)


def _with_parents(name: str, graph: Graph) -> set[str]:
    """Importing ``a.b.c`` loads ``a`` and ``a.b`` first."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & graph.modules.keys()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk_module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run when the module loads (not in functions, not under TYPE_CHECKING)."""
    for node in body:
        if isinstance(node, ast.If):
            if _is_type_checking(node):
                yield from _walk_module_level(node.orelse)
                continue
            yield from _walk_module_level(node.body)
            yield from _walk_module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody,
                          *(h.body for h in node.handlers)):
                yield from _walk_module_level(block)
        elif isinstance(node, ast.ClassDef | ast.With):
            yield from _walk_module_level(node.body)
        else:
            yield node


def build(src: Path = SRC) -> Graph:
    """The import graph of every module under ``src/townsquare``."""
    graph = Graph()
    for path in sorted((src / PACKAGE).rglob("*.py")):
        graph.modules[module_name(path, src)] = path
    for module, path in graph.modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        eager: set[str] = set()
        own_parents = _with_parents(module, graph) - {module}
        for node in _walk_module_level(tree.body):
            for target in _targets(graph, module, is_package, node):
                # a module's own packages are loaded before it, unless it names them
                eager |= (_with_parents(target, graph) - own_parents) | {target}
        deferred: set[tuple[str, int]] = set()
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(func):
                    for target in _targets(graph, module, is_package, node):
                        if target in graph.modules or _with_parents(target, graph):
                            deferred.add((target, node.lineno))
        graph.eager[module] = (eager & graph.modules.keys()) - {module}
        graph.deferred[module] = deferred
    return graph


if __name__ == "__main__":
    g = build()
    for c in g.cycles():
        print(len(c), c)
    n = sum(len(v) for v in g.deferred.values())
    print("deferred imports:", n)
