"""Find runs and read them: read-only, safe while the run is still being written.

A :class:`SqliteRunReader` opens ``run.sqlite`` through a read-only URI, so reading
(reports, dashboards, exports) can never change a run, and thanks to WAL it
sees every step committed so far even while the writer is busy. Before anything
else it checks that the file is a SQLite database, carries townsquare's
application id and a schema version this code knows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from townsquare.errors import RunNotFoundError, StoreError
from townsquare.store.schema import (
    APPLICATION_ID,
    RUN_FILE,
    SCHEMA,
    SCHEMA_VERSION,
    SUPPORTED_VERSIONS,
    quote,
)
from townsquare.store.tables import LATEST, RunTables, typed_frame

SQLITE_HEADER = b"SQLite format 3\x00"


def database_path(path: Path | str) -> Path:
    """The ``run.sqlite`` of a run folder, or ``path`` itself if it is a file."""
    path = Path(path)
    if path.is_dir():
        db = path / RUN_FILE
        if not db.is_file():
            raise RunNotFoundError(f"{path} is not a run folder: it has no {RUN_FILE}")
        return db
    if not path.is_file():
        raise RunNotFoundError(f"no run at {path}: no such file or folder")
    return path


class SqliteRunReader(RunTables):
    """Read-only access to one run's tables as DataFrames."""

    def __init__(self, path: Path | str) -> None:
        self.path = database_path(path)
        self.run_dir = self.path.parent
        _check_header(self.path)
        uri = self.path.resolve().as_uri() + "?mode=ro"
        self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            self._check_markers()
        except BaseException:
            self._conn.close()
            raise

    def _check_markers(self) -> None:
        try:
            app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
            found = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a SQLite database ({exc})") from None
        if app_id != APPLICATION_ID:
            raise StoreError(
                f"{self.path} is a SQLite database but not a townsquare run database "
                f"(application_id {app_id:#x}, expected {APPLICATION_ID:#x})"
            )
        if found not in SUPPORTED_VERSIONS:
            newer = "; upgrade townsquare to read it" if found > SCHEMA_VERSION else ""
            raise StoreError(
                f"{self.path} has store schema version {found}, but this townsquare "
                f"supports versions {SUPPORTED_VERSIONS.start}..{SCHEMA_VERSION}{newer}"
            )

    # -- lifetime

    def close(self) -> None:
        self._conn.close()

    # -- generic access

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> pd.DataFrame:
        """Run a read-only SQL query and return its rows."""
        try:
            cursor = self._conn.execute(sql, params)
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"query on {self.path} failed: {exc}") from None
        names = [d[0] for d in cursor.description or ()]
        return pd.DataFrame.from_records(rows, columns=names)

    def tables(self) -> list[str]:
        """Names of the tables in this run, in creation order."""
        frame = self.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return frame["name"].tolist()

    def column_types(self, table: str) -> dict[str, str]:
        """Declared SQL type of each column of ``table`` (``""`` if none)."""
        info = self.query(f"PRAGMA table_info({quote(table)})")
        return dict(zip(info["name"], info["type"].str.upper(), strict=True))

    def table(self, name: str) -> pd.DataFrame:
        """All rows of a table in insertion order, with numpy dtypes per column type.

        A table that the schema knows but this (older) run lacks reads as empty.
        """
        if name not in self.tables():
            if name in SCHEMA:
                types = {c.name: c.type for c in SCHEMA[name].columns}
                return typed_frame(pd.DataFrame(columns=list(types)), types)
            raise StoreError(f"{self.path} has no table {name!r}; it has {self.tables()}")
        frame = self.query(f"SELECT * FROM {quote(name)} ORDER BY {self.insertion_order(name)}")
        try:
            return typed_frame(frame, self.column_types(name))
        except StoreError as exc:
            raise StoreError(f"{self.path} is damaged: table {name!r} {exc}") from None

    def insertion_order(self, table: str) -> str:
        """ORDER BY clause for insertion order: the rowid, or for a table stored in its
        key order (``WITHOUT ROWID``, written sorted by the key) that key."""
        found = self._conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                                   "name = ?", (table,)).fetchone()
        keyed = found is not None and "WITHOUT ROWID" in str(found[0]).upper()
        if keyed and table in SCHEMA and SCHEMA[table].key:
            return ", ".join(quote(c) for c in SCHEMA[table].key)
        return "rowid"

    def iter_rows(self, table: str, batch_size: int = 65_536) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of ``table`` in batches, for streaming exports of large tables."""
        try:
            order = self.insertion_order(table)
            cursor = self._conn.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")
            while batch := cursor.fetchmany(batch_size):
                yield batch
        except sqlite3.Error as exc:
            raise StoreError(f"reading {table} from {self.path} failed: {exc}") from None

def _check_header(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if not header:
        raise StoreError(f"{path} is an empty file, not a townsquare run database")
    if header != SQLITE_HEADER:
        raise StoreError(f"{path} is not a SQLite database (it does not start with the header)")


# ------------------------------------------------------------------- finding runs


def list_sqlite_runs(runs_dir: Path | str, *,
                     within: bool = False) -> list[dict[str, object]]:
    """Run folders under ``runs_dir``, oldest first; unreadable ones have status
    ``unreadable``.

    With ``within``, a folder that is a symlink to somewhere outside ``runs_dir``
    is skipped without being read (the dashboard serves only its own folder).
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    runs = []
    root = runs_dir.resolve()
    for folder in sorted(runs_dir.iterdir()):
        if within and not (folder / RUN_FILE).resolve().is_relative_to(root):
            continue
        if not (folder / RUN_FILE).is_file():
            continue
        run: dict[str, object] = {"run_id": folder.name, "path": folder}
        try:
            with SqliteRunReader(folder) as reader:
                meta = reader.meta()
        except StoreError:
            meta = {"status": "unreadable"}
        for key in ("scenario_name", "status", "created_at", "n_agents", "last_step"):
            run[key] = meta.get(key)
        runs.append(run)
    runs.sort(key=lambda r: (str(r["created_at"] or ""), str(r["run_id"])))
    return runs


