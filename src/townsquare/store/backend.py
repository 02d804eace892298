"""Choosing the run store: SQLite files by default, PostgreSQL for a ``postgresql://`` URL.

The engine and :class:`townsquare.run.Run` go through these few functions, so
the choice is made in one place. A run is named by a run folder (SQLite) or
by a :class:`PostgresRun` (database URL + run id); a PostgreSQL run still has
its local folder, for the files that are not rows (checkpoints, reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from townsquare.store.postgres import (
    PostgresRun,
    PostgresRunReader,
    PostgresRunWriter,
    is_store_url,
)
from townsquare.store.reader import RunReader
from townsquare.store.sqlite import RunWriter

AnyWriter = RunWriter | PostgresRunWriter
AnyReader = RunReader | PostgresRunReader


def run_ref(store: str | None, run_dir: Path) -> Path | PostgresRun:
    """How to open the run kept in ``run_dir`` (SQLite) or in the database ``store``."""
    if store is None:
        return run_dir
    return PostgresRun(store, Path(run_dir).name, folder=Path(run_dir))


def create_writer(store: str | None, run_dir: Path, meta: Mapping[str, object]) -> AnyWriter:
    """A writer for a new run: ``run_dir/run.sqlite``, or the run's schema in ``store``."""
    if store is None:
        return RunWriter.create(run_dir, meta)
    Path(run_dir).mkdir(parents=True, exist_ok=True)  # checkpoints go here
    return PostgresRunWriter.create(store, Path(run_dir).name, {**meta, "run_dir": str(run_dir)})


def reopen_writer(store: str | None, run_dir: Path, after_step: int | None,
                  reset_initial: bool = False) -> AnyWriter:
    """A writer continuing a run after ``after_step`` (later rows are dropped).

    ``reset_initial`` empties agents and edges too (they are written again).
    """
    if store is None:
        return RunWriter.reopen(run_dir, after_step=after_step, reset_initial=reset_initial)
    return PostgresRunWriter.reopen(store, Path(run_dir).name, after_step=after_step,
                                    reset_initial=reset_initial)


def open_reader(ref: str | Path | PostgresRun) -> AnyReader:
    """A reader for a run folder or database file, or for a :class:`PostgresRun`."""
    if isinstance(ref, PostgresRun):
        return PostgresRunReader(ref.url, ref.run_id, run_dir=ref.folder)
    if is_store_url(ref):
        from townsquare.store.postgres import resolve_postgres_run

        found = resolve_postgres_run(str(ref), str(ref).partition("#")[0])
        return PostgresRunReader(found.url, found.run_id)
    return RunReader(ref)
