"""Append-only SQLite writer for one run, with a background writer thread.

The simulation hands each step's rows (numpy columns) to :meth:`SqliteRunWriter.write_step`,
which checks them, copies them and queues them; a single thread owns the
connection and writes each step in one transaction, so the simulation computes
step t+1 while step t is written, and a step's rows land all together or not
at all. The queue is bounded, so a slow disk slows the simulation instead of
filling memory. An error in the thread is raised in the caller at its next
call (or at :meth:`SqliteRunWriter.close`), and nothing is written after it.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from townsquare.errors import StoreError
from townsquare.phases import reached
from townsquare.store.reader import SqliteRunReader
from townsquare.store.rows import Rows, frame_rows, insert_rows, metric_columns, prepare_rows
from townsquare.store.schema import (
    APPLICATION_ID,
    INITIAL_TABLES,
    RUN_FILE,
    SCHEMA,
    SCHEMA_VERSION,
    TABLES,
    Table,
    encode_meta,
    quote,
)
from townsquare.store.worker import Task, WriterLifecycle, WriterThread


def new_run_id(scenario_name: str, seed: int) -> str:
    """A fresh run id such as ``20261126-103000-default-s0-1a2b``.

    The wall clock only names the folder; it never enters the simulation.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", scenario_name.lower()).strip("-")[:40] or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-s{seed}-{secrets.token_hex(2)}"


def package_version() -> str:
    try:
        return version("townsquare")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


# ----------------------------------------------------------------- writer thread


def transaction(conn: sqlite3.Connection, task: Task) -> None:
    """Run ``task`` in one transaction: all of its writes land, or none."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        task(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _open(path: Path) -> sqlite3.Connection:
    """A writing connection to a run database, in WAL mode."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: the live indexes' recent pages
    return conn


def _set_meta(conn: sqlite3.Connection, values: Mapping[str, str]) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values.items())


def _first_rowid_after(conn: sqlite3.Connection, table: str, cutoff: int) -> int | None:
    """Smallest rowid of a row with ``step > cutoff`` in a table whose rows were appended
    in step order (bisection: O(log n) rowid lookups, no step index needed)."""
    q = quote(table)
    lo, hi = conn.execute(f"SELECT MIN(rowid), MAX(rowid) + 1 FROM {q}").fetchone()
    if lo is None:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        row = conn.execute(f"SELECT rowid, step FROM {q} WHERE rowid >= ? ORDER BY rowid "
                           "LIMIT 1", (mid,)).fetchone()
        if row is None or row[1] > cutoff:
            hi = mid
        else:
            lo = row[0] + 1
    return int(lo)


def _rewind(conn: sqlite3.Connection, table: Table, cutoff: int) -> None:
    """Delete a per-step table's rows after step ``cutoff``."""
    q = quote(table.name)
    if table.step_ordered:
        first = _first_rowid_after(conn, table.name, cutoff)
        if first is not None:  # the step test keeps it exact even if the order were broken
            conn.execute(f"DELETE FROM {q} WHERE rowid >= ? AND step > ?", (first, cutoff))
        return
    conn.execute(f"DELETE FROM {q} WHERE step > ?", (cutoff,))


# ------------------------------------------------------------------------ writer


