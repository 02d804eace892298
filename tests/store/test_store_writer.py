"""SqliteRunWriter: every table round-trips, steps are atomic, thread errors surface."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.core.actions import Action
from townsquare.errors import StoreError
from townsquare.population.config import PopulationConfig
from townsquare.population.model import sample_population
from townsquare.store import SCHEMA_VERSION, TABLES, SqliteRunReader, SqliteRunWriter
from townsquare.store import rows as store_rows
from townsquare.store import sqlite as store_sqlite
from townsquare.store.schema import APPLICATION_ID, SCHEMA

META = {"scenario_name": "test", "seed": 7, "n_agents": 40, "topics": ["politics", "health"]}


def population_frame(n: int = 40) -> pd.DataFrame:
    config = PopulationConfig(size=n, topics=["politics", "health"])
    return sample_population(config, np.random.default_rng(3)).to_frame()


def step_tables(step: int, rng: np.random.Generator) -> dict[str, dict[str, object]]:
    """Rows of every per-step table for one step; post ids 10*step .. 10*step+4."""
    ids = np.arange(10 * step, 10 * step + 5, dtype=np.int64)
    n = 8
    return {
        "posts": {
            "post_id": ids,
            "author": rng.integers(0, 40, 5),
            "kind": np.full(5, int(Action.POST), np.int8),
            "parent": np.full(5, -1),
            "root": ids,
            "topic": rng.integers(0, 2, 5).astype(np.int16),
            "stance": rng.uniform(-1, 1, 5).astype(np.float32),
            "veracity": rng.integers(0, 3, 5).astype(np.int8),
            "news": np.array([-1, 0, -1, 1, -1], dtype=np.int32),
            "text": ["hello", None, "wörld 'quoted'", "", None],
        },
        "events": {
            "agent": rng.integers(0, 40, n),
            "action": rng.integers(0, len(Action), n).astype(np.int8),
            "post": rng.integers(-1, 5, n),
            "target": np.full(n, -1),
            "reason": ["because"] + [None] * (n - 1),
        },
        "exposures": {"post": ids, "count": rng.integers(0, 100, 5).astype(np.int32)},
        "state": {
            "agent": np.arange(4),
            "valence": rng.uniform(-1, 1, 4).astype(np.float32),
            "arousal": rng.uniform(0, 1, 4).astype(np.float32),
        },
        "attitudes": {
            "agent": np.repeat(np.arange(3), 2),
            "topic": np.tile(np.arange(2), 3),
            "value": rng.uniform(-1, 1, 6),
        },
        "beliefs": {"agent": np.arange(3), "news": 1, "value": rng.uniform(0, 1, 3)},
        "labels": {"post": ids[:2], "label": np.array([1, 3]), "source": "fact_check"},
    }


def expected_frame(table: str, steps: dict[int, dict[str, dict[str, object]]]) -> pd.DataFrame:
    """What the reader should return for ``table`` given the written steps."""
    parts = []
    for step, tables in steps.items():
        data = tables[table]
        n = max(len(v) for v in data.values() if isinstance(v, np.ndarray | list))
        frame = pd.DataFrame(
            {k: np.broadcast_to(v, n) if np.ndim(v) == 0 else v for k, v in data.items()}
        )
        frame["step"] = step
        parts.append(frame)
    columns = SCHEMA[table].column_names
    frame = pd.concat(parts, ignore_index=True).reindex(columns=columns)
    for column in SCHEMA[table].columns:
        if column.type == "INTEGER":
            frame[column.name] = frame[column.name].astype("int64")
        elif column.type == "REAL":
            frame[column.name] = frame[column.name].astype("float64")
        else:
            frame[column.name] = frame[column.name].astype(object)
    return frame


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs" / "run-1"


def test_every_table_round_trips(run_dir: Path) -> None:
    rng = np.random.default_rng(0)
    agents = population_frame()
    src, dst = np.array([0, 1, 2, 2]), np.array([1, 2, 0, 3])
    steps = {step: step_tables(step, rng) for step in range(3)}
    writer = SqliteRunWriter.create(run_dir, META)
    writer.write_agents(agents)
    writer.write_edges(src, dst)
    for step, tables in steps.items():
        writer.write_step(step, **tables, metrics={"mean_attitude": step / 4, "posts": 5})
    writer.set_meta(news=[0, 1])
    writer.close(summary={"posts": 15})

    reader = SqliteRunReader(run_dir)
    meta = reader.meta()
    assert {k: meta[k] for k in META} == META
    assert meta["status"] == "completed"
    assert meta["summary"] == {"posts": 15}
    assert meta["news"] == [0, 1]
    assert reader.last_step() == 2
    assert reader.steps()["step"].tolist() == [0, 1, 2]
    assert set(reader.tables()) == {t.name for t in TABLES}

    got = reader.agents()
    want = agents.copy()
    for name in ("age_group", "role"):
        want[name] = want[name].astype(str).astype(object)
    for name in want.columns:
        if want[name].dtype.kind == "f":
            want[name] = want[name].astype("float64")
    want["behavior"] = pd.Series(["heuristic"] * len(want), dtype=object)
    pd.testing.assert_frame_equal(got[list(want.columns)], want)
    assert list(got.columns[:7]) == list(SCHEMA["agents"].column_names)

    edges = reader.edges()
    assert edges["src"].tolist() == src.tolist() and edges["dst"].tolist() == dst.tolist()
    for table in ("posts", "events", "exposures", "state", "attitudes", "beliefs", "labels"):
        pd.testing.assert_frame_equal(reader.table(table), expected_frame(table, steps))

    wide = reader.metrics()
    assert wide.index.tolist() == [0, 1, 2]
    assert wide["mean_attitude"].tolist() == [0.0, 0.25, 0.5]
    assert wide["posts"].tolist() == [5.0, 5.0, 5.0]
    assert len(reader.metrics(wide=False)) == 6

    with sqlite3.connect(run_dir / "run.sqlite") as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"posts_root", "labels_post"} <= indexes
    reader.close()


def test_wrong_length_column_is_rejected_and_writes_nothing(run_dir: Path) -> None:
    rng = np.random.default_rng(1)
    writer = SqliteRunWriter.create(run_dir, META)
    writer.write_step(0, **step_tables(0, rng))
    bad = step_tables(1, rng)
    bad["events"]["agent"] = np.arange(3)  # 3 rows, the other columns have 8
    with pytest.raises(ValueError, match=r"events.*differ in length.*agent=3"):
        writer.write_step(1, **bad)
    writer.close()
    with SqliteRunReader(run_dir) as reader:
        assert reader.last_step() == 0
        assert set(reader.posts()["step"]) == {0}
        assert set(reader.events()["step"]) == {0}


def test_failure_inside_a_step_rolls_back_the_whole_step(run_dir: Path) -> None:
    rng = np.random.default_rng(2)
    writer = SqliteRunWriter.create(run_dir, META)
    writer.write_step(0, **step_tables(0, rng))
    bad = step_tables(1, rng)
    # the posts of step 1 go in first; then an event's reason cannot be stored,
    # so SQLite fails in the writer thread halfway through the step
    bad["events"]["reason"] = [{"not": "text"}] + [None] * 7
    writer.write_step(1, **bad, metrics={"x": 1.0})
    with pytest.raises(StoreError, match=r"writing step 1 failed \(ProgrammingError"):
        writer.flush()
    with pytest.raises(StoreError, match="failed earlier"):
        writer.write_step(2, **step_tables(2, rng))
    writer.close()  # already reported: no second raise
    with SqliteRunReader(run_dir) as reader:
        assert reader.meta()["status"] == "failed"
        assert reader.last_step() == 0
        assert reader.steps()["step"].tolist() == [0]
        assert reader.posts()["post_id"].tolist() == list(range(5))
        for table in ("events", "exposures", "state", "attitudes", "beliefs", "labels"):
            assert set(reader.table(table)["step"]) == {0}, table
        assert reader.metrics().empty


def test_thread_error_surfaces_on_close(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception injected mid-step: close() raises it, and the step is absent."""
    rng = np.random.default_rng(4)
    writer = SqliteRunWriter.create(run_dir, META)
    writer.write_step(0, **step_tables(0, rng))
    writer.flush()
    real_insert = store_sqlite.insert_rows
    calls = []

    def failing_insert(conn: sqlite3.Connection, rows: store_rows.Rows, **kw: int) -> None:
        calls.append(rows.table)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        real_insert(conn, rows, **kw)

    monkeypatch.setattr(store_sqlite, "insert_rows", failing_insert)
    writer.write_step(1, **step_tables(1, rng))
    with pytest.raises(RuntimeError, match="disk on fire"):
        writer.close()
    assert calls[:2] == ["posts", "events"]
    with SqliteRunReader(run_dir) as reader:
        assert reader.meta()["status"] == "failed"
        assert reader.last_step() == 0
        assert set(reader.posts()["step"]) == {0}
        assert set(reader.events()["step"]) == {0}


