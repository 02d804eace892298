"""Shared fixtures: small finished runs to analyse (built once per test process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from townsquare.engine import Simulation
from townsquare.run import Run
from townsquare.scenario import Scenario


def small_scenario(folder: Path, **overrides: object) -> Scenario:
    """The default rumour scenario shrunk to a few hundred agents and steps."""
    settings = {"population.size": 600, "steps": 8, "snapshots.max_agents": 600,
                "output_dir": str(folder)} | overrides
    return Scenario.load("default").with_overrides(settings)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Query caches go to a temporary folder, not the user's ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def make_scenario() -> Callable[..., Scenario]:
    """``make_scenario(folder, **overrides)``: a small default scenario."""
    return small_scenario


@pytest.fixture(scope="session")
def runs_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with two finished runs of different seeds."""
    folder = tmp_path_factory.mktemp("runs")
    for seed in (1, 2):
        scenario = small_scenario(folder, seed=seed)
        Simulation(scenario, run_dir=folder / f"run-{seed}").run()
    return folder


@pytest.fixture(scope="session")
def small_run(runs_folder: Path) -> Run:
    return Run(runs_folder / "run-1")
