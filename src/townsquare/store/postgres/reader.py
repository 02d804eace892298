"""Read runs stored in PostgreSQL, and find them through the registry.

:class:`PostgresRunReader` has the methods of :class:`townsquare.store.reader.SqliteRunReader`
and returns the same DataFrames. Its connection is read-only and its
``search_path`` is the run's schema, so :meth:`PostgresRunReader.query` takes
the simple SQL written for SQLite (``SELECT ... FROM events WHERE step = ?``)
unchanged: ``?`` and ``:name`` placeholders are translated to psycopg's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from townsquare.errors import RunNotFoundError, StoreError
from townsquare.store.postgres.connect import connect, registry_name
from townsquare.store.postgres.layout import (
    REGISTRY,
    REGISTRY_COLUMNS,
    ROWID,
    PostgresRun,
    redact_url,
    schema_name,
    scrub,
    sql_type_of,
)
from townsquare.store.schema import SCHEMA, SCHEMA_VERSION, SUPPORTED_VERSIONS, quote
from townsquare.store.tables import LATEST, RunTables, typed_frame

if TYPE_CHECKING:
    import psycopg


class PostgresRunReader(RunTables):
    """Read-only access to one PostgreSQL-stored run's tables as DataFrames."""

    def __init__(self, url: str, run_id: str, *, run_dir: Path | None = None) -> None:
        self.run_id = run_id
        self.schema = schema_name(run_id)
        self.path = f"{redact_url(url)}#{run_id}"  # names the run in messages
        self._conn = connect(url)
        try:
            self._open(url)
            local = self.meta().get("run_dir") if run_dir is None else run_dir
        except BaseException:
            self._conn.close()
            raise
        # the run's local folder (checkpoints, reports), as recorded when it was created
        self.run_dir = Path(str(local)) if local else Path(run_id)

    def _open(self, url: str) -> None:
        from psycopg.types.numeric import FloatLoader

        registry = registry_name(self._conn, url)
        if not _has_registry(self._conn, registry):
            raise RunNotFoundError(f"no townsquare runs in {redact_url(url)} (no {REGISTRY} table)")
        row = self._conn.execute(
            f"SELECT schema_name, schema_version FROM {registry} WHERE run_id = %s",
            (self.run_id,),
        ).fetchone()
        if row is None:
            raise RunNotFoundError(f"no run {self.run_id!r} in {redact_url(url)}")
        self.schema, found = row
        if found not in SUPPORTED_VERSIONS:
            newer = "; upgrade townsquare to read it" if found > SCHEMA_VERSION else ""
            raise StoreError(
                f"{self.path} has store schema version {found}, but this townsquare "
                f"supports versions {SUPPORTED_VERSIONS.start}..{SCHEMA_VERSION}{newer}"
            )
        self._conn.execute("SET default_transaction_read_only = on")
        self._conn.execute(f"SET search_path TO {quote(self.schema)}")
        self._conn.adapters.register_loader("numeric", FloatLoader)  # SUM/AVG as floats

    # -- lifetime

    def close(self) -> None:
        self._conn.close()

    def __del__(self) -> None:
        # a Run is never closed explicitly: give the server connection back when dropped
        conn = getattr(self, "_conn", None)
        if conn is not None and not conn.closed:
            conn.close()

    # -- generic access

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> pd.DataFrame:
        """Run a read-only SQL query on the run's tables and return its rows.

        The hidden ``rowid`` column is dropped from the result unless the
        select list names it.
        """
        import psycopg

        try:
            with self._conn.cursor() as cursor:
                cursor.execute(pyformat(sql, params), params if params else None)
                names = [d.name for d in cursor.description or ()]
                rows = cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise StoreError(f"query on {self.path} failed: {exc}") from None
        frame = pd.DataFrame.from_records(rows, columns=names)
        if ROWID in names and not re.search(rf"\b{ROWID}\b", _select_list(sql), re.IGNORECASE):
            frame = frame.loc[:, [n != ROWID for n in names]]
        return frame

    def tables(self) -> list[str]:
        """Names of the tables in this run, in creation order."""
        frame = self.query(
            "SELECT c.relname AS name FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ? AND c.relkind = 'r' ORDER BY c.oid",
            (self.schema,),
        )
        return frame["name"].tolist()

    def column_types(self, table: str) -> dict[str, str]:
        """Store type (INTEGER, REAL, TEXT) of each column of ``table``, without ``rowid``."""
        info = self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            (self.schema, table),
        )
        return {
            name: sql_type_of(kind)
            for name, kind in zip(info["column_name"], info["data_type"], strict=True)
            if name != ROWID
        }

    def insertion_order(self, table: str) -> str:
        """ORDER BY clause for insertion order: every table here has the ``rowid`` identity."""
        return "rowid"

    def table(self, name: str) -> pd.DataFrame:
        """All rows of a table in insertion order, with numpy dtypes per column type."""
        if name not in self.tables():
            if name in SCHEMA:
                types = {c.name: c.type for c in SCHEMA[name].columns}
                return typed_frame(pd.DataFrame(columns=list(types)), types)
            raise StoreError(f"{self.path} has no table {name!r}; it has {self.tables()}")
        types = self.column_types(name)
        columns = ", ".join(quote(c) for c in types)
        frame = self.query(f"SELECT {columns} FROM {quote(name)} ORDER BY {ROWID}")
        try:
            return typed_frame(frame, types)
        except StoreError as exc:
            raise StoreError(f"{self.path} is damaged: table {name!r} {exc}") from None

    def iter_rows(self, table: str, batch_size: int = 65_536) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of ``table`` in batches (a server-side cursor), for streaming exports."""
        import psycopg

        columns = ", ".join(quote(c) for c in self.column_types(table))
        try:
            with self._conn.transaction(), self._conn.cursor(name="townsquare_rows") as cursor:
                cursor.execute(f"SELECT {columns} FROM {quote(table)} ORDER BY {ROWID}")
                while batch := cursor.fetchmany(batch_size):
                    yield batch
        except psycopg.Error as exc:
            raise StoreError(f"reading {table} from {self.path} failed: {exc}") from None


# ------------------------------------------------------------------- SQL dialect

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|%|\?|(?<![:\w]):[A-Za-z_]\w*")


def pyformat(sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> str:
    """SQLite-style placeholders (``?``, ``:name``) as psycopg's (``%s``, ``%(name)s``).

    Without parameters the text is sent as is. Literal ``%`` is doubled;
    quoted strings and identifiers are left alone apart from that.
    """
    if not params:
        return sql

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if token[0] in "'\"":
            return token.replace("%", "%%")
        if token == "%":
            return "%%"
        if token == "?":
            return "%s"
        if token == "::":
            return token
        return f"%({token[1:]})s"

    return _TOKENS.sub(swap, sql)


def _select_list(sql: str) -> str:
    """The text between the first SELECT and its FROM (roughly: the selected columns)."""
    match = re.search(r"\bselect\b(.*?)\bfrom\b", sql, re.IGNORECASE | re.DOTALL)
    return match.group(1) if match else sql


def _has_registry(conn: psycopg.Connection, registry: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (registry,)).fetchone()
    return row is not None and row[0] is not None


# ------------------------------------------------------------------- finding runs


def list_postgres_runs(url: str) -> list[dict[str, object]]:
    """Runs in the database at ``url``, oldest first (the registry's rows)."""
    import psycopg

    conn = connect(url)
    try:
        registry = registry_name(conn, url)
        if not _has_registry(conn, registry):
            return []
        columns = ", ".join(quote(c) for c in REGISTRY_COLUMNS)
        rows = conn.execute(
            f"SELECT run_id, {columns} FROM {registry} ORDER BY created_at, run_id"
        ).fetchall()
    except psycopg.Error as exc:
        message = f"listing runs in {redact_url(url)} failed: {scrub(str(exc), url)}"
        raise StoreError(message) from None
    finally:
        conn.close()
    return [
        {"run_id": run_id, "path": PostgresRun(url, run_id),
         **dict(zip(REGISTRY_COLUMNS, values, strict=True))}
        for run_id, *values in rows
    ]


def resolve_postgres_run(ref: str | Path, url: str) -> PostgresRun:
    """A run in the database at ``url``: by id, unique id prefix, or ``latest``.

    ``ref`` may also be a whole ``postgresql://.../db#run_id`` address.
    """
    text = str(ref)
    if text.startswith(("postgresql://", "postgres://")):
        url, _, text = text.partition("#")
        text = text or LATEST[0]
    runs = list_postgres_runs(url)
    ids = [str(r["run_id"]) for r in runs]
    where = redact_url(url)
    if text in LATEST:
        if not ids:
            raise RunNotFoundError(f"no runs in {where}, so there is no {text!r} run")
        return PostgresRun(url, ids[-1])
    if text in ids:
        return PostgresRun(url, text)
    matches = [i for i in ids if text and i.startswith(text)]
    if len(matches) == 1:
        return PostgresRun(url, matches[0])
    if len(matches) > 1:
        raise RunNotFoundError(f"run id {text!r} is ambiguous in {where}: {', '.join(matches)}")
    hint = (f"recent runs there: {', '.join(reversed(ids[-5:]))} (or 'latest' for the newest)"
            if ids else "it holds no runs")
    raise RunNotFoundError(f"no run {text!r} in {where}; {hint}")
