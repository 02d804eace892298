"""Choosing the run store: SQLite files by default, PostgreSQL for a ``postgresql://`` URL.

The engine and :class:`townsquare.run.Run` go through these few functions, so
the choice is made in one place (:func:`store_backend`); each backend is a
:class:`~townsquare.store.protocols.StoreBackend`. A run is named by a run folder
(SQLite) or by a :class:`PostgresRun` (database URL + run id); a PostgreSQL run
still has its local folder, for the files that are not rows (checkpoints, reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from townsquare.store.postgres.layout import PostgresRun, is_store_url
from townsquare.store.postgres.store import PostgresStore
from townsquare.store.protocols import RunRef, RunStoreWriter, StoreBackend
from townsquare.store.sqlite_store import SqliteStore
from townsquare.store.tables import RunTables


def store_backend(store: str | Path | None, root: Path | str = Path("runs")) -> StoreBackend:
    """The backend of ``store``: a ``postgresql://`` URL, else SQLite folders under
    ``store`` (or ``root`` when ``store`` is None)."""
    if is_store_url(store):
        return PostgresStore(str(store).partition("#")[0])
    return SqliteStore(Path(store if store is not None else root))


def run_ref(store: str | None, run_dir: Path) -> RunRef:
    """How to open the run kept in ``run_dir`` (SQLite) or in the database ``store``."""
    return store_backend(store).run_ref(run_dir)


def create_writer(store: str | None, run_dir: Path,
                  meta: Mapping[str, object]) -> RunStoreWriter:
    """A writer for a new run: ``run_dir/run.sqlite``, or the run's schema in ``store``."""
    return store_backend(store).create_writer(run_dir, meta)


def reopen_writer(store: str | None, run_dir: Path, after_step: int | None,
                  reset_initial: bool = False) -> RunStoreWriter:
    """A writer continuing a run after ``after_step`` (later rows are dropped).

    ``reset_initial`` empties agents and edges too (they are written again).
    """
    return store_backend(store).reopen_writer(run_dir, after_step, reset_initial)


def open_reader(ref: str | Path | PostgresRun) -> RunTables:
    """A reader for a run folder or database file, or for a :class:`PostgresRun`."""
    if isinstance(ref, PostgresRun):
        return PostgresStore(ref.url).open_reader(ref)
    return store_backend(ref if is_store_url(ref) else None).open_reader(ref)


def list_runs(runs_dir: Path | str, *, within: bool = False) -> list[dict[str, object]]:
    """Runs under ``runs_dir`` (or in the database it names), oldest first; unreadable
    ones have status ``unreadable``.

    With ``within``, a folder that is a symlink to somewhere outside ``runs_dir``
    is skipped without being read (the dashboard serves only its own folder).
    """
    return store_backend(runs_dir).list_runs(within=within)


def resolve_run(ref: str | Path, runs_dir: Path | str = Path("runs")) -> RunRef:
    """Turn what a user typed into a run: a folder, a database file, an id, or ``latest``.

    With a ``postgresql://`` URL as ``runs_dir`` (or ``ref`` ``URL#run_id``),
    returns the :class:`PostgresRun` found in that database.
    """
    if is_store_url(ref) and not is_store_url(runs_dir):
        return PostgresStore(str(ref).partition("#")[0]).resolve_run(ref)
    return store_backend(runs_dir).resolve_run(ref)
