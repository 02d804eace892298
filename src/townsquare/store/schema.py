"""The run database's layout: tables, columns, indexes, markers and meta encoding.

Every table is declared once in :data:`TABLES`; the writer, the readers and the
Parquet export all derive their SQL and their column types from it, so adding
a table is one entry here (bump :data:`SCHEMA_VERSION` when a change would
confuse an older reader). A run database is marked with ``PRAGMA
application_id = APPLICATION_ID`` and ``PRAGMA user_version = SCHEMA_VERSION``,
which is how a reader tells a townsquare run from any other SQLite file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

SCHEMA_VERSION = 1
"""Version of the layout below, stored as ``PRAGMA user_version``."""

SUPPORTED_VERSIONS = range(1, SCHEMA_VERSION + 1)
"""Schema versions this code can read."""

APPLICATION_ID = 0x54575351
"""``PRAGMA application_id`` of a townsquare run: ASCII ``TWSQ``."""

RUN_FILE = "run.sqlite"
"""Name of the database inside a run folder."""

STATUSES = ("running", "completed", "failed", "interrupted")
# written once when a run starts; meta key ``initial_tables`` marks them committed
INITIAL_TABLES = ("agents", "edges")
"""Values of the ``status`` meta key."""

SQL_TYPES = ("INTEGER", "REAL", "TEXT")


@dataclass(frozen=True)
class Column:
    """One column: name, SQL type, and whether it must be given."""

    name: str
    type: str
    required: bool = False
    primary_key: bool = False
    default: str | None = None  # SQL literal

    def ddl(self) -> str:
        parts = [quote(self.name), self.type]
        if self.primary_key:
            parts.append("PRIMARY KEY")
        elif self.required:
            parts.append("NOT NULL")
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        return " ".join(parts)


@dataclass(frozen=True)
class Table:
    """One table. ``per_step`` tables have a ``step`` column that ``write_step`` fills."""

    name: str
    columns: tuple[Column, ...]
    per_step: bool = False
    indexes: tuple[tuple[str, ...], ...] = ()
    step_ordered: bool = False
    """Rows (rowid, or the integer primary key) are appended in step order."""
    key: tuple[str, ...] = ()
    """A unique key the rows are stored in (SQLite ``WITHOUT ROWID``): a snapshot table
    keyed by ``(step, agent, ...)`` is then its own step index, with no rowid and no
    second copy of the key in an index. The writer sorts each step's rows by it, so
    rows are appended at the tree's end and pages are filled."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required or c.primary_key)

    def ddl(self) -> str:
        body = ", ".join(c.ddl() for c in self.columns)
        if not self.key:
            return f"CREATE TABLE IF NOT EXISTS {quote(self.name)} ({body})"
        key = ", ".join(quote(c) for c in self.key)
        return (f"CREATE TABLE IF NOT EXISTS {quote(self.name)} ({body}, PRIMARY KEY ({key})) "
                "WITHOUT ROWID")

    def index_ddl(self) -> list[str]:
        """Indexes. The SQLite writer makes them with the table, so its thread (which
        runs beside the simulation) keeps them up to date step by step and closing a
        run has nothing left to build; rows arrive in step order, so most of them only
        grow at their end."""
        return [
            f"CREATE INDEX IF NOT EXISTS {quote(f'{self.name}_' + '_'.join(cols))} "
            f"ON {quote(self.name)} ({', '.join(quote(c) for c in cols)})"
            for cols in self.indexes
        ]


def _int(name: str, *, required: bool = False, primary_key: bool = False) -> Column:
    return Column(name, "INTEGER", required=required, primary_key=primary_key)


def _real(name: str, *, required: bool = False, primary_key: bool = False) -> Column:
    return Column(name, "REAL", required=required, primary_key=primary_key)


def _text(name: str, *, required: bool = False, primary_key: bool = False) -> Column:
    return Column(name, "TEXT", required=required, primary_key=primary_key)


_STEP = _int("step", required=True)

