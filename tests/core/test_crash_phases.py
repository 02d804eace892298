"""A run killed (SIGKILL) at every phase boundary resumes to identical tables or is refused (#20).

The kill is deterministic: ``TOWNSQUARE_TEST_KILL_AT=<phase>`` makes the run kill
itself at that point (see townsquare.phases), so each boundary is tested exactly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from townsquare import Run, Scenario, Simulation
from townsquare.phases import KILL_ENV, PHASES
from townsquare.store import SqliteRunReader
from townsquare.store.schema import TABLES as TABLES_SCHEMA

TABLES = ("agents", "edges", "events", "posts", "metrics", "labels", "surveys", "interventions",
          "attitudes", "exposures", "steps")


def scenario(out: Path) -> Scenario:
    return Scenario.load("default").with_overrides({
        "population.size": 400, "steps": 6, "seed": 11, "output_dir": str(out),
        "checkpoint_every": 2,
        "interventions": [{"kind": "debunk", "news": "rumour", "when": {"start": 1, "every": 2},
                           "target": {"share": 0.2}}],
        "surveys": [{"id": "s", "steps": [1, 4], "sample": 50, "questions": [
            {"id": "b", "text": "?", "measures": "belief", "news": "rumour"}]}],
    })


def tables(run: Run) -> dict[str, pd.DataFrame]:
    columns = {"steps": "step"}  # written_at is a wall-clock time
    order = run.reader.insertion_order
    return {t: run.reader.query(f"SELECT {columns.get(t, '*')} FROM {t} ORDER BY {order(t)}")
            for t in TABLES}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    return tables(Simulation(scenario(tmp_path_factory.mktemp("ref"))).run())


def cli(*args: str, cwd: Path, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    if kill_at:
        env[KILL_ENV] = kill_at
    return subprocess.run([sys.executable, "-m", "townsquare.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("phase", PHASES)
def test_a_kill_at_each_phase_resumes_identically_or_is_refused(
        phase: str, tmp_path: Path, reference: dict[str, pd.DataFrame]) -> None:
    out = tmp_path / "runs"
    study = tmp_path / "study.toml"
    study.write_text(scenario(out).to_toml())
    killed = cli("run", str(study), "--quiet", cwd=tmp_path, kill_at=phase)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = cli("resume", "latest", "--runs", str(out), "--quiet", cwd=tmp_path)
    if phase == "folder":  # no database yet: nothing to resume, and nothing listed as a run
        assert resumed.returncode == 2 and "no runs" in resumed.stderr
        assert "Traceback" not in resumed.stderr
        assert cli("runs", "--runs", str(out), cwd=tmp_path).returncode == 0
        return
    if phase == "close":  # the run had finished
        assert resumed.returncode == 2 and "already completed" in resumed.stderr
    else:
        assert resumed.returncode == 0, resumed.stderr
    [run_dir] = [p for p in out.iterdir() if (p / "run.sqlite").exists()]
    with SqliteRunReader(run_dir) as reader:
        assert reader.meta()["status"] == "completed"
    got = tables(Run(run_dir))
    for name in TABLES:
        pd.testing.assert_frame_equal(got[name], reference[name], obj=f"{phase}: {name}")


def test_a_sigterm_after_the_last_step_finishes_the_run(tmp_path: Path) -> None:
    sim = Simulation(scenario(tmp_path / "runs").with_overrides({"steps": 3}))

    def stop_at_the_end(step: int, metrics: dict) -> None:
        if step == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    run = sim.run(on_step=stop_at_the_end)
    assert run.meta()["status"] == "completed"
    assert run.summary()  # the summary was written
    assert run.reader.last_step() == 2


def test_an_interrupted_run_is_indexed_already_so_stopping_builds_nothing(
        tmp_path: Path) -> None:
    """The indexes are made with the tables and kept by the writer as rows arrive, so a
    stop (and the close of a finished run) has no index to build (a stopped 1M-agent run
    used to spend minutes building them)."""
    sim = Simulation(scenario(tmp_path / "runs"))

    def stop(step: int, metrics: dict) -> None:
        if step == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(Exception, match="stopped after step 1"):
        sim.run(on_step=stop)
    expected = {f"{table.name}_{'_'.join(cols)}" for table in TABLES_SCHEMA
                for cols in table.indexes}
    query = "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"
    with SqliteRunReader(sim.run_dir) as reader:
        assert reader.meta()["status"] == "interrupted"
        assert set(reader.query(query)["name"]) == expected
        plan = reader.query("EXPLAIN QUERY PLAN SELECT * FROM posts WHERE root = 1")
        snapshot = reader.query("EXPLAIN QUERY PLAN SELECT * FROM attitudes WHERE step = 1")
    assert plan["detail"].str.contains("posts_root").any()  # and queries use them
    assert snapshot["detail"].str.contains("PRIMARY KEY").any()  # a (step, ...) keyed table
    run = Simulation.resume(sim.run_dir).run()
    assert set(run.reader.query(query)["name"]) == expected
