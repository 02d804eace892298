"""Checkpoint and resume: a run killed at any moment resumes to the same event log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from townsquare import Run, Scenario, Simulation
from townsquare.checkpoint import CHECKPOINT_FILE, load_checkpoint, save_checkpoint
from townsquare.store import SqliteRunReader

STEPS = 14


def scenario(out: Path) -> Scenario:
    return Scenario.load("default").with_overrides({
        "population.size": 4000, "steps": STEPS, "seed": 5, "output_dir": str(out),
        "checkpoint_every": 2,
        "interventions": [{"kind": "debunk", "news": "rumour", "when": {"start": 3, "every": 4},
                           "target": {"share": 0.2}}],
        "surveys": [{"id": "s", "steps": [1, 9], "sample": 200, "questions": [
            {"id": "b", "text": "?", "measures": "belief", "news": "rumour"}]}],
    })


def logs(run: Run) -> dict[str, pd.DataFrame]:
    reader = run.reader
    return {table: reader.query(f"SELECT * FROM {table} ORDER BY {reader.insertion_order(table)}")
            for table in ("events", "posts", "metrics", "labels", "surveys", "interventions",
                          "attitudes", "exposures")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("reference")
    return logs(Simulation(scenario(out)).run())


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table], obj=table)


def start_run(out: Path, tmp: Path) -> subprocess.Popen[bytes]:
    path = tmp / "study.toml"
    path.write_text(scenario(out).to_toml())
    return subprocess.Popen([sys.executable, "-m", "townsquare.cli", "run", str(path),
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_step(out: Path, step: int, process: subprocess.Popen[bytes]) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        dirs = [p for p in out.glob("*") if (p / "run.sqlite").exists()]
        if dirs:
            try:
                with SqliteRunReader(dirs[0]) as reader:
                    last = reader.last_step()
            except Exception:
                last = None
            if last is not None and last >= step:
                return dirs[0]
        time.sleep(0.01)
    raise AssertionError("the run never reached the step to kill it at")


@pytest.mark.parametrize("kill_after", [0, 3, 6, 10])
def test_sigkill_then_resume_gives_the_same_final_log(
    tmp_path: Path, reference: dict[str, pd.DataFrame], kill_after: int
) -> None:
    out = tmp_path / "runs"
    process = start_run(out, tmp_path)
    run_dir = wait_for_step(out, kill_after, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert SqliteRunReader(run_dir).meta()["status"] == "running"  # died without closing
    resumed = Simulation.resume(run_dir).run()
    assert resumed.meta()["status"] == "completed"
    assert_same(reference, logs(resumed))


def test_sigterm_stops_cleanly_and_resume_finishes(
    tmp_path: Path, reference: dict[str, pd.DataFrame]
) -> None:
    out = tmp_path / "runs"
    process = start_run(out, tmp_path)
    run_dir = wait_for_step(out, 4, process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 130
    meta = SqliteRunReader(run_dir).meta()
    assert meta["status"] == "interrupted"
    assert meta["checkpoint_step"] == meta["last_step"]
    done = subprocess.run([sys.executable, "-m", "townsquare.cli", "resume", str(run_dir),
                           "--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert_same(reference, logs(Run(run_dir)))


def test_resuming_a_completed_run_is_refused(tmp_path: Path) -> None:
    run = Simulation(scenario(tmp_path).with_overrides({"steps": 2})).run()
    done = subprocess.run([sys.executable, "-m", "townsquare.cli", "resume", str(run.path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "already completed" in done.stderr


def test_checkpoint_round_trip_without_pickle(tmp_path: Path) -> None:
    tree = {"a": np.arange(5), "b": [1, "x", None, {"c": np.ones((2, 2), np.float32)}],
            "d": {1: "int key", "big": 2**100}, "text": ["one", None]}
    save_checkpoint(tmp_path, 7, tree)
    step, back = load_checkpoint(tmp_path)
    assert step == 7
    assert np.array_equal(back["a"], tree["a"]) and back["d"] == tree["d"]
    assert np.array_equal(back["b"][3]["c"], tree["b"][3]["c"]) and back["text"] == ["one", None]
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"garbage")
    from townsquare.errors import StoreError

    with pytest.raises(StoreError, match="damaged"):
        load_checkpoint(tmp_path)