TABLES: tuple[Table, ...] = (
    Table("meta", (_text("key", primary_key=True), _text("value"))),
    # One row per committed step, written in the step's own transaction.
    Table("steps", (_int("step", primary_key=True), _real("written_at"))),
    # Persona columns; write_agents adds one column per extra frame column
    # (interest_<topic> ...).
    Table(
        "agents",
        (
            _int("agent", primary_key=True),
            _text("age_group"),
            _real("leaning"),
            _real("activity"),
            _real("susceptibility"),
            _text("role"),
            Column("behavior", "TEXT", default="'heuristic'"),
        ),
    ),
    Table("edges", (_int("src", required=True), _int("dst", required=True))),
    Table(
        "posts",
        (
            _int("post_id", primary_key=True),
            _STEP,
            _int("author", required=True),
            _int("kind"),
            _int("parent"),
            _int("root"),
            _int("topic"),
            _real("stance"),
            _int("veracity"),
            _int("news"),
            _text("text"),
        ),
        per_step=True,
        # no step index: post ids grow with the step (the rewind on resume bisects them)
        indexes=(("root",),),
        step_ordered=True,
    ),
    Table(
        "events",
        (
            _STEP,
            _int("agent", required=True),
            _int("action", required=True),
            _int("post"),
            _int("target"),
            _text("reason"),
        ),
        per_step=True,
        # no step index: rows are appended in step order, so the rewind on resume
        # bisects the rowid; no reader filters events by step
        step_ordered=True,
    ),
    # one row per post shown in a step (post unique within the step)
    Table(
        "exposures",
        (_STEP, _int("post", required=True), _int("count", required=True)),
        per_step=True,
        key=("step", "post"),
    ),
    Table(
        "state",
        (_STEP, _int("agent", required=True), _real("valence"), _real("arousal")),
        per_step=True,
        key=("step", "agent"),
    ),
    Table(
        "attitudes",
        (_STEP, _int("agent", required=True), _int("topic", required=True), _real("value")),
        per_step=True,
        key=("step", "agent", "topic"),
    ),
    Table(
        "beliefs",
        (_STEP, _int("agent", required=True), _int("news", required=True), _real("value")),
        per_step=True,
        key=("step", "agent", "news"),
    ),
    Table(
        "metrics",
        (_STEP, _text("name", required=True), _real("value")),
        per_step=True,
        indexes=(("step",),),
    ),
    Table(
        "labels",
        (_STEP, _int("post", required=True), _int("label", required=True), _text("source")),
        per_step=True,
        indexes=(("post",),),
    ),
    # One row per firing of a scheduled intervention: units touched and their cost.
    Table(
        "interventions",
        (_STEP, _text("name", required=True), _text("kind"), _int("units"), _real("cost")),
        per_step=True,
    ),
    # Survey answers: value is the numeric answer (Likert point, choice index, number),
    # answer the text shown to the respondent or written by it.
    Table(
        "surveys",
        (
            _STEP,
            _text("survey", required=True),
            _text("question", required=True),
            _int("agent", required=True),
            _real("value"),
            _text("answer"),
        ),
        per_step=True,
        indexes=(("survey", "question"),),
    ),
    # LLM agents' memory streams (observation, action, reflection).
    Table(
        "memories",
        (
            _int("agent", required=True),
            _STEP,
            _text("kind"),
            _real("importance"),
            _text("text"),
        ),
        per_step=True,
        indexes=(("agent",),),
    ),
    # One row per logical model call: tokens, latency, cache, faults, fallbacks, cost.
    Table(
        "llm_calls",
        (
            _STEP,
            _int("agent"),
            _text("model"),
            _text("purpose"),
            _int("prompt_tokens"),
            _int("completion_tokens"),
            _real("latency_ms"),
            _int("cache_hit"),
            _int("attempts"),
            _text("fault"),
            _int("fallback"),
            _real("cost"),
            _text("request_hash"),
        ),
        per_step=True,
        indexes=(("step",),),
    ),
    # -- environments beside the feed (townsquare.environments) --
    # Market: one row per limit order sent to a call auction, with its fill.
    Table(
        "orders",
        (
            _STEP,
            _int("agent", required=True),
            _int("asset", required=True),  # index into environment.assets
            _int("side", required=True),  # +1 buy, -1 sell
            _real("quantity"),
            _real("limit_price"),
            _real("filled"),
            _real("price"),  # the auction's clearing price
            _text("reason"),
        ),
        per_step=True,
        indexes=(("step",),),
    ),
    # Commons: one row per agent and round: announced intention and actual catch.
    Table(
        "harvests",
        (
            _STEP,
            _int("agent", required=True),
            _real("announced"),
            _real("harvest"),
            _text("message"),
            _text("reason"),
        ),
        per_step=True,
        indexes=(("step",),),
    ),
    # Election: one ballot per agent on election day (party: index into environment.parties).
    Table(
        "votes",
        (_STEP, _int("agent", required=True), _int("party", required=True), _text("reason")),
        per_step=True,
    ),
)

SCHEMA: dict[str, Table] = {t.name: t for t in TABLES}


def quote(identifier: str) -> str:
    """Quote an SQL identifier (column names come from user topic names)."""
    return '"' + identifier.replace('"', '""') + '"'


def sql_type(dtype_kind: str) -> str:
    """SQL type for a numpy dtype kind (``'i'``, ``'f'``, ...)."""
    if dtype_kind in "iub":
        return "INTEGER"
    if dtype_kind == "f":
        return "REAL"
    return "TEXT"


def encode_meta(value: object) -> str:
    """Meta value as text: plain strings stay readable, anything else is JSON.

    A string that would itself parse as JSON (``"1"``, ``"null"``) is stored
    JSON-quoted, so :func:`decode_meta` always returns what was written.
    """
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    try:
        return json.dumps(value, default=_json_default)
    except TypeError as exc:
        raise ValueError(f"meta value {value!r} is not JSON-serializable") from exc


def _json_default(value: object) -> object:
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(type(value).__name__)


def decode_meta(text: object) -> object:
    """Inverse of :func:`encode_meta`; a value that is not JSON text comes back as it is."""
    if text is None or (isinstance(text, float) and text != text):  # NULL (NaN in pandas)
        return None
    if not isinstance(text, str | bytes | bytearray):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: deeply nested (damaged) JSON
        return text
