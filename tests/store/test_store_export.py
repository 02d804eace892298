"""Parquet export: one file per table, equal to the table, database untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from townsquare.store import SqliteRunReader, SqliteRunWriter, export_parquet
from townsquare.store.schema import SCHEMA


def make_run(path: Path) -> Path:
    rng = np.random.default_rng(11)
    agents = pd.DataFrame(
        {
            "agent": np.arange(6),
            "age_group": pd.Categorical(["18-29", "65+", None, "18-29", "30-49", "65+"]),
            "leaning": rng.uniform(-1, 1, 6).astype(np.float32),
            "interest_pop music": rng.uniform(0, 1, 6),
        }
    )
    meta = {"scenario_name": "export", "topics": ["pop music"]}
    with SqliteRunWriter.create(path, meta) as writer:
        writer.write_agents(agents)
        writer.write_edges(np.array([0, 1, 5]), np.array([1, 2, 0]))
        for step in range(3):
            writer.write_step(
                step,
                posts={
                    "post_id": [step],
                    "author": [step],
                    "stance": [0.5 * step],
                    "text": ["ünïcode" if step else None],
                },
                events={"agent": rng.integers(0, 6, 4), "action": 1, "reason": None},
                state={"agent": np.arange(2), "valence": rng.uniform(-1, 1, 2)},
                metrics={"m": float(step)},
            )
    return path


def table_rows(db: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as conn:
        key = ", ".join(f'"{c}"' for c in SCHEMA[table].key) or "rowid"  # WITHOUT ROWID: key
        rows = conn.execute(f'SELECT * FROM "{table}" ORDER BY {key}').fetchall()
    conn.close()
    return rows


def test_export_equals_tables_and_leaves_the_database_alone(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    db = run / "run.sqlite"
    before = (db.read_bytes(), db.stat().st_mtime_ns)

    paths = export_parquet(run)

    assert (db.read_bytes(), db.stat().st_mtime_ns) == before
    with SqliteRunReader(run) as reader:
        tables = reader.tables()
    assert paths == [run / "parquet" / f"{name}.parquet" for name in tables]
    for name, path in zip(tables, paths, strict=True):
        exported = pq.read_table(path)
        with SqliteRunReader(run) as reader:
            assert exported.column_names == list(reader.column_types(name))
        rows = list(zip(*(c.to_pylist() for c in exported.columns), strict=True))
        assert rows == table_rows(db, name), name
    assert pq.read_table(run / "parquet" / "events.parquet").num_rows == 12
    assert pq.read_table(run / "parquet" / "labels.parquet").num_rows == 0  # schema-only file
    agents = pq.read_table(run / "parquet" / "agents.parquet")
    assert str(agents.schema.field("interest_pop music").type) == "double"
    assert str(agents.schema.field("agent").type) == "int64"


def test_export_to_another_folder_of_a_run_in_progress(tmp_path: Path) -> None:
    writer = SqliteRunWriter.create(tmp_path / "live", {"scenario_name": "live"})
    writer.write_step(0, events={"agent": [1, 2], "action": [5, 6]})
    writer.flush()
    paths = export_parquet(tmp_path / "live" / "run.sqlite", tmp_path / "out")
    assert all(p.parent == tmp_path / "out" for p in paths)
    events = pd.read_parquet(tmp_path / "out" / "events.parquet")
    assert events[["step", "agent", "action"]].values.tolist() == [[0, 1, 5], [0, 2, 6]]
    writer.close()
