"""Short commands import nothing heavy ("fast start"): modules counted, not timed.

Each command runs in a fresh interpreter; afterwards the heavy libraries must be absent
from ``sys.modules`` — they are imported where a simulation, a table or a plot needs them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pandas", "scipy", "numba", "plotly", "duckdb", "networkx", "pyarrow")
PROBE = """
import json, sys
from townsquare.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded(args: list[str], cwd: Path) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found["code"] or 0, {name.split(".")[0] for name in found["modules"]}


@pytest.mark.parametrize(("args", "code"), [
    (["--help"], 0),
    (["--version"], 0),
    (["run", "nosuchscenario"], 2),
    (["run", "missing-file.toml"], 2),
    (["scenarios"], 0),
    (["scenarios", "--show", "default"], 0),
    (["validate", "default"], 0),
    (["init", "default", "-o", "-"], 0),
])
def test_short_commands_import_no_heavy_library(args: list[str], code: int,
                                                tmp_path: Path) -> None:
    exit_code, modules = loaded(args, tmp_path)
    assert exit_code == code
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_the_probe_sees_heavy_imports(tmp_path: Path) -> None:
    """The check can fail: a command that simulates does import them."""
    (tmp_path / "tiny.toml").write_text('steps = 1\n[population]\nsize = 50\n'
                                        '[network]\nkind = "erdos_renyi"\n')
    exit_code, modules = loaded(["run", "tiny.toml", "--quiet"], tmp_path)
    assert exit_code == 0
    assert {"pandas", "pyarrow"} <= modules
