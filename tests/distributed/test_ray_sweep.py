"""Sweeps on Ray: the same results table as the local backend, resume, errors, the CLI."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from typer.testing import CliRunner

from townsquare.cli import app
from townsquare.errors import UserError
from townsquare.experiments import Sweep
from townsquare.experiments.executors import BACKENDS, make_executor
from townsquare.scenario import Scenario

PARAMS = {"platform.moderation.strategy": ["none", "fact_check"]}
WALL_CLOCK = ["wall_seconds"]


def tiny(agents: int = 300, steps: int = 5, **overrides: object) -> Scenario:
    values = {"population.size": agents, "steps": steps} | overrides
    return Scenario.load("default").with_overrides(values)


def test_the_ray_backend_is_registered_without_importing_ray() -> None:
    executor = make_executor("ray", workers=3, address="ray://head:10001")
    assert type(executor).__name__ == "RayExecutor"
    assert (executor.address, executor.workers) == ("ray://head:10001", 3)  # type: ignore[attr-defined]
    assert "ray" in BACKENDS
    with pytest.raises(UserError, match="unknown backend 'dask'; known: local, ray"):
        make_executor("dask")


def test_without_ray_the_backend_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(UserError, match=r"needs Ray: pip install 'townsquare\[ray\]'"):
        list(make_executor("ray").map(str, [1, 2]))


def test_ray_sweep_gives_the_local_results_table(ray_local: ModuleType, tmp_path: Path) -> None:
    local = Sweep(tiny(), PARAMS, replicates=3, workers=1, out=tmp_path / "local").run()
    on_ray = Sweep(tiny(), PARAMS, replicates=3, out=tmp_path / "ray",
                   executor=make_executor("ray", workers=2)).run()
    assert len(local) == 6 and local["seed"].nunique() == 3
    measures = [c for c in local.columns if c not in WALL_CLOCK]
    assert {"largest_cascade", "reach_rumour", "total_posts"} <= set(measures)
    pd.testing.assert_frame_equal(local[measures], on_ray[measures])
    # the runs really differ between arms and replicates: equality is not trivial
    assert local["total_engagement"].nunique() > 1


def test_ray_sweep_resumes_only_the_missing_runs(ray_local: ModuleType, tmp_path: Path) -> None:
    sweep = Sweep(tiny(200, 3), PARAMS, replicates=2, out=tmp_path / "s",
                  executor=make_executor("ray", workers=2))
    first = sweep.run(max_runs=2)
    assert len(first) == 2 and len(sweep.pending()) == 2
    stamps = {r: (tmp_path / "s" / r / "run.sqlite").stat().st_mtime_ns for r in first.run_id}
    done: list[tuple[int, int]] = []
    full = sweep.run(progress=lambda n, total: done.append((n, total)))
    assert len(full) == 4 and sweep.pending() == []
    assert sorted(done) == [(3, 4), (4, 4)]
    for run_id, stamp in stamps.items():
        assert (tmp_path / "s" / run_id / "run.sqlite").stat().st_mtime_ns == stamp


def test_a_failing_run_raises_its_user_error(ray_local: ModuleType, tmp_path: Path) -> None:
    broken = tiny(network={"kind": "edgelist", "path": str(tmp_path / "missing.csv")})
    sweep = Sweep(broken, {"behavior.engage_rate": [0.05, 0.1]}, out=tmp_path / "s",
                  executor=make_executor("ray", workers=1))
    with pytest.raises(UserError, match=r"sweep run 0-r0: .*missing\.csv"):
        sweep.run()
    assert len(sweep.pending()) == 2  # nothing completed; a rerun starts over


def test_cli_sweep_with_backend_ray(ray_local: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, [
        "sweep", "default", "-p", "behavior.engage_rate=0.05,0.1", "--replicates", "2",
        "--agents", "200", "--steps", "3", "--backend", "ray", "--workers", "2",
        "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    results = pd.read_parquet(out / "results.parquet")
    assert len(results) == 4
    local = Sweep(tiny(200, 3), {"behavior.engage_rate": [0.05, 0.1]}, replicates=2, workers=1,
                  out=tmp_path / "local").run()
    measures = [c for c in local.columns if c not in WALL_CLOCK]
    pd.testing.assert_frame_equal(local[measures], results[measures])
