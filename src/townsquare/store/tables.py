"""What every store backend's reader offers: the run's tables as DataFrames, typed alike."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pandas as pd

from townsquare.errors import StoreError
from townsquare.store.schema import decode_meta

LATEST = ("latest", "last")
"""What a user types for the newest run."""


class RunTables:
    """Table readers shared by every store backend (needs ``query``, ``table``, ``tables``)."""

    path: Path | str  # names the run in messages
    run_dir: Path  # the run's local folder (checkpoints, reports)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> pd.DataFrame:
        raise NotImplementedError

    def table(self, name: str) -> pd.DataFrame:
        raise NotImplementedError

    def tables(self) -> list[str]:
        raise NotImplementedError

    def column_types(self, table: str) -> dict[str, str]:
        """Column name -> SQL type (INTEGER, REAL, TEXT) of ``table`` as stored."""
        raise NotImplementedError

    def iter_rows(self, table: str, batch_size: int = 65_536) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of ``table`` in insertion order, in batches (for streaming exports)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def meta(self) -> dict[str, object]:
        """Run metadata; JSON values (topics, news, summary, numbers) decoded."""
        rows = self.query("SELECT key, value FROM meta")
        return {
            key: decode_meta(value) for key, value in zip(rows["key"], rows["value"], strict=True)
        }

    def last_step(self) -> int | None:
        """The last step committed so far (None before the first)."""
        rows = self.query("SELECT value FROM meta WHERE key = 'last_step'")
        value = decode_meta(rows["value"].iloc[0]) if len(rows) else None
        return value if isinstance(value, int) else None

    def agents(self) -> pd.DataFrame:
        return self.table("agents")

    def edges(self) -> pd.DataFrame:
        return self.table("edges")

    def steps(self) -> pd.DataFrame:
        return self.table("steps")

    def posts(self) -> pd.DataFrame:
        return self.table("posts")

    def events(self) -> pd.DataFrame:
        return self.table("events")

    def exposures(self) -> pd.DataFrame:
        return self.table("exposures")

    def state(self) -> pd.DataFrame:
        return self.table("state")

    def attitudes(self) -> pd.DataFrame:
        return self.table("attitudes")

    def beliefs(self) -> pd.DataFrame:
        return self.table("beliefs")

    def labels(self) -> pd.DataFrame:
        return self.table("labels")

    def metrics(self, wide: bool = True) -> pd.DataFrame:
        """Metrics per step: wide (index ``step``, one column per metric) or long rows."""
        long = self.table("metrics")
        if not wide:
            return long
        if long.duplicated(["step", "name"]).any():
            raise StoreError(f"{self.path} is damaged: a metric is stored twice for a step")
        frame = long.pivot(index="step", columns="name", values="value")
        frame.columns.name = None
        return frame


def typed_frame(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Give columns the dtype of their SQL type: int64 (Int64 with NULLs), float64, object.

    A value of another type (a damaged or edited database) is a StoreError naming the column.
    """
    for name, sql in types.items():
        if name not in frame:
            continue
        column = frame[name]
        try:
            if sql == "INTEGER":
                has_null = column.isna().any()
                frame[name] = column.astype("Int64" if has_null else "int64")
            elif sql == "REAL":
                frame[name] = column.astype("float64")
            elif sql == "TEXT":
                frame[name] = column.astype(object)
        except (TypeError, ValueError, OverflowError):
            bad = next((v for v in column if not _fits(v, sql)), None)
            raise StoreError(f"column {name!r} ({sql}) holds {bad!r:.60}") from None
    return frame


def _fits(value: Any, sql: str) -> bool:
    """Whether one stored value converts to its column's SQL type."""
    try:
        pd.Series([value]).astype("Int64" if sql == "INTEGER" else "float64")
    except (TypeError, ValueError, OverflowError):
        return False
    return True