def test_reader_sees_committed_steps_only_while_writing(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    writer = SqliteRunWriter.create(run_dir, META)
    for step in range(2):
        writer.write_step(step, **step_tables(step, rng))
    writer.flush()
    reader = SqliteRunReader(run_dir)
    assert reader.last_step() == 1
    assert reader.meta()["status"] == "running"

    # hold the writer thread inside step 2's transaction, after its posts
    inside, release = threading.Event(), threading.Event()
    real_insert = store_sqlite.insert_rows

    def slow_insert(conn: sqlite3.Connection, rows: store_rows.Rows, **kw: int) -> None:
        real_insert(conn, rows, **kw)
        if rows.table == "posts":
            inside.set()
            assert release.wait(10)

    monkeypatch.setattr(store_sqlite, "insert_rows", slow_insert)
    writer.write_step(2, **step_tables(2, rng))
    assert inside.wait(10)
    assert reader.last_step() == 1
    assert len(reader.posts()) == 10  # step 2's posts are not visible yet
    release.set()
    writer.flush()
    assert reader.last_step() == 2
    assert len(reader.posts()) == 15
    assert set(reader.events()["step"]) == {0, 1, 2}
    writer.close()
    assert reader.meta()["status"] == "completed"
    reader.close()


def test_rows_are_copied_when_queued(run_dir: Path) -> None:
    agent = np.arange(5)
    with SqliteRunWriter.create(run_dir, META) as writer:
        writer.write_step(0, events={"agent": agent, "action": 1})
        agent[:] = 99  # the simulation reuses its buffers at once
    with SqliteRunReader(run_dir) as reader:
        assert reader.events()["agent"].tolist() == [0, 1, 2, 3, 4]


def test_context_manager_records_status(tmp_path: Path) -> None:
    with SqliteRunWriter.create(tmp_path / "ok", META):
        pass
    with pytest.raises(ZeroDivisionError), SqliteRunWriter.create(tmp_path / "bad", META):
        raise ZeroDivisionError
    with pytest.raises(KeyboardInterrupt), SqliteRunWriter.create(tmp_path / "stop", META):
        raise KeyboardInterrupt
    statuses = {name: SqliteRunReader(tmp_path / name).meta()["status"]
                for name in ("ok", "bad", "stop")}
    assert statuses == {"ok": "completed", "bad": "failed", "stop": "interrupted"}


def test_create_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("x")
    with pytest.raises(StoreError, match="exists and is not empty"):
        SqliteRunWriter.create(tmp_path / "taken", META)
    (tmp_path / "empty").mkdir()
    SqliteRunWriter.create(tmp_path / "empty", META).close()
    assert (tmp_path / "empty" / "run.sqlite").is_file()


def test_bad_calls_are_rejected_with_clear_messages(run_dir: Path) -> None:
    writer = SqliteRunWriter.create(run_dir, META)
    writer.write_step(3, events={"agent": [1], "action": [0]})
    with pytest.raises(ValueError, match="step 3 must be >= 0 and after step 3"):
        writer.write_step(3, events={"agent": [1], "action": [0]})
    with pytest.raises(ValueError, match="has no column"):
        writer.write_step(4, events={"agent": [1], "action": [0], "colour": [1]})
    with pytest.raises(ValueError, match="needs column"):
        writer.write_step(4, events={"agent": [1]})
    with pytest.raises(ValueError, match="cannot write table 'edges'"):
        writer.write_step(4, edges={"src": [1], "dst": [2]})
    with pytest.raises(ValueError, match="metric 'x' is not a number"):
        writer.write_step(4, metrics={"x": "high"})
    with pytest.raises(ValueError, match="status must be one of"):
        writer.close("done")
    writer.close()
    with pytest.raises(StoreError, match="closed"):
        writer.write_step(5, events={"agent": [1], "action": [0]})
    writer.close()  # twice is fine


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(0, 300),
    per_statement=st.integers(1, 40),
    chunk_rows=st.integers(1, 100),
    seed=st.integers(0, 2**16),
)
def test_insert_rows_keeps_every_row_in_order(
    n: int, per_statement: int, chunk_rows: int, seed: int
) -> None:
    """Multi-row statements and chunking never drop, duplicate or reorder rows."""
    rng = np.random.default_rng(seed)
    data = {
        "step": 1,
        "agent": rng.integers(0, 10**9, n),
        "action": rng.integers(0, 9, n).astype(np.int8),
        "post": rng.integers(-1, 100, n).tolist(),
        "reason": [None if i % 3 else f"r{i}" for i in range(n)],
    }
    rows = store_rows.prepare_rows(SCHEMA["events"], data)
    conn = sqlite3.connect(":memory:")
    conn.execute(SCHEMA["events"].ddl())
    store_rows.insert_rows(conn, rows, per_statement=per_statement, chunk_rows=chunk_rows)
    got = conn.execute("SELECT step, agent, action, post, reason FROM events ORDER BY rowid")
    want = list(
        zip(
            [1] * n,
            data["agent"].tolist(),
            data["action"].tolist(),
            data["post"],
            data["reason"],
            strict=True,
        )
    )
    assert got.fetchall() == want


