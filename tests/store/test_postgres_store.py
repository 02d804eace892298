"""The PostgreSQL run store: same tables and semantics as SQLite, many writers at once.

Tests that need a server use the ``pg_url`` fixture (tests/store/conftest.py),
which starts a throwaway local cluster or skips when none can be started.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townsquare.core.actions import Action
from townsquare.errors import RunNotFoundError, StoreError
from townsquare.population.config import PopulationConfig
from townsquare.population.model import sample_population
from townsquare.store import (
    TABLES,
    PostgresRun,
    PostgresRunReader,
    PostgresRunWriter,
    SqliteRunReader,
    SqliteRunWriter,
    list_runs,
    open_reader,
    resolve_run,
)
from townsquare.store.postgres import binary, layout
from townsquare.store.postgres.reader import pyformat
from townsquare.store.postgres.writer import _copy
from townsquare.store.rows import prepare_rows
from townsquare.store.schema import SCHEMA

META = {"scenario_name": "test", "seed": 7, "n_agents": 40, "topics": ["politics", "health"]}
PER_STEP = ("posts", "events", "exposures", "state", "attitudes", "beliefs", "labels",
            "interventions", "surveys", "memories", "llm_calls")


def population_frame(n: int = 40) -> pd.DataFrame:
    config = PopulationConfig(size=n, topics=["politics", "health"])
    return sample_population(config, np.random.default_rng(3)).to_frame()


def step_tables(step: int, rng: np.random.Generator) -> dict[str, dict[str, object]]:
    """Rows of every per-step table for one step, with NULLs, NaN, quotes and unicode."""
    ids = np.arange(10 * step, 10 * step + 5, dtype=np.int64)
    n = 8
    return {
        "posts": {
            "post_id": ids,
            "author": rng.integers(0, 40, 5),
            "kind": np.full(5, int(Action.POST), np.int8),
            "parent": [None, 1, None, 2, 3],
            "root": ids,
            "topic": rng.integers(0, 2, 5).astype(np.int16),
            "stance": np.array([0.25, np.nan, -1.0, 1e-300, 0.1], np.float64),
            "veracity": rng.integers(0, 3, 5).astype(np.uint8),
            "news": np.array([-1, 0, -1, 1, -1], dtype=np.int32),
            "text": ["hello", None, "wörld 'quoted' \"x\" 100% \\ \t\n", "", "😀"],
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
            "arousal": rng.uniform(0, 1, 4),
        },
        "attitudes": {
            "agent": np.repeat(np.arange(3), 2),
            "topic": np.tile(np.arange(2), 3),
            "value": rng.uniform(-1, 1, 6),
        },
        "beliefs": {"agent": np.arange(3), "news": 1, "value": rng.uniform(0, 1, 3)},
        "labels": {"post": ids[:2], "label": np.array([1, 3]), "source": "fact_check"},
        "interventions": {"name": ["nudge"], "kind": "prebunk", "units": [12], "cost": 0.5},
        "surveys": {"survey": "s", "question": ["q1", "q2"], "agent": [1, 2],
                    "value": [4.0, None], "answer": ["agree", None]},
        "memories": {"agent": [1, 1], "kind": "observation", "importance": [0.2, 0.9],
                     "text": ["saw a post", "liked it"]},
        "llm_calls": {"agent": [3], "model": "m", "purpose": "decide", "prompt_tokens": [120],
                      "completion_tokens": [7], "latency_ms": [12.5], "cache_hit": [1],
                      "attempts": [1], "fault": [None], "fallback": [0], "cost": [0.001],
                      "request_hash": ["ab12"]},
    }


def write_run(writer: SqliteRunWriter | PostgresRunWriter, steps: int = 3) -> None:
    rng = np.random.default_rng(0)
    writer.write_agents(population_frame())
    writer.write_edges(np.array([0, 1, 2, 2]), np.array([1, 2, 0, 3]))
    for step in range(steps):
        writer.write_step(step, **step_tables(step, rng),
                          metrics={"mean_attitude": step / 4, "posts": 5})
    writer.set_meta(news=[0, 1], note="it's 100%")
    writer.close(summary={"posts": 15})


# ----------------------------------------------------------------- round trips


def test_every_table_reads_back_as_from_sqlite(pg_url: str, tmp_path: Path) -> None:
    """The same writes give the same DataFrames from PostgreSQL as from SQLite."""
    write_run(SqliteRunWriter.create(tmp_path / "run-1", META))
    write_run(PostgresRunWriter.create(pg_url, "run-1", META))
    with SqliteRunReader(tmp_path / "run-1") as lite, PostgresRunReader(pg_url, "run-1") as pg:
        assert pg.tables() == lite.tables() == [t.name for t in TABLES]
        for table in lite.tables():
            if table not in ("meta", "steps"):
                pd.testing.assert_frame_equal(pg.table(table), lite.table(table), obj=table)
            assert pg.column_types(table) == lite.column_types(table), table
        pd.testing.assert_frame_equal(pg.metrics(), lite.metrics())
        assert pg.steps()["step"].tolist() == [0, 1, 2]
        meta, want = pg.meta(), lite.meta()
        assert meta.pop("store") == pg_url
        assert {k: v for k, v in meta.items() if k != "created_at"} == {
            k: v for k, v in want.items() if k != "created_at"}
        assert meta["status"] == "completed" and meta["summary"] == {"posts": 15}
        assert pg.last_step() == 2
        posts = pg.posts()
        texts = [None if pd.isna(t) else t for t in posts["text"]]
        assert texts[:5] == ["hello", None, "wörld 'quoted' \"x\" 100% \\ \t\n", "", "😀"]
        assert posts["parent"].dtype == "Int64" and posts["parent"].isna().sum() == 6
        assert posts["stance"].isna().tolist()[:5] == [False, True, False, False, False]
        assert posts["stance"].iloc[3] == 1e-300
        indexes = pg.query("SELECT indexname FROM pg_indexes WHERE schemaname = ?", ("run-1",))
        assert {"events_step", "posts_root"} <= set(indexes["indexname"])


def test_query_takes_sqlite_style_sql(pg_url: str) -> None:
    write_run(PostgresRunWriter.create(pg_url, "q", META))
    with open_reader(PostgresRun(pg_url, "q")) as reader:
        rows = reader.query("SELECT post_id, text FROM posts WHERE step = ? AND text LIKE '%o%' "
                            "ORDER BY rowid", (1,))
        assert rows["post_id"].tolist() == [10, 12]
        named = reader.query("SELECT COUNT(*) AS n FROM events WHERE step >= :first", {"first": 1})
        assert named["n"].tolist() == [16]
        total = reader.query("SELECT SUM(units) AS units, AVG(cost) AS cost FROM interventions")
        assert total["units"].tolist() == [36.0] and total["cost"].tolist() == [0.5]
        assert "rowid" not in reader.query("SELECT * FROM labels").columns
        assert "rowid" in reader.query("SELECT rowid, * FROM labels").columns
        with pytest.raises(StoreError, match=r"query on .*#q failed"):
            reader.query("SELECT nope FROM posts")
        with pytest.raises(StoreError, match="read-only"):
            reader.query("DELETE FROM posts WHERE step = ?", (0,))
        assert reader.table("posts")["step"].tolist() == [0] * 5 + [1] * 5 + [2] * 5


def test_pyformat_translates_placeholders_outside_literals() -> None:
    assert pyformat("SELECT '?', x FROM t WHERE a = ? AND b LIKE '5%'", (1,)) == (
        "SELECT '?', x FROM t WHERE a = %s AND b LIKE '5%%'")
    assert pyformat("SELECT a::text FROM t WHERE b = :b", {"b": 1}) == (
        "SELECT a::text FROM t WHERE b = %(b)s")
    assert pyformat("SELECT 'x%' WHERE a = ?", ()) == "SELECT 'x%' WHERE a = ?"  # no params


# ------------------------------------------------------------ steps, reopen, errors


def test_failure_inside_a_step_leaves_nothing_of_it(pg_url: str) -> None:
    rng = np.random.default_rng(2)
    writer = PostgresRunWriter.create(pg_url, "bad", META)
    writer.write_step(0, **step_tables(0, rng))
    bad = step_tables(1, rng)
    # the posts of step 1 are copied in first; then an event's reason is not text
    bad["events"]["reason"] = [{"not": "text"}] + [None] * 7
    writer.write_step(1, **bad, metrics={"x": 1.0})
    with pytest.raises(StoreError, match=r"writing step 1 failed \(EncodeError: events.reason"):
        writer.flush()
    with pytest.raises(StoreError, match="failed earlier"):
        writer.write_step(2, **step_tables(2, rng))
    writer.close()  # already reported: no second raise
    with PostgresRunReader(pg_url, "bad") as reader:
        assert reader.meta()["status"] == "failed"
        assert reader.last_step() == 0
        assert reader.steps()["step"].tolist() == [0]
        assert reader.posts()["post_id"].tolist() == list(range(5))
        for table in PER_STEP:
            assert set(reader.table(table)["step"]) == {0}, table
        assert reader.metrics().empty
    assert [r["status"] for r in list_runs(pg_url)] == ["failed"]


def test_database_error_mid_step_rolls_back(pg_url: str) -> None:
    """A primary-key clash in the posts of step 1 undoes the step's other rows too."""
    rng = np.random.default_rng(3)
    writer = PostgresRunWriter.create(pg_url, "dup", META)
    writer.write_step(0, **step_tables(0, rng))
    clash = step_tables(1, rng)
    clash["posts"]["post_id"] = np.arange(5)  # the ids of step 0's posts
    writer.write_step(1, **{"events": clash["events"], "posts": clash["posts"]})
    with pytest.raises(StoreError, match=r"writing step 1 failed \(UniqueViolation"):
        writer.close()
    with PostgresRunReader(pg_url, "dup") as reader:
        assert set(reader.events()["step"]) == {0} and reader.last_step() == 0


