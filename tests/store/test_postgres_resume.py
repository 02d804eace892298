"""A PostgreSQL run stopped part-way resumes to the same result as an uninterrupted one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_postgres_simulation import scenario

from townsquare import Simulation
from townsquare.engine import RunInterrupted


def test_stopped_postgres_run_resumes_identically(pg_url: str, tmp_path: Path) -> None:
    reference = Simulation(scenario(tmp_path / "a", store=pg_url, checkpoint_every=2)).run()
    sim = Simulation(scenario(tmp_path / "b", store=pg_url, checkpoint_every=2))

    def stop_at_three(step: int, metrics: dict) -> None:
        if step == 3:
            sim._stop_requested = True

    with pytest.raises(RunInterrupted):
        sim.run(on_step=stop_at_three)
    resumed = Simulation.resume(sim.run_dir.name, pg_url).run()
    assert resumed.meta()["status"] == "completed"
    pd.testing.assert_frame_equal(reference.events(), resumed.events())
    pd.testing.assert_frame_equal(reference.metrics(), resumed.metrics())
