"""The StoreBackend a scenario's ``store`` selects, and the SQLite one end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from townsquare import Scenario, Simulation
from townsquare.errors import RunNotFoundError
from townsquare.store import PostgresStore, SqliteStore, list_runs, resolve_run, store_backend
from townsquare.store.postgres.layout import PostgresRun


def test_the_store_field_selects_the_backend(tmp_path: Path) -> None:
    assert store_backend(None, tmp_path) == SqliteStore(tmp_path)
    assert store_backend(tmp_path) == SqliteStore(tmp_path)
    url = "postgresql://user:secret@127.0.0.1:1/db"
    assert store_backend(url) == PostgresStore(url)
    assert store_backend(f"{url}#run-1") == PostgresStore(url)
    ref = PostgresStore(url).run_ref(tmp_path / "run-1")
    assert ref == PostgresRun(url, "run-1", folder=tmp_path / "run-1")


def test_the_sqlite_store_finds_reads_and_resolves_its_runs(tmp_path: Path) -> None:
    scenario = Scenario.load("default").with_overrides(
        {"population.size": 100, "steps": 2, "checkpoint_every": 0, "output_dir": str(tmp_path)})
    first, second = (Simulation(scenario.with_overrides({"seed": s})).run() for s in (1, 2))
    store = SqliteStore(tmp_path)
    runs = store.list_runs()
    assert [r["run_id"] for r in runs] == [first.id, second.id]
    assert store.resolve_run("latest") == second.path
    assert store.resolve_run(first.id[:-1]) == first.path  # a unique prefix
    with store.open_reader(first.path) as reader:
        assert reader.meta()["status"] == "completed"
        assert len(reader.agents()) == 100
    assert list_runs(tmp_path) == runs  # the module functions go through the backend
    assert resolve_run("latest", tmp_path) == second.path
    with pytest.raises(RunNotFoundError, match="no run 'nosuch'"):
        store.resolve_run("nosuch")