def test_reopen_drops_rows_after_the_step(pg_url: str) -> None:
    rng = np.random.default_rng(4)
    writer = PostgresRunWriter.create(pg_url, "again", META)
    for step in range(4):
        writer.write_step(step, **step_tables(step, rng), metrics={"m": step})
    writer.close("interrupted")
    assert [r["last_step"] for r in list_runs(pg_url)] == [3]

    writer = PostgresRunWriter.reopen(pg_url, "again", after_step=1)
    with PostgresRunReader(pg_url, "again") as reader:
        assert reader.meta()["status"] == "running" and reader.last_step() == 1
        for table in (*PER_STEP, "steps", "metrics"):
            assert set(reader.table(table)["step"]) == {0, 1}, table
    with pytest.raises(ValueError, match="after step 1"):
        writer.write_step(1, events={"agent": [0], "action": [0]})
    writer.write_step(2, events={"agent": [5], "action": [1]}, metrics={"m": 20})
    writer.close()
    with PostgresRunReader(pg_url, "again") as reader:
        assert reader.metrics()["m"].tolist() == [0.0, 1.0, 20.0]
        assert reader.events().query("step == 2")["agent"].tolist() == [5]
    (run,) = list_runs(pg_url)
    assert (run["status"], run["last_step"]) == ("completed", 2)

    PostgresRunWriter.reopen(pg_url, "again", after_step=None).close("interrupted")
    with PostgresRunReader(pg_url, "again") as reader:
        assert reader.events().empty and reader.last_step() is None
        assert reader.meta()["status"] == "interrupted"


