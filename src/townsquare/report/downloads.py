"""Tables of a run or sweep as downloadable CSV or Parquet files.

A run's table is read whole from its store (opened read-only, committed rows
only); Parquet columns keep the store's declared types (as ``townsquare export``
writes them). A sweep's table is its ``results.parquet``.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from townsquare.errors import UserError

FORMATS = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def encode(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` as the bytes of a CSV or Parquet file."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        return buffer.getvalue()
    raise UserError(f"unknown format {fmt!r}; choose {' or '.join(FORMATS)}")


def split_name(filename: str) -> tuple[str, str]:
    """``"metrics.csv"`` -> ``("metrics", "csv")``; an unknown suffix is a UserError."""
    stem, dot, fmt = filename.rpartition(".")
    if not dot or fmt not in FORMATS or not stem:
        raise UserError(f"{filename!r}: ask for TABLE.csv or TABLE.parquet")
    return stem, fmt
