"""The default store backend: one SQLite database (``run.sqlite``) per run folder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from townsquare.store.postgres.layout import PostgresRun
from townsquare.store.reader import SqliteRunReader, list_sqlite_runs, resolve_sqlite_run
from townsquare.store.sqlite import SqliteRunWriter


@dataclass(frozen=True)
class SqliteStore:
    """Runs as folders under ``root`` (a :class:`~townsquare.store.protocols.StoreBackend`)."""

    root: Path = Path("runs")

    def run_ref(self, run_dir: Path) -> Path:
        return run_dir

    def create_writer(self, run_dir: Path, meta: Mapping[str, object]) -> SqliteRunWriter:
        return SqliteRunWriter.create(run_dir, meta)

    def reopen_writer(self, run_dir: Path, after_step: int | None,
                      reset_initial: bool = False) -> SqliteRunWriter:
        return SqliteRunWriter.reopen(run_dir, after_step=after_step, reset_initial=reset_initial)

    def open_reader(self, ref: str | Path | PostgresRun) -> SqliteRunReader:
        if isinstance(ref, PostgresRun):
            raise TypeError(f"{ref} is a PostgreSQL run, not one of {self.root}")
        return SqliteRunReader(ref)

    def list_runs(self, *, within: bool = False) -> list[dict[str, object]]:
        return list_sqlite_runs(self.root, within=within)

    def resolve_run(self, ref: str | Path) -> Path:
        return resolve_sqlite_run(ref, self.root)
