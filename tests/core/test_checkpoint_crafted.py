"""A crafted checkpoint is refused as 'damaged'; a planted store URL is ignored (#20)."""

from __future__ import annotations

import io
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from townsquare import Scenario, Simulation
from townsquare.checkpoint import CHECKPOINT_FILE, load_checkpoint, save_checkpoint
from townsquare.engine import RunInterrupted
from townsquare.errors import StoreError


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run stopped by Ctrl-C after step 1, with its checkpoint (a completed run keeps none)."""
    out = tmp_path_factory.mktemp("runs")
    scenario = Scenario.load("default").with_overrides(
        {"population.size": 150, "steps": 4, "checkpoint_every": 2, "output_dir": str(out)})
    sim = Simulation(scenario)

    def interrupt(step: int, metrics: dict[str, float]) -> None:
        if step == 1:
            signal.raise_signal(signal.SIGINT)

    with pytest.raises(RunInterrupted):
        sim.run(on_step=interrupt)
    with sqlite3.connect(sim.run_dir / "run.sqlite") as conn:
        status = conn.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()[0]
    assert status == "interrupted" and (sim.run_dir / CHECKPOINT_FILE).is_file()
    return sim.run_dir


def _copy(stopped: Path, tmp_path: Path) -> Path:
    run = tmp_path / stopped.name
    shutil.copytree(stopped, run)
    return run


def _edit(run: Path, change: Callable[[dict], None]) -> None:
    step, state = load_checkpoint(run)
    change(state)
    save_checkpoint(run, step, state)


def _rewrite(run: Path, doc_change: Callable[[dict], None] | None = None,
             extra: dict[str, bytes] | None = None) -> None:
    """Rewrite state.json and/or members, keeping the rest of the archive."""
    path = run / CHECKPOINT_FILE
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    doc = json.loads(members["state.json"])
    if doc_change:
        doc_change(doc)
    members["state.json"] = json.dumps(doc).encode()
    members |= extra or {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _first_array(doc: dict) -> str:
    return doc["state"]["__dict__"]["environment"]["__dict__"]["agents"]["__dict__"][
        "valence"]["__array__"]


def _huge(run: Path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(2**24))  # 128 MiB, compresses to ~130 KB
    key: list[str] = []
    _rewrite(run, lambda doc: key.append(_first_array(doc)))
    _rewrite(run, extra={f"{key[0]}.npy": buffer.getvalue()})


def _set(path: list[str], value: object) -> Callable[[dict], None]:
    def change(state: dict) -> None:
        node = state
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def _drop(path: list[str]) -> Callable[[dict], None]:
    def change(state: dict) -> None:
        node = state
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return change


CASES: dict[str, Callable[[Path], None]] = {
    "a 128 MiB array in a small file": _huge,
    "more agents than the run": lambda run: _edit(run, _set(
        ["environment", "agents", "valence"], np.zeros(151, np.float32))),
    "wrong second axis": lambda run: _edit(run, _set(
        ["environment", "agents", "attitude"], np.zeros((150, 3), np.float32))),
    "wrong dtype": lambda run: _edit(run, _set(
        ["environment", "agents", "valence"], np.zeros(150, np.float64))),
    "NaN": lambda run: _edit(run, _set(
        ["environment", "agents", "valence"], np.full(150, np.nan, np.float32))),
    "missing key": lambda run: _edit(run, _drop(["environment", "agents"])),
    "a scalar for a table": lambda run: _edit(run, _set(["environment", "graph"], 3)),
    "negative step": lambda run: _rewrite(run, _set(["step"], -1)),
    "a huge step": lambda run: _rewrite(run, _set(["step"], 10**9)),
    "the run's step count": lambda run: _rewrite(run, _set(["step"], 4)),
    "a text step": lambda run: _rewrite(run, _set(["step"], "x")),
    "a NaN step": lambda run: _rewrite(run, _set(["step"], float("nan"))),
    "no state": lambda run: _rewrite(run, _drop(["state"])),
    "state is a list": lambda run: _rewrite(run, _set(["state"], [1, 2])),
    "a bad dict node": lambda run: _rewrite(run, _set(["state"], {"__dict__": [1]})),
    "deeply nested JSON": lambda run: (run / CHECKPOINT_FILE).write_bytes(_zip_json(
        '{"format": 1, "step": 1, "state": ' + "[" * 100_000 + "]" * 100_000 + "}")),
    "not a zip": lambda run: (run / CHECKPOINT_FILE).write_bytes(b"PK\x03\x04garbage"),
    "a stream state of the wrong kind": lambda run: _edit(run, _set(
        ["streams", "network", "state", "state"], "x")),
}


def _zip_json(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("state.json", text)
    return buffer.getvalue()


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_crafted_checkpoint_is_refused(stopped: Path, tmp_path: Path, case: str) -> None:
    run = _copy(stopped, tmp_path)
    CASES[case](run)
    with pytest.raises(StoreError, match="the checkpoint is damaged"):
        Simulation.resume(run)


def test_the_cli_refuses_it_with_exit_2(stopped: Path, tmp_path: Path) -> None:
    run = _copy(stopped, tmp_path)
    _huge(run)
    done = subprocess.run([sys.executable, "-m", "townsquare.cli", "resume", str(run)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "the checkpoint is damaged" in done.stderr and "Traceback" not in done.stderr


def test_an_untouched_checkpoint_still_resumes(stopped: Path, tmp_path: Path) -> None:
    run = _copy(stopped, tmp_path)
    sim = Simulation.resume(run)
    assert sim.next_step == 2
    assert sim.run().meta()["status"] == "completed"


def test_a_planted_store_url_does_not_move_a_sqlite_run(stopped: Path, tmp_path: Path) -> None:
    run = _copy(stopped, tmp_path)
    with sqlite3.connect(run / "run.sqlite") as conn:
        (text,) = conn.execute("SELECT value FROM meta WHERE key = 'scenario_toml'").fetchone()
        conn.execute("UPDATE meta SET value = ? WHERE key = 'scenario_toml'",
                     ('store = "postgresql://attacker@127.0.0.1:9/x"\n' + text,))
    finished = Simulation.resume(run).run()  # no connection attempt: port 9 would refuse
    assert finished.meta()["status"] == "completed"
    assert finished.reader.path == run / "run.sqlite"