def test_create_refuses_a_taken_run_id_and_reader_checks_version(pg_url: str) -> None:
    PostgresRunWriter.create(pg_url, "taken", META).close()
    with pytest.raises(StoreError, match=r"'taken'.*exists"):
        PostgresRunWriter.create(pg_url, "taken", META)
    with pytest.raises(RunNotFoundError, match="no run 'other'"):
        PostgresRunReader(pg_url, "other")
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE townsquare_runs SET schema_version = 99")
    with pytest.raises(StoreError, match=r"schema version 99.*upgrade townsquare"):
        PostgresRunReader(pg_url, "taken")
    with pytest.raises(StoreError, match="schema version 99"):
        PostgresRunWriter.reopen(pg_url, "taken", after_step=None)


def test_long_run_ids_get_a_short_unique_schema(pg_url: str) -> None:
    ids = ["x" * 70 + "-a", "x" * 70 + "-b"]
    for run_id in ids:
        with PostgresRunWriter.create(pg_url, run_id, META) as writer:
            writer.write_step(0, events={"agent": [len(run_id)], "action": [0]})
    schemas = {layout.schema_name(i) for i in ids}
    assert len(schemas) == 2 and all(len(s) <= 63 for s in schemas)
    for run_id in ids:
        with PostgresRunReader(pg_url, run_id) as reader:
            assert reader.events()["agent"].tolist() == [72]