def _steps_run(path: Path, steps: int) -> Path:
    """A run with several rows per step in every per-step table the rewind touches."""
    rng = np.random.default_rng(3)
    writer = SqliteRunWriter.create(path, {"scenario_name": "t"})
    for step in range(steps):
        writer.write_step(
            step,
            posts={"post_id": np.arange(3) + 3 * step, "author": rng.integers(0, 9, 3)},
            events={"agent": rng.integers(0, 9, 5), "action": 1, "post": 3 * step},
            state={"agent": rng.permutation(4), "valence": rng.uniform(-1, 1, 4)},
            attitudes={"agent": np.repeat(np.arange(3)[::-1], 2), "topic": np.tile([1, 0], 3),
                       "value": rng.uniform(-1, 1, 6)},
            exposures={"post": np.array([3 * step + 2, 3 * step]), "count": [4, 1]},
        )
    writer.close("interrupted")
    return path


@pytest.mark.parametrize("old_layout", [False, True])
def test_reopen_drops_later_steps_from_every_layout(tmp_path: Path, old_layout: bool) -> None:
    run = _steps_run(tmp_path / "run", 7)
    if old_layout:  # the layout before WITHOUT ROWID tables: a rowid table and a step index
        with sqlite3.connect(run / "run.sqlite") as conn:
            for name in ("state", "attitudes", "exposures"):
                conn.execute(f"CREATE TABLE old AS SELECT * FROM {name}")
                conn.execute(f"DROP TABLE {name}")
                conn.execute(f"ALTER TABLE old RENAME TO {name}")
                conn.execute(f"CREATE INDEX {name}_step ON {name} (step)")
        conn.close()
    with SqliteRunReader(run) as reader:
        before = {t: reader.table(t) for t in ("posts", "events", "state", "attitudes")}
        # snapshot rows read back in key order (sorted on the way in), on either layout
        state = reader.table("state")
        assert state.groupby("step")["agent"].apply(lambda a: a.is_monotonic_increasing).all()
    SqliteRunWriter.reopen(run, after_step=3).close("interrupted")
    with SqliteRunReader(run) as reader:
        for name in ("posts", "events", "state", "attitudes", "exposures"):
            table = reader.table(name)
            assert table["step"].max() == 3, name
            assert sorted(set(table["step"])) == [0, 1, 2, 3], name
        for name, frame in before.items():
            kept = frame[frame["step"] <= 3].reset_index(drop=True)
            pd.testing.assert_frame_equal(reader.table(name), kept, obj=name)