class SqliteRunWriter(WriterLifecycle):
    """Writes one run's database; create with :meth:`create`, finish with :meth:`close`."""

    def __init__(self, run_dir: Path, conn: sqlite3.Connection, queue_size: int = 2) -> None:
        self.run_dir = run_dir
        self.db_path = run_dir / RUN_FILE
        self.where = self.db_path
        self.last_step: int | None = None  # last step handed to write_step
        self._worker = WriterThread(conn, queue_size, transaction)
        self._reported = False
        self._closed = False

    @classmethod
    def create(cls, run_dir: Path, meta: Mapping[str, object], *,
               queue_size: int = 2) -> SqliteRunWriter:
        """Make ``run_dir`` (absent or empty), write the schema and ``meta``.

        ``status`` is set to ``running``; ``created_at`` and ``version`` are
        filled in when not given.
        """
        run_dir = Path(run_dir)
        if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
            raise StoreError(f"cannot create a run in {run_dir}: it exists and is not empty")
        values = {
            "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "version": package_version(),
            **meta,
            "status": "running",
        }
        encoded = {str(k): encode_meta(v) for k, v in values.items()}
        run_dir.mkdir(parents=True, exist_ok=True)
        reached("folder")
        # built under a temporary name and renamed into place: a crash leaves either no
        # run.sqlite or one with its schema and meta (the scenario), never an empty file
        partial = run_dir / (RUN_FILE + ".creating")
        partial.unlink(missing_ok=True)
        conn = sqlite3.connect(partial, isolation_level=None)
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

            def schema(c: sqlite3.Connection) -> None:
                for table in TABLES:
                    c.execute(table.ddl())
                    for ddl in table.index_ddl():
                        c.execute(ddl)
                _set_meta(c, encoded)

            transaction(conn, schema)
        finally:
            conn.close()
        os.replace(partial, run_dir / RUN_FILE)
        reached("database")
        return cls(run_dir, _open(run_dir / RUN_FILE), queue_size)

    @classmethod
    def reopen(cls, run_dir: Path, after_step: int | None, *, queue_size: int = 2,
               reset_initial: bool = False) -> SqliteRunWriter:
        """Continue an existing run after ``after_step`` (None: before step 0).

        Rows of later steps (written after the last checkpoint, before a crash)
        are deleted in one transaction, so the run continues from a state that
        matches its checkpoint exactly. ``reset_initial`` also empties the tables
        written once at the start (agents, edges), for a run killed before they
        were committed: the caller writes them again.
        """
        SqliteRunReader(run_dir).close()  # validates: exists, is a townsquare run, known schema
        run_dir = Path(run_dir)
        conn = _open(run_dir / RUN_FILE)
        cutoff = -1 if after_step is None else int(after_step)

        def truncate(c: sqlite3.Connection) -> None:
            for table in TABLES:
                if reset_initial and table.name in INITIAL_TABLES:
                    c.execute(f'DROP TABLE IF EXISTS "{table.name}"')
                c.execute(table.ddl())  # a run made before a table was added lacks it
                if table.per_step:
                    _rewind(c, table, cutoff)
            c.execute("DELETE FROM steps WHERE step > ?", (cutoff,))
            _set_meta(c, {"status": encode_meta("running"),
                          "last_step": encode_meta(after_step)})

        transaction(conn, truncate)
        writer = cls(run_dir, conn, queue_size)
        writer.last_step = after_step
        return writer

    # -- writes (all queued, in order)

    def write_agents(self, frame: pd.DataFrame) -> None:
        """Store personas from ``Population.to_frame()``; extra columns become columns."""
        self._check()
        extra, rows = frame_rows(frame)

        def task(conn: sqlite3.Connection) -> None:
            for column in extra:
                conn.execute(f"ALTER TABLE agents ADD COLUMN {column.ddl()}")
            insert_rows(conn, rows)

        self._worker.submit("agents", task)

    def write_edges(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Store the initial follow graph (``src`` follows ``dst``)."""
        self._check()
        rows = prepare_rows(SCHEMA["edges"], {"src": src, "dst": dst})
        self._worker.submit("edges", lambda conn: insert_rows(conn, rows))

    def write_step(
        self,
        step: int,
        *,
        posts: Mapping[str, Any] | None = None,
        events: Mapping[str, Any] | None = None,
        exposures: Mapping[str, Any] | None = None,
        state: Mapping[str, Any] | None = None,
        attitudes: Mapping[str, Any] | None = None,
        beliefs: Mapping[str, Any] | None = None,
        labels: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        **other_tables: Mapping[str, Any] | None,
    ) -> None:
        """Queue one step's rows; they are written in a single transaction.

        Each table argument maps column names to equal-length arrays or lists
        (or scalars, repeated); ``step`` columns are filled in. Tables added to
        the schema later are passed by name through ``other_tables``. Steps must
        increase. Arrays are copied, so the caller may reuse them at once.
        """
        self._check()
        step = int(step)
        if step < 0 or (self.last_step is not None and step <= self.last_step):
            raise ValueError(f"step {step} must be >= 0 and after step {self.last_step}")
        tables = {
            "posts": posts,
            "events": events,
            "exposures": exposures,
            "state": state,
            "attitudes": attitudes,
            "beliefs": beliefs,
            "labels": labels,
            **other_tables,
        }
        batches: list[Rows] = []
        for name, data in tables.items():
            table = SCHEMA.get(name)
            if table is None or not table.per_step or name == "metrics":
                raise ValueError(f"write_step cannot write table {name!r}")
            if data:
                batches.append(prepare_rows(table, data, step))
        if metrics:
            batches.append(prepare_rows(SCHEMA["metrics"], metric_columns(metrics), step))
        written = {"last_step": encode_meta(step)}

        def task(conn: sqlite3.Connection) -> None:
            for rows in batches:
                insert_rows(conn, rows)
            conn.execute("INSERT INTO steps (step, written_at) VALUES (?, ?)", (step, time.time()))
            _set_meta(conn, written)

        self._worker.submit(f"step {step}", task)
        self.last_step = step

    def set_meta(self, **values: object) -> None:
        """Set meta keys (JSON-encoded unless plain text), in order with the writes."""
        self._check()
        encoded = {k: encode_meta(v) for k, v in values.items()}
        self._worker.submit("meta", lambda conn: _set_meta(conn, encoded))

    def close(self, status: str = "completed", summary: Mapping[str, object] | None = None) -> None:
        """Drain the queue, record ``status`` and ``summary``, index, and close.

        If the writer thread failed, the status is ``failed`` and its error is
        raised here unless an earlier call raised it already. Closing twice is
        a no-op.
        """
        if not self._stop_writing(status):
            return
        error = self._worker.error
        final = {"status": encode_meta("failed" if error is not None else status)}
        if summary is not None:
            final["summary"] = encode_meta(dict(summary))
        conn = self._worker.conn

        def finish(c: sqlite3.Connection) -> None:
            _set_meta(c, final)
            # made at creation; a run created by an older version gets them here
            if final["status"] == encode_meta("completed"):  # a stopped run indexes on resume
                for table in TABLES:
                    for ddl in table.index_ddl():
                        c.execute(ddl)

        finish_error: sqlite3.Error | None = None
        try:
            transaction(conn, finish)
            conn.execute("PRAGMA optimize")
            # copy the WAL into run.sqlite so the file alone holds the run; with a
            # reader open this may do only part of it, which is fine
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            finish_error = exc
        finally:
            conn.close()
        self._report_close(error, finish_error)

    # -- errors

    def _store_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)
