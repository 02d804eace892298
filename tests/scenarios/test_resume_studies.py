"""Runs of the studies that carry extra state (retold texts, reply counters) resume exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from townsquare.engine import RunInterrupted, Simulation
from townsquare.run import Run
from townsquare.scenario import Scenario

TABLES = ("events", "posts", "metrics")


def logs(run: Run) -> dict[str, pd.DataFrame]:
    order = run.reader.insertion_order
    return {t: run.reader.query(f"SELECT * FROM {t} ORDER BY {order(t)}") for t in TABLES}


@pytest.mark.parametrize("name", ["news-evolution", "community-prototype"])
def test_stop_and_resume_gives_the_same_run(name: str, tmp_path: Path) -> None:
    scenario = Scenario.load(name).with_overrides(
        {"steps": 12, "checkpoint_every": 3, "snapshots.max_agents": 0})
    straight = Simulation(scenario, run_dir=tmp_path / "straight").run()

    stopped = Simulation(scenario, run_dir=tmp_path / "stopped")

    def stop_after_seven(step: int, metrics: dict[str, float]) -> None:
        if step == 7:
            stopped._stop_requested = True

    with pytest.raises(RunInterrupted):
        stopped.run(on_step=stop_after_seven)
    resumed = Simulation.resume(tmp_path / "stopped").run()
    a, b = logs(straight), logs(resumed)
    for table in TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], obj=table)
    assert resumed.summary()["uncivil_share"] == straight.summary()["uncivil_share"]
