"""Append-only PostgreSQL writer for one run, with the SQLite writer's interface.

Like :class:`townsquare.store.sqlite.SqliteRunWriter`: rows are checked and copied in
the caller's thread, one background thread owns the connection and writes each
step in one transaction (bulk rows through binary ``COPY``), an error in the
thread surfaces at the next call, and nothing is written after it. Runs live
in their own schema, so many processes can write different runs to the same
database at once; the registry row of each run is kept up to date by upserts.
The database URL may hold a password: it is redacted in every meta value and
message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from townsquare.errors import StoreError
from townsquare.store.postgres.binary import EncodeError, copy_chunks
from townsquare.store.postgres.connect import connect, registry_name
from townsquare.store.postgres.layout import (
    LOCK_KEY,
    REGISTRY_COLUMNS,
    column_ddl,
    index_ddl,
    qualified,
    redact_url,
    registry_ddl,
    schema_name,
    scrub,
    table_ddl,
)
from townsquare.store.postgres.reader import PostgresRunReader
from townsquare.store.rows import Rows, frame_rows, metric_columns, prepare_rows
from townsquare.store.schema import (
    INITIAL_TABLES,
    SCHEMA,
    SCHEMA_VERSION,
    TABLES,
    encode_meta,
    quote,
)
from townsquare.store.sqlite import package_version
from townsquare.store.worker import WriterLifecycle, WriterThread

if TYPE_CHECKING:
    import psycopg

Task = Callable[["psycopg.Connection"], None]


class PostgresRunWriter(WriterLifecycle):
    """Writes one run into a PostgreSQL database; :meth:`create` it, :meth:`close` it."""

    def __init__(
        self, url: str, run_id: str, conn: psycopg.Connection, registry: str, queue_size: int = 2
    ) -> None:
        self.url = redact_url(url)  # safe to show
        self.run_id = run_id
        self.schema = schema_name(run_id)
        self.where = f"{self.url}#{run_id}"
        self.last_step: int | None = None  # last step handed to write_step
        self._secret_url = url
        self._registry = registry
        self._worker = WriterThread(conn, queue_size, _in_transaction, "townsquare-pg-store")
        self._reported = False
        self._closed = False

    @classmethod
    def create(
        cls, url: str, run_id: str, meta: Mapping[str, object], *, queue_size: int = 2
    ) -> PostgresRunWriter:
        """Make the run's schema and tables, register it, and write ``meta``.

        ``status`` is set to ``running``; ``created_at`` and ``version`` are
        filled in when not given; ``store`` records the URL without password.
        """
        values = {
            "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "version": package_version(),
            **meta,
            "store": redact_url(url),
            "status": "running",
        }
        encoded = _encode(values, url)
        schema = schema_name(run_id)
        conn = connect(url)
        try:
            with _registry_locked(conn, url) as registry:
                taken = conn.execute(
                    f"SELECT 1 FROM {registry} WHERE run_id = %s OR schema_name = %s "
                    "UNION ALL SELECT 1 FROM pg_namespace WHERE nspname = %s",
                    (run_id, schema, schema),
                ).fetchone()
                if taken:
                    raise StoreError(
                        f"cannot create run {run_id!r} in {redact_url(url)}: "
                        "a run or schema of that name exists"
                    )
                conn.execute(f"CREATE SCHEMA {quote(schema)}")
                for table in TABLES:
                    conn.execute(table_ddl(schema, table))
                _set_meta(conn, schema, registry, run_id, encoded, values)
        except BaseException:
            conn.close()
            raise
        return cls(url, run_id, conn, registry, queue_size)

    @classmethod
    def reopen(
        cls, url: str, run_id: str, after_step: int | None, *, queue_size: int = 2,
        reset_initial: bool = False,
    ) -> PostgresRunWriter:
        """Continue a run after ``after_step`` (None: before step 0).

        Rows of later steps are deleted in one transaction, so the run goes on
        from a state that matches its checkpoint exactly. ``reset_initial``
        also recreates the tables written once at the start (agents, edges).
        """
        PostgresRunReader(url, run_id).close()  # validates: registered, known schema version
        schema = schema_name(run_id)
        cutoff = -1 if after_step is None else int(after_step)
        values = {"status": "running", "last_step": after_step}
        conn = connect(url)
        try:
            registry = registry_name(conn, url)
            with conn.transaction():
                for table in TABLES:
                    if reset_initial and table.name in INITIAL_TABLES:
                        conn.execute(f"DROP TABLE IF EXISTS {qualified(schema, table.name)}")
                        conn.execute(table_ddl(schema, table))
                    if table.per_step or table.name == "steps":
                        conn.execute(
                            f"DELETE FROM {qualified(schema, table.name)} WHERE step > %s",
                            (cutoff,),
                        )
                _set_meta(conn, schema, registry, run_id, _encode(values, url), values)
        except BaseException:
            conn.close()
            raise
        writer = cls(url, run_id, conn, registry, queue_size)
        writer.last_step = after_step
        return writer

    # -- writes (all queued, in order)

    def write_agents(self, frame: pd.DataFrame) -> None:
        """Store personas from ``Population.to_frame()``; extra columns become columns."""
        self._check()
        extra, rows = frame_rows(frame)
        types = _types(rows) | {c.name: c.type for c in extra}
        table = qualified(self.schema, "agents")

        def task(conn: psycopg.Connection) -> None:
            for column in extra:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column_ddl(column)}")
            _copy(conn, self.schema, rows, types)

        self._worker.submit("agents", task)

    def write_edges(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Store the initial follow graph (``src`` follows ``dst``)."""
        self._check()
        rows = prepare_rows(SCHEMA["edges"], {"src": src, "dst": dst})
        self._worker.submit("edges", lambda conn: _copy(conn, self.schema, rows, _types(rows)))

    def write_step(
        self,
        step: int,
        *,
        metrics: Mapping[str, float] | None = None,
        **tables: Mapping[str, Any] | None,
    ) -> None:
        """Queue one step's rows (``posts=``, ``events=``, ...); one transaction writes them.

        Same contract as :meth:`townsquare.store.sqlite.SqliteRunWriter.write_step`.
        """
        self._check()
        step = int(step)
        if step < 0 or (self.last_step is not None and step <= self.last_step):
            raise ValueError(f"step {step} must be >= 0 and after step {self.last_step}")
        batches: list[Rows] = []
        for name, data in tables.items():
            table = SCHEMA.get(name)
            if table is None or not table.per_step or name == "metrics":
                raise ValueError(f"write_step cannot write table {name!r}")
            if data:
                batches.append(prepare_rows(table, data, step))
        if metrics:
            batches.append(prepare_rows(SCHEMA["metrics"], metric_columns(metrics), step))
        values = {"last_step": step}
        encoded = _encode(values, "")
        steps = qualified(self.schema, "steps")

        def task(conn: psycopg.Connection) -> None:
            for rows in batches:
                _copy(conn, self.schema, rows, _types(rows))
            conn.execute(f"INSERT INTO {steps} (step, written_at) VALUES (%s, %s)",
                         (step, time.time()))
            _set_meta(conn, self.schema, self._registry, self.run_id, encoded, values)

        self._worker.submit(f"step {step}", task)
        self.last_step = step

    def set_meta(self, **values: object) -> None:
        """Set meta keys (JSON-encoded unless plain text), in order with the writes."""
        self._check()
        encoded = _encode(values, self._secret_url)
        self._worker.submit(
            "meta",
            lambda conn: _set_meta(conn, self.schema, self._registry, self.run_id, encoded, values),
        )

    def close(self, status: str = "completed", summary: Mapping[str, object] | None = None) -> None:
        """Drain the queue, record ``status`` and ``summary``, index, and close.

        If the writer thread failed, the status is ``failed`` and its error is
        raised here unless an earlier call raised it already. Closing twice is
        a no-op.
        """
        if not self._stop_writing(status):
            return
        error = self._worker.error
        values: dict[str, object] = {"status": "failed" if error is not None else status}
        if summary is not None:
            values["summary"] = dict(summary)
        encoded = _encode(values, self._secret_url)
        conn = self._worker.conn
        finish_error: Exception | None = None
        try:
            with conn.transaction():
                _set_meta(conn, self.schema, self._registry, self.run_id, encoded, values)
                if values["status"] == "completed":  # a stopped run indexes on resume
                    for table in TABLES:
                        for ddl in index_ddl(self.schema, table):
                            conn.execute(ddl)
        except Exception as exc:  # psycopg.Error: the connection may be gone
            finish_error = exc
        finally:
            conn.close()
        self._report_close(error, finish_error)

    # -- errors

    def _store_errors(self) -> tuple[type[BaseException], ...]:
        import psycopg

        return (psycopg.Error, EncodeError)

    def _describe(self, error: BaseException) -> str:
        return scrub(str(error), self._secret_url)


