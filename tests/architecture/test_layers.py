"""The package's layers: imports point down, never up, and no import closes a cycle.

The graph comes from the source (tests/architecture/import_graph.py, an AST walk):
an edge is an import at module level (outside ``if TYPE_CHECKING:``) or inside a
function. Function-level imports are allowed only where they keep a short command
from loading a heavy library (the CLI, an environment's build, the classic
models' compiled kernels); adding their edges to the graph must leave it acyclic,
so none of them exists to break a cycle.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from import_graph import PACKAGE, Graph, build

# lowest first; a module belongs to the layer of its longest matching prefix
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("core",)),
    ("foundation", ("errors", "rng", "arrays", "phases", "cache_dir", "wording",
                    "scenario_types", "scenario_files", "scenarios", "schedules",
                    "checkpoint")),
    ("agents and graph", ("population", "network")),
    ("store", ("store", "digest")),
    ("in-run measures", ("measure",)),
    ("social platform and classic models", ("environments", "environments.social",
                                             "environments.contagion",
                                             "environments.measures")),
    ("shared behaviour", ("behavior",)),
    ("social LLM minds", ("environments.social.llm",)),
    ("environments on the platform", ("environments.market", "environments.commons",
                                      "environments.election", "environments.builtin")),
    ("distributed minds", ("distributed",)),
    ("scenario", ("scenario", "scenario_errors", "trust")),
    ("run", ("world", "interview", "engine", "run", "clone", "measure.summary",
             "measure.cascades", "measure.recorded_cascades")),
    ("studies and views", ("experiments", "report", "reference", "scenario_template", "cli")),
]


def layer_of(module: str) -> int:
    """Index in LAYERS of the longest prefix matching ``module`` (the package root: top)."""
    name = module.removeprefix(f"{PACKAGE}.")
    best, depth = len(LAYERS), -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and prefix.count(".") > depth:
                best, depth = index, prefix.count(".")
    return best


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build()


def test_no_import_cycle_at_module_level(graph: Graph) -> None:
    assert graph.cycles() == []


def test_no_import_inside_a_function_closes_a_cycle(graph: Graph) -> None:
    full = Graph(graph.modules, {m: set(t) for m, t in graph.eager.items()}, graph.deferred)
    for module, targets in graph.deferred.items():
        full.eager[module] |= {target for target, _ in targets if target in graph.modules}
    assert full.cycles() == []


def test_every_module_has_a_layer(graph: Graph) -> None:
    unplaced = [m for m in graph.modules if m != PACKAGE and layer_of(m) == len(LAYERS)]
    assert unplaced == []


def test_imports_point_down_the_layers(graph: Graph) -> None:
    upward = []
    for module in graph.modules:
        if module == PACKAGE:  # the root only names the public classes, lazily
            continue
        edges = graph.eager[module] | {t for t, _ in graph.deferred[module]}
        for target in edges:
            if target != PACKAGE and layer_of(target) > layer_of(module):
                upward.append(f"{module} ({LAYERS[layer_of(module)][0]}) -> {target} "
                              f"({LAYERS[layer_of(target)][0]})")
    assert sorted(upward) == []


def test_core_imports_nothing_else_from_the_package(graph: Graph) -> None:
    for module in graph.modules:
        if layer_of(module) == 0:
            others = {t for t in graph.eager[module] | {t for t, _ in graph.deferred[module]}
                      if layer_of(t) != 0}
            assert others == set(), module


def test_the_check_sees_a_cycle(tmp_path: Path) -> None:
    """The walk is not blind: two modules importing each other are a cycle."""
    package = tmp_path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from townsquare.b import y\nx = 1\n")
    (package / "b.py").write_text("def f():\n    from townsquare import a\ny = 2\n")
    found = build(tmp_path)
    assert found.cycles() == []
    assert found.deferred["townsquare.b"] == {("townsquare.a", 2)}
    (package / "b.py").write_text("from townsquare.a import x\ny = 2\n")
    assert build(tmp_path).cycles() == [["townsquare.a", "townsquare.b"]]


IMPORT_ALL = """
import importlib, json, sys
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:  # an optional library (ray, psycopg) is not installed
        if exc.name and exc.name.split(".")[0] == "townsquare":
            failed[name] = repr(exc)
    except Exception as exc:
        failed[name] = repr(exc)
print(json.dumps(failed))
"""


@pytest.mark.parametrize("order", ["sorted", pytest.param("reversed", marks=pytest.mark.slow)])
def test_every_module_imports_in_a_fresh_interpreter(graph: Graph, order: str) -> None:
    """Importing every module, in a fixed order, in a new interpreter: nothing half-loaded."""
    names = sorted(m for m in graph.modules if not m.endswith("__main__"))  # that one runs
    if order == "reversed":
        names.reverse()
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL, *names], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {}


def test_no_module_imports_another_modules_private_names(graph: Graph) -> None:
    """``from townsquare.x import _name`` reaches into x's implementation: share it publicly."""
    private = []
    for module, path in graph.modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
                private += [f"{module}: {node.module}.{alias.name}" for alias in node.names
                            if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert private == []


NAMEDTUPLE_API = frozenset({"_replace", "_asdict", "_fields", "_make"})
"""Underscored by convention only: the public methods of every namedtuple."""


def _own_names(tree: ast.AST) -> set[str]:
    """Names a module defines itself: functions, classes, and what it assigns or binds."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
    return own


def reached_private_members(tree: ast.AST) -> list[str]:
    """``obj._name`` where ``obj`` is not ``self``/``cls`` and the module never defines
    ``_name`` itself: a reach into another module's implementation."""
    own = _own_names(tree) | NAMEDTUPLE_API
    return [f"{node.lineno}: {ast.unparse(node)}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr.startswith("_")
            and not node.attr.startswith("__") and node.attr not in own
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))]


def test_no_module_reaches_into_another_modules_private_members(graph: Graph) -> None:
    """``other._state`` outside the module that defines ``_state``: give it a public name."""
    reached = []
    for module, path in graph.modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reached += [f"{module}:{where}" for where in reached_private_members(tree)]
    assert reached == []


def test_the_private_member_check_sees_a_reach_in() -> None:
    inside = "class A:\n    def f(self, other):\n        return self._x + other._x\n" \
             "    def g(self):\n        self._x = 1\n"
    assert reached_private_members(ast.parse(inside)) == []
    outside = "def f(behavior):\n    return behavior._loop.run(behavior._step)\n"
    assert sorted(reached_private_members(ast.parse(outside))) == ["2: behavior._loop",
                                                                  "2: behavior._step"]
