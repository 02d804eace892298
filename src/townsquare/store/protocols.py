"""The interfaces every store backend meets: :class:`StoreBackend` and its writer.

A backend (:class:`~townsquare.store.sqlite_store.SqliteStore`, one SQLite file
per run folder; :class:`~townsquare.store.postgres.store.PostgresStore`, one
schema per run in a database) creates writers, opens readers and finds runs;
:mod:`townsquare.store.backend` picks one from the scenario's ``store``. Code that
records a run is typed against :class:`RunStoreWriter`, code that reads one
against :class:`~townsquare.store.tables.RunTables`, so neither names a backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from townsquare.store.postgres.layout import PostgresRun
from townsquare.store.tables import RunTables

RunRef = Path | PostgresRun
"""A run: its folder (SQLite) or its database URL and id (PostgreSQL)."""


class RunStoreWriter(Protocol):
    """Append-only recording of one run: agents and edges once, then one call per step."""

    def write_agents(self, frame: pd.DataFrame) -> None: ...

    def write_edges(self, src: np.ndarray, dst: np.ndarray) -> None: ...

    def write_step(
        self,
        step: int,
        *,
        metrics: Mapping[str, float] | None = None,
        **tables: Mapping[str, Any] | None,
    ) -> None: ...

    def set_meta(self, **values: object) -> None: ...

    def flush(self) -> None: ...

    def close(
        self, status: str = "completed", summary: Mapping[str, object] | None = None
    ) -> None: ...


class StoreBackend(Protocol):
    """Where runs are kept: one place that writes them, reads them and finds them."""

    def run_ref(self, run_dir: Path) -> RunRef:
        """How to open the run whose local folder is ``run_dir``."""
        ...

    def create_writer(self, run_dir: Path, meta: Mapping[str, object]) -> RunStoreWriter:
        """A writer for a new run."""
        ...

    def reopen_writer(self, run_dir: Path, after_step: int | None,
                      reset_initial: bool = False) -> RunStoreWriter:
        """A writer continuing a run after ``after_step`` (later rows are dropped)."""
        ...

    def open_reader(self, ref: str | Path | PostgresRun) -> RunTables:
        """A read-only reader of one run."""
        ...

    def list_runs(self, *, within: bool = False) -> list[dict[str, object]]:
        """The runs kept here, oldest first."""
        ...

    def resolve_run(self, ref: str | Path) -> RunRef:
        """Turn what a user typed (a path, an id or its prefix, ``latest``) into a run."""
        ...
