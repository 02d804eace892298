"""The writer interface the engine relies on, met by every store backend.

``create_writer``/``reopen_writer`` return a SQLite ``RunWriter`` or a
``PostgresRunWriter``; code that only records a run is typed against
:class:`RunStoreWriter` so it works with either without naming both. (Readers
share the :class:`townsquare.store.reader.RunTables` base class instead.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd


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
