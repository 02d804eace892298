"""A fingerprint of what a run produced: equal digests mean equal output tables.

Two runs of the same scenario and seed must give the same digest (the
determinism contract), on either store backend. Only simulation output enters:
the run's metadata (ids, paths, version, wall time), the step commit times and
LLM latencies are left out. Rows are put in a canonical order and every value is
hashed in a fixed binary form, so neither insertion order nor pandas' dtype
choices change the digest; any change of a value, a row or a column does.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

from townsquare.store.schema import TABLES

if TYPE_CHECKING:
    import pandas as pd

    from townsquare.store.tables import RunTables

NOT_OUTPUT = frozenset({"meta", "steps"})
"""Tables that describe the run rather than what it simulated."""
CLOCK_COLUMNS = frozenset({("llm_calls", "latency_ms")})
"""Columns measured by a clock: they differ between identical runs."""


def run_digest(reader: RunTables) -> str:
    """SHA-256 (hex) over every output table of the run behind ``reader``."""
    present = set(reader.tables())
    sha = hashlib.sha256()
    for table in TABLES:
        if table.name in NOT_OUTPUT or table.name not in present:
            continue
        columns = [c for c in table.column_names if (table.name, c) not in CLOCK_COLUMNS]
        frame = reader.table(table.name)[columns]
        sha.update(f"\x02{table.name}:{len(frame)}".encode())
        for name, values in _canonical(frame):
            sha.update(f"\x03{name}".encode())
            sha.update(values)
    return sha.hexdigest()


def _canonical(frame: pd.DataFrame) -> list[tuple[str, bytes]]:
    """Each column's values as bytes, rows sorted by every column (missing values first).

    Numbers of any dtype (nullable or not) become float64, exact for integers below
    2**53, so a column reads the same whichever backend or dtype delivered it.
    """
    import pandas as pd

    columns = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            columns[name] = column.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            columns[name] = np.array(["\x00" if pd.isna(v) else f"\x01{v}" for v in column],
                                     dtype=object)
    keys = [np.where(np.isnan(v), -np.inf, v) if v.dtype.kind == "f" else v
            for v in columns.values()]
    order = np.lexsort(keys[::-1]) if len(frame) else np.arange(0)
    return [(name, _bytes(values[order])) for name, values in columns.items()]


def _bytes(values: np.ndarray) -> bytes:
    if values.dtype.kind == "f":
        return values.astype("<f8").tobytes()
    return "\x1f".join(values.tolist()).encode()
