"""A whole simulation stored in PostgreSQL reads back exactly as one stored in SQLite."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from townsquare import Run, Scenario, Simulation
from townsquare.errors import ScenarioError
from townsquare.store import PostgresRun, export_parquet, list_runs

TABLES = ("events", "posts", "agents", "edges", "attitudes", "exposures", "state", "labels",
          "interventions")


def scenario(out: Path, **overrides: object) -> Scenario:
    return Scenario.load("default").with_overrides({
        "population.size": 600, "steps": 6, "seed": 3, "output_dir": str(out),
        "checkpoint_every": 2,
        "interventions": [{"kind": "debunk", "news": "rumour", "when": {"start": 2, "every": 2},
                           "target": {"share": 0.2}}],
        **overrides,
    })


def test_postgres_run_equals_sqlite_run_for_the_same_seed(pg_url: str, tmp_path: Path) -> None:
    lite = Simulation(scenario(tmp_path / "lite")).run()
    pg = Simulation(scenario(tmp_path / "pg", store=pg_url)).run()

    assert isinstance(pg.reader.run_dir, Path) and pg.path == pg.reader.run_dir
    assert not (pg.path / "run.sqlite").exists()
    assert pg.path.is_dir()  # checkpoints are made in the local folder ...
    assert not (pg.path / "checkpoint.npz").exists()  # ... and removed once the run completes
    assert len(lite.events()) > 100
    for table in TABLES:
        pd.testing.assert_frame_equal(pg.reader.table(table), lite.reader.table(table), obj=table)
    pd.testing.assert_frame_equal(pg.events(), lite.events())
    pd.testing.assert_frame_equal(pg.metrics(), lite.metrics())
    pd.testing.assert_frame_equal(pg.cascades(), lite.cascades())
    pd.testing.assert_frame_equal(pg.interventions(), lite.interventions())
    assert pg.digest() == lite.digest()  # the same run, whichever store holds it
    timing = {"wall_seconds"}
    assert {k: v for k, v in pg.summary().items() if k not in timing} == {
        k: v for k, v in lite.summary().items() if k not in timing}
    assert pg.scenario() == scenario(tmp_path / "pg", store=pg_url)
    assert pg.meta()["status"] == "completed" and pg.meta()["store"] == pg_url

    latest = Run.open("latest", pg_url)
    assert latest.id == pg.id and latest.path == pg.path
    pd.testing.assert_frame_equal(latest.events(), lite.events())
    (listed,) = list_runs(pg_url)
    assert listed["run_id"] == pg.id and listed["status"] == "completed"
    assert listed["last_step"] == 5 and listed["n_agents"] == 600
    assert listed["path"] == PostgresRun(pg_url, pg.id)

    pg_files = export_parquet(listed["path"], tmp_path / "pg-parquet")
    lite_files = export_parquet(lite.path, tmp_path / "lite-parquet")
    assert [p.name for p in pg_files] == [p.name for p in lite_files]
    for name in ("events.parquet", "agents.parquet", "metrics.parquet"):
        pg_table = pq.read_table(tmp_path / "pg-parquet" / name)
        assert pg_table.equals(pq.read_table(tmp_path / "lite-parquet" / name)), name


def test_store_must_be_a_postgresql_url(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"field 'store'.*postgres\(ql\)\?://.*mysql"):
        scenario(tmp_path, store="mysql://localhost/db")
    assert scenario(tmp_path).store is None
    assert "store =" not in scenario(tmp_path).to_toml()