# ---------------------------------------------------------- finding runs, secrets


def test_latest_and_prefixes_resolve_through_the_registry(pg_url: str) -> None:
    with pytest.raises(RunNotFoundError, match="no runs in"):
        resolve_run("latest", pg_url)
    assert list_runs(pg_url) == []
    for i, run_id in enumerate(["20260101-a", "20260102-b", "20260102-c"]):
        PostgresRunWriter.create(pg_url, run_id, {**META, "created_at": f"2026-01-0{i + 1}"}
                                 ).close()
    assert resolve_run("latest", pg_url) == PostgresRun(pg_url, "20260102-c")
    assert resolve_run("20260101", pg_url).run_id == "20260101-a"
    assert resolve_run(f"{pg_url}#20260102-b").run_id == "20260102-b"
    with pytest.raises(RunNotFoundError, match=r"ambiguous.*20260102-b, 20260102-c"):
        resolve_run("20260102", pg_url)
    with pytest.raises(RunNotFoundError, match=r"no run 'zz'.*recent runs there: 20260102-c"):
        resolve_run("zz", pg_url)
    runs = list_runs(pg_url)
    assert [r["run_id"] for r in runs] == ["20260101-a", "20260102-b", "20260102-c"]
    assert runs[0]["n_agents"] == 40 and runs[0]["status"] == "completed"
    assert runs[0]["scenario_name"] == "test"


def test_the_password_never_lands_in_the_run(pg_url: str) -> None:
    secret = "s3cret-Pw"
    url = pg_url.replace("postgres@", f"postgres:{secret}@")  # trust auth ignores it
    scenario_text = f'name = "x"\nstore = "{url}"\n'
    writer = PostgresRunWriter.create(url, "secret", {**META, "scenario_toml": scenario_text})
    writer.set_meta(again=url, nested={"url": url})
    assert secret not in writer.where and secret not in writer.url
    writer.close()
    ref = resolve_run("latest", url)
    assert secret not in repr(ref) and secret not in str(ref)
    with open_reader(ref) as reader:
        meta = reader.meta()
        assert secret not in reader.path
        dumped = reader.query("SELECT key, value FROM meta").to_string()
        registry = reader.query("SELECT * FROM public.townsquare_runs").to_string()
    assert secret not in dumped and secret not in registry
    assert meta["store"] == url.replace(secret, "***")
    assert "postgres:***@127.0.0.1" in meta["scenario_toml"]
    assert meta["nested"] == {"url": meta["store"]}
    with pytest.raises(StoreError) as failed:
        PostgresRunReader(f"postgresql://postgres:{secret}@127.0.0.1:1/x", "secret")
    assert secret not in str(failed.value) and "***" in str(failed.value)


def test_redact_and_scrub() -> None:
    assert layout.redact_url("postgresql://u:p%40ss@h:5/db?sslmode=require") == (
        "postgresql://u:***@h:5/db?sslmode=require")
    assert layout.redact_url("postgres://h/db") == "postgres://h/db"
    text = 'a = "postgres://bob:pw@db.example/x" and postgresql://:only@h/y'
    assert layout.scrub(text, "") == 'a = "postgres://bob:***@db.example/x" and postgresql://:***@h/y'


# ----------------------------------------------------------------- concurrency


WRITER_SCRIPT = """
import sys, time
import numpy as np
import psycopg
from townsquare.store.postgres import PostgresRunWriter

url, run_id, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(int(run_id[-1]))
with PostgresRunWriter.create(url, run_id, {"scenario_name": run_id, "n_agents": 1000}) as writer:
    writer.flush()
    with psycopg.connect(url) as conn:  # start writing once all four runs exist
        deadline = time.monotonic() + 60
        while conn.execute("SELECT count(*) FROM townsquare_runs").fetchone()[0] < 4:
            conn.rollback()
            assert time.monotonic() < deadline, "the other writers never started"
            time.sleep(0.02)
    writer.write_edges(np.arange(1000), np.roll(np.arange(1000), 1))
    for step in range(steps):
        n = 500
        writer.write_step(
            step,
            events={"agent": rng.integers(0, 1000, n), "action": rng.integers(0, 9, n)},
            attitudes={"agent": np.arange(n), "topic": 0, "value": rng.uniform(-1, 1, n)},
            metrics={"step": step},
        )
"""


