"""Sweeps: the results table, common random numbers, and resuming after a kill."""

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

from statcheck import assert_paired_above
from townsquare.errors import UserError
from townsquare.experiments import Sweep, summarize_sweep
from townsquare.experiments.sweep import is_complete, load_results
from townsquare.scenario import Scenario

PARAMS = {"platform.moderation.strategy": ["none", "fact_check"],
          "behavior.engage_rate": [0.04, 0.08, 0.12]}


def tiny(agents: int = 200, steps: int = 4) -> Scenario:
    return Scenario.load("default").with_overrides({"population.size": agents, "steps": steps})


def test_results_table_and_common_random_numbers(tmp_path: Path) -> None:
    params = {"behavior.engage_rate": [0.02, 0.2]}
    results = Sweep(tiny(), params, replicates=5, workers=1, out=tmp_path / "s").run()
    assert len(results) == 10
    assert list(results.columns[:5]) == ["run_id", "arm", "param_behavior_engage_rate",
                                         "replicate", "seed"]
    assert results["run_id"].tolist() == [f"{arm}-r{r}" for arm in (0, 1) for r in range(5)]
    assert {"largest_cascade", "reach_rumour", "final_believers_rumour"} <= set(results.columns)
    # common random numbers: one seed per replicate, the same in every arm
    seeds = results.pivot(index="replicate", columns="arm", values="seed")
    assert (seeds[0] == seeds[1]).all() and seeds[0].nunique() == 5
    # more engagement spreads further: paired by replicate, on the log scale of the counts
    reach = np.log1p(results.pivot(index="replicate", columns="arm", values="total_reposts"))
    assert_paired_above(reach[1].to_numpy(), reach[0].to_numpy())
    assert (tmp_path / "s" / "results.parquet").is_file()
    assert load_results(tmp_path / "s").equals(pd.read_parquet(tmp_path / "s/results.parquet"))
    # the same plan elsewhere reproduces every measure exactly (wall time aside)
    again = Sweep(tiny(), params, replicates=5, workers=1, out=tmp_path / "t").run()
    measures = [c for c in results.columns if c != "wall_seconds"]
    pd.testing.assert_frame_equal(results[measures], again[measures])


def test_partial_sweep_resumes_without_redoing_runs(tmp_path: Path) -> None:
    params = {"behavior.engage_rate": [0.05, 0.1]}
    sweep = Sweep(tiny(), params, replicates=3, workers=1, out=tmp_path / "s")
    first = sweep.run(max_runs=3)
    assert len(first) == 3 and len(sweep.pending()) == 3
    stamps = {r: (tmp_path / "s" / r / "run.sqlite").stat().st_mtime_ns for r in first.run_id}
    # a run that was killed half-way leaves a folder that is not complete: it is redone
    broken = Path(sweep.pending()[0].run_dir)
    broken.mkdir()
    (broken / "run.sqlite").write_bytes(b"not a database")
    assert not is_complete(broken)
    calls: list[tuple[int, int]] = []
    full = sweep.run(progress=lambda done, total: calls.append((done, total)))
    assert len(full) == 6 and sweep.pending() == []
    assert calls == [(4, 6), (5, 6), (6, 6)]
    for run_id, stamp in stamps.items():
        assert (tmp_path / "s" / run_id / "run.sqlite").stat().st_mtime_ns == stamp
    assert is_complete(broken)
    # more replicates later: only the new ones run, old seeds stay
    more = Sweep(tiny(), params, replicates=4, workers=1, out=tmp_path / "s").run()
    assert len(more) == 8
    assert more[more.replicate < 3]["seed"].tolist() == full["seed"].tolist()


def test_mismatched_or_invalid_sweeps_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "s"
    Sweep(tiny(), {"steps": [2]}, replicates=2, workers=1, out=out).run()
    with pytest.raises(UserError, match="holds a different sweep"):
        Sweep(tiny(), {"steps": [3]}, replicates=2, workers=1, out=out).run()
    with pytest.raises(UserError, match="holds a different sweep"):
        Sweep(tiny(), {"steps": [2]}, replicates=2, workers=1, out=out, seed=99).run()
    with pytest.raises(UserError, match="at least as many"):
        Sweep(tiny(), {"steps": [2]}, replicates=1, workers=1, out=out).run()
    with pytest.raises(UserError, match="bogus"):
        Sweep(tiny(), {"platform.moderation.strategy": ["bogus"]}, workers=1,
              out=tmp_path / "bad").run()
    assert not (tmp_path / "bad").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UserError, match="not a sweep folder"):
        Sweep(tiny(), {"steps": [2]}, workers=1, out=tmp_path / "other").run()
    with pytest.raises(UserError, match="workers must be at least 1"):
        Sweep(tiny(), {"steps": [2]}, workers=0, out=tmp_path / "w")


def completed(folder: Path) -> dict[str, tuple[int, int]]:
    """run id -> (inode, mtime) fingerprint of every completed run in a sweep folder."""
    out = {}
    for run_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if is_complete(run_dir):
            stat = (run_dir / "run.sqlite").stat()
            out[run_dir.name] = (stat.st_ino, stat.st_mtime_ns)
    return out


@pytest.mark.slow  # 60 runs in subprocesses, ~35 s
def test_killed_parallel_sweep_resumes_to_sixty_runs_with_intervals(tmp_path: Path) -> None:
    """Acceptance: 2 parameters x 3 values x 10 replicates, killed part-way, resumed."""
    out = tmp_path / "sweep"
    argv = [sys.executable, "-m", "townsquare.cli", "sweep", "default",
            "--param", "platform.moderation.strategy=none,fact_check",
            "--param", "behavior.engage_rate=0.04,0.08,0.12",
            "--replicates", "10", "--agents", "300", "--steps", "5", "--workers", "2",
            "--out", str(out), "--quiet"]
    process = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if out.is_dir() and len(completed(out)) >= 12:
                break
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()
        os.killpg(process.pid, signal.SIGKILL)  # the CLI and its workers, mid-flight
    finally:
        process.wait(timeout=60)
    before = completed(out)
    assert 12 <= len(before) < 60
    assert len([p for p in out.iterdir() if p.is_dir()]) >= len(before)

    sweep = Sweep(tiny(300, 5), {"platform.moderation.strategy": ["none", "fact_check"],
                                 "behavior.engage_rate": [0.04, 0.08, 0.12]},
                  replicates=10, workers=2, out=out, seed=7)
    results = sweep.run()
    assert len(results) == 60 and results["run_id"].is_unique
    after = completed(out)
    assert len(after) == 60
    for run_id, fingerprint in before.items():
        assert after[run_id] == fingerprint, f"finished run {run_id} was redone"

    summary = summarize_sweep(results, ["reach_rumour", "total_reposts"])
    assert len(summary) == 12 and (summary["n"] == 10).all()
    assert np.isfinite(summary[["ci_low", "ci_high"]]).all().all()
    assert (summary["ci_low"] <= summary["mean"]).all()
    assert (summary["mean"] <= summary["ci_high"]).all()
    assert (summary["ci_high"] > summary["ci_low"]).any()

