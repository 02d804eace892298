"""SqliteRunReader validation, read-only access, and finding runs by id, path or 'latest'."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.errors import RunNotFoundError, StoreError
from townsquare.store import (
    SCHEMA_VERSION,
    SqliteRunReader,
    SqliteRunWriter,
    list_runs,
    new_run_id,
    resolve_run,
)
from townsquare.store.reader import SQLITE_HEADER


def make_run(path: Path, created_at: str, steps: int = 2, name: str = "demo") -> Path:
    meta = {"scenario_name": name, "seed": 1, "n_agents": 3, "created_at": created_at}
    with SqliteRunWriter.create(path, meta) as writer:
        for step in range(steps):
            writer.write_step(step, events={"agent": np.arange(3), "action": 1})
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is an empty file, not a townsquare run database"),
        (b"step,agent\n1,2\n", "is not a SQLite database"),
        (SQLITE_HEADER + b"\x00" * 200, "is not a SQLite database"),
    ],
    ids=["empty", "csv", "truncated-sqlite"],
)
def test_non_databases_are_store_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "run.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=message) as info:
        SqliteRunReader(tmp_path)
    assert str(path) in str(info.value)


@settings(max_examples=50, deadline=None)
@given(body=st.binary(max_size=2048), with_header=st.booleans())
def test_any_garbage_gives_a_store_error(body: bytes, with_header: bool) -> None:
    check_garbage(body, with_header)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(body=st.binary(max_size=4096), with_header=st.booleans())
def test_any_garbage_gives_a_store_error_many(body: bytes, with_header: bool) -> None:
    check_garbage(body, with_header)


def check_garbage(body: bytes, with_header: bool) -> None:
    """Random bytes (after an optional SQLite header) are refused with a StoreError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.sqlite"
        path.write_bytes((SQLITE_HEADER if with_header else b"") + body)
        with pytest.raises(StoreError):
            SqliteRunReader(path)


def test_foreign_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (x INTEGER)")
        conn.execute("PRAGMA application_id = 1234")
    conn.close()
    with pytest.raises(StoreError, match=r"other.db is a SQLite database but not a townsquare run"):
        SqliteRunReader(path)


def test_newer_schema_version_names_both_versions(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", "2026-01-01")
    with sqlite3.connect(run / "run.sqlite") as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError) as info:
        SqliteRunReader(run)
    text = str(info.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in text
    assert f"supports versions 1..{SCHEMA_VERSION}" in text
    assert "upgrade townsquare" in text


def test_missing_runs_are_run_not_found(tmp_path: Path) -> None:
    with pytest.raises(RunNotFoundError, match="no such file or folder"):
        SqliteRunReader(tmp_path / "nowhere")
    with pytest.raises(RunNotFoundError, match=r"has no run\.sqlite"):
        SqliteRunReader(tmp_path)


def test_reader_is_read_only(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", "2026-01-01")
    with SqliteRunReader(run) as reader:
        with pytest.raises(StoreError, match="readonly"):
            reader.query("DELETE FROM events")
        with pytest.raises(StoreError, match="no such table"):
            reader.query("SELECT * FROM nope")
        assert len(reader.events()) == 6
        counts = reader.query(
            "SELECT step, COUNT(*) AS n FROM events WHERE step >= ? GROUP BY step", (1,)
        )
        assert counts.to_dict("list") == {"step": [1], "n": [3]}
        with pytest.raises(StoreError, match="has no table 'nope'"):
            reader.table("nope")


def test_tables_missing_from_an_older_run_read_as_empty(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", "2026-01-01")
    with sqlite3.connect(run / "run.sqlite") as conn:
        conn.execute("DROP TABLE labels")
    conn.close()
    with SqliteRunReader(run) as reader:
        labels = reader.labels()
    assert labels.empty
    assert list(labels.columns) == ["step", "post", "label", "source"]


def test_list_runs_and_resolve_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    # names sort opposite to creation time: 'latest' must follow created_at
    old = make_run(runs / "b-old", "2026-01-01T00:00:00", steps=3, name="old")
    new = make_run(runs / "a-new", "2026-02-01T00:00:00", steps=1, name="new")
    (runs / "junk").mkdir()
    (runs / "junk" / "run.sqlite").write_bytes(b"not a db")
    (runs / "notes").mkdir()

    listed = list_runs(runs)
    assert [r["run_id"] for r in listed] == ["junk", "b-old", "a-new"]
    assert listed[1] == {
        "run_id": "b-old",
        "path": old,
        "scenario_name": "old",
        "status": "completed",
        "created_at": "2026-01-01T00:00:00",
        "n_agents": 3,
        "last_step": 2,
    }
    assert listed[0]["status"] == "unreadable"

    assert resolve_run("latest", runs) == new
    assert resolve_run("last", runs) == new
    assert resolve_run("b-old", runs) == old
    assert resolve_run("b-", runs) == old  # unique prefix
    assert resolve_run(old, runs) == old
    assert resolve_run(old / "run.sqlite", runs) == old
    assert resolve_run(str(new), runs) == new

    with pytest.raises(RunNotFoundError) as info:
        resolve_run("nonesuch", runs)
    assert "'nonesuch'" in str(info.value)
    assert "a-new, b-old" in str(info.value)  # newest first
    assert "'latest'" in str(info.value)
    make_run(runs / "b-other", "2026-01-02")
    with pytest.raises(RunNotFoundError, match=r"ambiguous in .*: b-old, b-other"):
        resolve_run("b", runs)
    with pytest.raises(RunNotFoundError, match=r"has no run\.sqlite"):
        resolve_run(runs / "notes", runs)
    with pytest.raises(RunNotFoundError, match="holds no runs"):
        resolve_run("x", tmp_path / "empty")
    with pytest.raises(RunNotFoundError, match="no runs in"):
        resolve_run("latest", tmp_path / "empty")


def test_new_run_id_format() -> None:
    run_id = new_run_id("Rumour: Fast & Slow!", 42)
    assert run_id.split("-")[2:6] == ["rumour", "fast", "slow", "s42"]
    date, clock = run_id.split("-")[:2]
    assert len(date) == 8 and date.isdigit() and len(clock) == 6 and clock.isdigit()
    assert len(run_id.rsplit("-", 1)[1]) == 4
