"""Where a run lives in PostgreSQL: URLs, the per-run schema, its DDL and the registry.

One database holds many runs. Each run gets its own PostgreSQL schema, named
after the run id, with the tables of :data:`townsquare.store.schema.TABLES`
(SQL types mapped to PostgreSQL's); a ``townsquare_runs`` registry table in
the connection's default schema lists the runs so that ``latest`` and
``list_runs`` work for a URL. Every table gets a hidden ``rowid`` identity
column, as SQLite has one, so rows read back in the order they were written.

This module needs no driver: it only builds names and SQL text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from townsquare.store.schema import APPLICATION_ID, Column, Table, quote

URL_SCHEMES = ("postgresql://", "postgres://")

REGISTRY = "townsquare_runs"
"""The table listing every run in a database (one row per run)."""

REGISTRY_COLUMNS = ("scenario_name", "status", "created_at", "n_agents", "last_step")
"""Meta keys mirrored into the registry, so runs can be listed without opening each."""

ROWID = "rowid"
"""Hidden identity column giving every table SQLite's insertion order."""

LOCK_KEY = APPLICATION_ID
"""Advisory lock held while creating runs, so concurrent creators never race on DDL."""

PG_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "TEXT": "TEXT"}

MAX_IDENTIFIER = 63  # bytes; PostgreSQL truncates longer names (NAMEDATALEN - 1)

_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s\"']*):[^@/\s\"']*@")


def is_store_url(value: object) -> bool:
    """Whether ``value`` names a PostgreSQL database (``postgresql://...``)."""
    return isinstance(value, str) and value.startswith(URL_SCHEMES)


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (safe to print and store)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def without_password(url: str) -> str:
    """``url`` with no password at all: stored where the URL is used again to connect
    (a sweep's manifest), so the password comes from ``PGPASSWORD`` or ``~/.pgpass``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))


def scrub(text: str, url: str) -> str:
    """``text`` with ``url`` and any other PostgreSQL URL's password redacted."""
    if url:
        text = text.replace(url, redact_url(url))
    return _PASSWORD.sub(r"\1:***@", text)


@dataclass(frozen=True)
class PostgresRun:
    """A run stored in PostgreSQL: the database URL and the run id.

    ``folder`` is the local folder for the run's files (checkpoints, reports),
    when known. The URL may carry a password: ``str`` and ``repr`` redact it.
    """

    url: str = field(repr=False)
    run_id: str
    folder: Path | None = None

    @property
    def name(self) -> str:
        """The run id (what ``Path.name`` is for a SQLite run folder)."""
        return self.run_id

    def __str__(self) -> str:
        return f"{redact_url(self.url)}#{self.run_id}"

    def __repr__(self) -> str:
        return f"PostgresRun({str(self)!r})"


def schema_name(run_id: str) -> str:
    """The PostgreSQL schema of a run: its id, shortened with a hash when too long."""
    if not run_id:
        raise ValueError("a run id must not be empty")
    if len(run_id.encode()) <= MAX_IDENTIFIER:
        return run_id
    digest = hashlib.sha1(run_id.encode()).hexdigest()[:8]
    head = run_id.encode()[: MAX_IDENTIFIER - 9].decode(errors="ignore")
    return f"{head}-{digest}"


def qualified(schema: str, table: str) -> str:
    return f"{quote(schema)}.{quote(table)}"


def column_ddl(column: Column) -> str:
    """A column definition with the SQL type mapped to PostgreSQL's."""
    parts = [quote(column.name), PG_TYPES.get(column.type, "TEXT")]
    if column.primary_key:
        parts.append("PRIMARY KEY")
    elif column.required:
        parts.append("NOT NULL")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    return " ".join(parts)


def table_ddl(schema: str, table: Table) -> str:
    body = ", ".join(
        [*(column_ddl(c) for c in table.columns), f"{ROWID} BIGINT GENERATED ALWAYS AS IDENTITY"]
    )
    return f"CREATE TABLE {qualified(schema, table.name)} ({body})"


def index_ddl(schema: str, table: Table) -> list[str]:
    """The same indexes as the SQLite store, created at close; a table SQLite stores in
    its key order (``WITHOUT ROWID``) gets an index on that key here, and one SQLite
    rewinds by bisecting its rowid (``step_ordered``) a step index for the rewind."""
    lookups = (*table.indexes, *((table.key,) if table.key else ()),
               *((("step",),) if table.step_ordered else ()))
    return [
        f"CREATE INDEX IF NOT EXISTS {quote(f'{table.name}_' + '_'.join(cols))} "
        f"ON {qualified(schema, table.name)} ({', '.join(quote(c) for c in cols)})"
        for cols in lookups
    ]


def registry_ddl(registry: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {registry} ("
        "run_id TEXT PRIMARY KEY, schema_name TEXT NOT NULL UNIQUE, "
        "schema_version INTEGER NOT NULL, scenario_name TEXT, status TEXT, "
        "created_at TEXT, n_agents BIGINT, last_step BIGINT)"
    )


def sql_type_of(pg_type: str) -> str:
    """The store's SQL type (INTEGER, REAL, TEXT) of a PostgreSQL column type."""
    if pg_type in ("bigint", "integer", "smallint", "boolean"):
        return "INTEGER"
    if pg_type in ("double precision", "real", "numeric"):
        return "REAL"
    return "TEXT"
