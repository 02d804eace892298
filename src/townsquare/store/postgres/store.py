"""The PostgreSQL store backend: one schema per run in the database at ``url``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from townsquare.store.postgres.layout import PostgresRun, is_store_url
from townsquare.store.postgres.reader import (
    PostgresRunReader,
    list_postgres_runs,
    resolve_postgres_run,
)
from townsquare.store.postgres.writer import PostgresRunWriter


@dataclass(frozen=True)
class PostgresStore:
    """Runs in the database ``url`` (a :class:`~townsquare.store.protocols.StoreBackend`).

    A PostgreSQL run still has its local folder, for the files that are not rows
    (checkpoints, reports); its name is the run id.
    """

    url: str

    def run_ref(self, run_dir: Path) -> PostgresRun:
        return PostgresRun(self.url, Path(run_dir).name, folder=Path(run_dir))

    def create_writer(self, run_dir: Path, meta: Mapping[str, object]) -> PostgresRunWriter:
        Path(run_dir).mkdir(parents=True, exist_ok=True)  # checkpoints go here
        return PostgresRunWriter.create(self.url, Path(run_dir).name,
                                        {**meta, "run_dir": str(run_dir)})

    def reopen_writer(self, run_dir: Path, after_step: int | None,
                      reset_initial: bool = False) -> PostgresRunWriter:
        return PostgresRunWriter.reopen(self.url, Path(run_dir).name, after_step=after_step,
                                        reset_initial=reset_initial)

    def open_reader(self, ref: str | Path | PostgresRun) -> PostgresRunReader:
        if isinstance(ref, PostgresRun):
            return PostgresRunReader(ref.url, ref.run_id, run_dir=ref.folder)
        if not is_store_url(ref):
            raise TypeError(f"{ref} is not a run in {self.url}")
        found = resolve_postgres_run(str(ref), str(ref).partition("#")[0])
        return PostgresRunReader(found.url, found.run_id)

    def list_runs(self, *, within: bool = False) -> list[dict[str, object]]:
        return list_postgres_runs(self.url)

    def resolve_run(self, ref: str | Path) -> PostgresRun:
        return resolve_postgres_run(ref, self.url)