# ------------------------------------------------------------------------ helpers


def _types(rows: Rows) -> dict[str, str]:
    return {c.name: c.type for c in SCHEMA[rows.table].columns}


def _copy(conn: psycopg.Connection, schema: str, rows: Rows, types: Mapping[str, str]) -> None:
    """Bulk-insert ``rows`` with binary COPY (inside the caller's transaction)."""
    if rows.n == 0:
        return
    columns = ", ".join(quote(n) for n in rows.names)
    sql = f"COPY {qualified(schema, rows.table)} ({columns}) FROM STDIN (FORMAT BINARY)"
    with conn.cursor() as cursor, cursor.copy(sql) as copy:
        for chunk in copy_chunks(rows, types):
            copy.write(chunk)


def _encode(values: Mapping[str, object], url: str) -> dict[str, str]:
    """Meta values as text, with any database password redacted."""
    return {str(k): scrub(encode_meta(v), url) for k, v in values.items()}


def _set_meta(
    conn: psycopg.Connection,
    schema: str,
    registry: str,
    run_id: str,
    encoded: Mapping[str, str],
    values: Mapping[str, object],
) -> None:
    """Upsert meta keys, and mirror those the registry lists into the run's registry row."""
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {qualified(schema, 'meta')} (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            list(encoded.items()),
        )
    mirrored = {k: _registry_value(k, values[k]) for k in REGISTRY_COLUMNS if k in values}
    if not mirrored:
        return
    names = ["run_id", "schema_name", "schema_version", *mirrored]
    updates = ", ".join(f"{quote(k)} = EXCLUDED.{quote(k)}" for k in mirrored)
    conn.execute(
        f"INSERT INTO {registry} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT (run_id) DO UPDATE SET {updates}",
        (run_id, schema_name(run_id), SCHEMA_VERSION, *mirrored.values()),
    )


def _registry_value(key: str, value: object) -> object:
    if key in ("n_agents", "last_step"):
        return int(value) if isinstance(value, int | np.integer) else None
    return None if value is None else str(value)


def _in_transaction(conn: psycopg.Connection, task: Callable[[psycopg.Connection], None]) -> None:
    with conn.transaction():
        task(conn)


@contextmanager
def _registry_locked(conn: psycopg.Connection, url: str) -> Iterator[str]:
    """A transaction holding the run-creation lock, with the registry table in place."""
    registry = registry_name(conn, url)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(registry_ddl(registry))
        yield registry


def drop_postgres_run(url: str, run_id: str) -> None:
    """Delete a run's schema and registry row, if any (a sweep redoing a failed attempt)."""
    conn = connect(url)
    try:
        with _registry_locked(conn, url) as registry:
            conn.execute(f"DROP SCHEMA IF EXISTS {quote(schema_name(run_id))} CASCADE")
            conn.execute(f"DELETE FROM {registry} WHERE run_id = %s", (run_id,))
    finally:
        conn.close()