def test_four_processes_write_runs_to_one_database_at_once(pg_url: str) -> None:
    ids = [f"proc-{i}" for i in range(4)]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, pg_url, run_id, "15"],
                              stderr=subprocess.PIPE, text=True) for run_id in ids]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    runs = list_runs(pg_url)
    assert sorted(r["run_id"] for r in runs) == ids
    assert {(r["status"], r["last_step"], r["n_agents"]) for r in runs} == {("completed", 14, 1000)}
    for run_id in ids:
        with PostgresRunReader(pg_url, run_id) as reader:
            assert reader.meta()["scenario_name"] == run_id
            assert reader.steps()["step"].tolist() == list(range(15))
            assert reader.metrics()["step"].tolist() == [float(s) for s in range(15)]
            assert len(reader.edges()) == 1000
            events = reader.events()
            assert len(events) == 500 * 15 and events["step"].is_monotonic_increasing
            rng = np.random.default_rng(int(run_id[-1]))
            assert events["agent"].iloc[:500].tolist() == rng.integers(0, 1000, 500).tolist()


# ------------------------------------------------------------- the COPY encoder

_text = st.one_of(st.none(), st.text(st.characters(exclude_characters="\x00",
                                                   exclude_categories=("Cs",)), max_size=12))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(0, 40),
    chunk=st.integers(1, 9),
    seed=st.integers(0, 2**16),
    texts=st.lists(_text, min_size=40, max_size=40),
)
def test_binary_copy_keeps_every_value(
    pg_url: str, n: int, chunk: int, seed: int, texts: list[str | None]
) -> None:
    """Any mix of ints, NULLs, floats, NaN and text survives COPY, in order, in any chunking."""
    import psycopg

    rng = np.random.default_rng(seed)
    data = {
        "step": 3,
        "agent": rng.integers(-2**62, 2**62, n),
        "action": rng.integers(0, 9, n).astype(np.uint8),
        "post": [None if v % 3 == 0 else int(v) for v in rng.integers(0, 99, n)],
        "target": np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 50, n)),
        "reason": texts[:n],
    }
    rows = prepare_rows(SCHEMA["events"], data)
    monkey_chunks = binary.CHUNK_ROWS
    binary.CHUNK_ROWS = chunk
    try:
        with psycopg.connect(pg_url) as conn:  # one transaction, rolled back at the end
            conn.execute('CREATE SCHEMA IF NOT EXISTS "copy"')
            conn.execute(layout.table_ddl("copy", SCHEMA["events"]))
            _copy(conn, "copy", rows, {c.name: c.type for c in SCHEMA["events"].columns})
            got = conn.execute('SELECT step, agent, action, post, target, reason '
                               'FROM "copy".events ORDER BY rowid').fetchall()
            conn.rollback()
    finally:
        binary.CHUNK_ROWS = monkey_chunks
    targets = [None if np.isnan(t) else int(t) for t in data["target"]]
    want = list(zip([3] * n, data["agent"].tolist(), data["action"].tolist(), data["post"],
                    targets, texts[:n], strict=True))
    assert got == want


def test_values_that_do_not_fit_the_column_are_named() -> None:
    with pytest.raises(binary.EncodeError, match=r"events.agent cannot be stored as INTEGER.*"
                                                  r"non-integer"):
        binary.encode_field("events", "agent", np.array([1.5]), "INTEGER")
    with pytest.raises(binary.EncodeError, match=r"posts.text cannot be stored as TEXT"):
        binary.encode_field("posts", "text", [b"bytes"], "TEXT")
    lengths, payload = binary.encode_field("t", "x", np.array([1.0, np.nan]), "INTEGER")
    assert lengths.tolist() == [8, -1] and payload.tobytes() == (1).to_bytes(8, "big")
