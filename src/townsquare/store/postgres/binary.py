"""Rows as PostgreSQL binary COPY data, built with numpy (no Python loop per row).

``COPY ... FROM STDIN (FORMAT BINARY)`` takes, per row, a 16-bit field count
and, per field, a 32-bit length (-1 for NULL) followed by the value in network
byte order. Each column becomes a length array and one byte buffer of its
values; :func:`copy_chunks` scatters them into place for a chunk of rows at a
time, which bounds memory for tables of millions of rows. Only text values are
touched one by one (to encode them as UTF-8). NaN in a REAL column is written
as NULL, as SQLite stores it, so both stores read back the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from townsquare.store.rows import Rows

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
CHUNK_ROWS = 65_536


class EncodeError(ValueError):
    """A value that cannot be stored in its column's type."""


Field = tuple[np.ndarray, np.ndarray]  # (lengths int32 with -1 for NULL, payload bytes uint8)


def copy_chunks(
    rows: Rows, types: Mapping[str, str], chunk_rows: int | None = None
) -> Iterator[bytes]:
    """The binary COPY stream for ``rows`` (header, chunks of rows, trailer).

    ``types`` maps each column name to its store type (INTEGER, REAL, TEXT);
    ``chunk_rows`` defaults to :data:`CHUNK_ROWS`.
    """
    chunk_rows = chunk_rows or CHUNK_ROWS
    yield HEADER
    for start in range(0, rows.n, chunk_rows):
        stop = min(start + chunk_rows, rows.n)
        fields = [
            encode_field(rows.table, name, _slice(column, start, stop, stop - start), types[name])
            for name, column in zip(rows.names, rows.columns, strict=True)
        ]
        yield assemble(fields, stop - start)
    yield TRAILER


def _slice(column: Any, start: int, stop: int, n: int) -> Any:
    if isinstance(column, np.ndarray | list):
        return column[start:stop]
    if column is None or isinstance(column, str):
        return [column] * n
    return np.full(n, column)


def encode_field(table: str, name: str, column: np.ndarray | list[Any], sql: str) -> Field:
    """Lengths and payload of one column in the binary format of ``sql``'s type."""
    try:
        if sql == "TEXT":
            return _text(column)
        if sql == "INTEGER":
            values, null = _integers(column)
            return _fixed(values.astype(">i8"), null)
        values, null = _floats(column)
        return _fixed(values.astype(">f8"), null)
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(f"{table}.{name} cannot be stored as {sql}: {exc}") from None


def _integers(column: np.ndarray | list[Any]) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(column, np.ndarray) and column.dtype.kind in "iub":
        return column.astype(np.int64), np.zeros(len(column), bool)
    if isinstance(column, np.ndarray) and column.dtype.kind == "f":
        null = np.isnan(column)
        if not np.array_equal(column[~null], np.trunc(column[~null])):
            raise ValueError("it has non-integer values")
        return np.where(null, 0, column).astype(np.int64), null
    if any(isinstance(v, float) and not v.is_integer() for v in column):
        raise ValueError("it has non-integer values")
    array = pd.array(column, dtype="Int64")
    return array.to_numpy(dtype=np.int64, na_value=0), np.asarray(array.isna())


def _floats(column: np.ndarray | list[Any]) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(column, np.ndarray) and column.dtype.kind in "iufb":
        values = column.astype(np.float64)
    else:
        values = pd.array(column, dtype="Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    null = np.isnan(values)
    return np.where(null, 0.0, values), null


def _fixed(values: np.ndarray, null: np.ndarray) -> Field:
    width = values.dtype.itemsize
    lengths = np.where(null, -1, width).astype(np.int32)
    payload = np.ascontiguousarray(values[~null]).view(np.uint8)
    return lengths, payload


def _text(column: np.ndarray | list[Any]) -> Field:
    if isinstance(column, np.ndarray):
        column = column.astype(str).tolist()
    encoded = [_utf8(v) for v in column]
    lengths = np.fromiter((-1 if b is None else len(b) for b in encoded), np.int32, len(encoded))
    payload = np.frombuffer(b"".join(b for b in encoded if b), np.uint8)
    return lengths, payload


def _utf8(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value).encode()
    raise TypeError(f"{type(value).__name__} value {value!r} is not text")


def assemble(fields: list[Field], n: int) -> bytes:
    """Rows of ``n`` tuples from per-column (lengths, payload), in the binary layout."""
    if n == 0:
        return b""
    lengths = np.stack([f[0] for f in fields], axis=1)  # (n, k)
    k = lengths.shape[1]
    field_sizes = 4 + np.maximum(lengths, 0)
    row_sizes = 2 + field_sizes.sum(axis=1)
    out = np.empty(int(row_sizes.sum()), np.uint8)
    row_start = np.concatenate(([0], np.cumsum(row_sizes)[:-1]))
    _put(out, row_start, np.full(n, k, ">i2"))
    offset = row_start + 2
    for j, (lens, payload) in enumerate(fields):
        _put(out, offset, lens.astype(">i4"))
        offset = offset + 4
        present = lens > 0
        sizes = lens[present].astype(np.int64)
        # byte i of the payload goes to its row's offset plus its position in the value
        first = np.cumsum(sizes) - sizes
        out[np.repeat(offset[present] - first, sizes) + np.arange(int(sizes.sum()))] = payload
        offset = offset + field_sizes[:, j] - 4
    return out.tobytes()


def _put(out: np.ndarray, starts: np.ndarray, values: np.ndarray) -> None:
    """Write fixed-width ``values`` (big-endian) at byte offsets ``starts``."""
    width = values.dtype.itemsize
    out[starts[:, None] + np.arange(width)] = values.view(np.uint8).reshape(-1, width)