def resolve_sqlite_run(ref: str | Path, runs_dir: Path | str = Path("runs")) -> Path:
    """Turn what a user typed into a run folder: a folder, a database file, an id, or
    ``latest``.

    Returns the run folder (or the database file when ``ref`` names a file
    other than ``run.sqlite``). An id may be abbreviated to a unique prefix.
    """
    runs_dir = Path(runs_dir)
    text = str(ref)
    if text in LATEST:
        runs = [r for r in list_sqlite_runs(runs_dir) if r["status"] != "unreadable"]
        if not runs:
            raise RunNotFoundError(f"no runs in {runs_dir}, so there is no {text!r} run")
        return Path(str(runs[-1]["path"]))
    path = Path(ref)
    if (path / RUN_FILE).is_file():
        return path
    if path.is_file():
        return path.parent if path.name == RUN_FILE else path
    if text and (runs_dir / text / RUN_FILE).is_file():
        return runs_dir / text
    ids = [str(r["run_id"]) for r in list_sqlite_runs(runs_dir)]
    matches = [i for i in ids if text and i.startswith(text)]
    if len(matches) == 1:
        return runs_dir / matches[0]
    if len(matches) > 1:
        raise RunNotFoundError(f"run id {text!r} is ambiguous in {runs_dir}: {', '.join(matches)}")
    if path.is_dir():
        raise RunNotFoundError(f"{path} is not a run folder: it has no {RUN_FILE}")
    if ids:
        shown = ", ".join(reversed(ids[-5:]))
        hint = f"recent runs in {runs_dir}: {shown} (or 'latest' for the newest)"
    else:
        hint = f"{runs_dir} holds no runs"
    raise RunNotFoundError(
        f"no run {text!r}: not a run folder, a run database, nor a run id; {hint}"
    )
