"""Counting which posts a step touches, to check that step cost does not grow with history.

A :class:`TouchCounter` attached to a :class:`~townsquare.environments.social.content.ContentStore`
(``content.track_touches()``) makes every column the store hands out a
:class:`CountedColumn`: indexing it marks the rows read or written, and using
the whole column in a numpy operation (``content.news >= 0``, ``np.bincount``)
marks every row, because that is a scan of the full history. Code that reads a
column without going through the store cannot hide from it, so the count is the
work the feeds, the engagement counters and the content store really do.

It is a measuring instrument for tests and benchmarks, off by default: a run
without it hands out plain numpy views and pays nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# numpy functions that look at O(log n) rows of a sorted column, not all of them
_LOGARITHMIC = {np.searchsorted}


class TouchCounter:
    """Distinct post rows touched since the last :meth:`reset`."""

    def __init__(self) -> None:
        self._mask = np.zeros(0, bool)
        self.full_scans = 0  # whole-column operations since the last reset

    def mark(self, rows: Any, size: int) -> None:
        """Mark ``rows`` (an index, slice, mask or id array) of a column of ``size`` posts."""
        if len(self._mask) < size:
            grown = np.zeros(max(size, 2 * len(self._mask)), bool)
            grown[: len(self._mask)] = self._mask
            self._mask = grown
        self._mask[:size][rows] = True

    def mark_all(self, size: int) -> None:
        self.full_scans += 1
        self.mark(slice(None), size)

    def count(self, below: int | None = None) -> int:
        """Posts touched (only those with an id under ``below``, when given)."""
        return int(self._mask[:below].sum())

    def reset(self) -> None:
        self._mask[:] = False
        self.full_scans = 0


class CountedColumn(np.ndarray):
    """A column view that reports the rows it is asked for to a :class:`TouchCounter`."""

    counter: TouchCounter | None = None

    def __getitem__(self, key: Any) -> Any:
        self._mark(key)
        result = self.view(np.ndarray)[_plain(key)]
        return result.view(np.ndarray) if isinstance(result, np.ndarray) else result

    def __setitem__(self, key: Any, value: Any) -> None:
        self._mark(key)
        self.view(np.ndarray)[_plain(key)] = _plain(value)

    def _mark(self, key: Any) -> None:
        if self.counter is not None:
            self.counter.mark(_rows(_plain(key)), len(self))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "at":  # np.add.at(column, rows, 1): touches only ``rows``
            self._mark(inputs[1])
        else:
            self._scanned()
        inputs = tuple(_plain(x) for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(x) for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func not in _LOGARITHMIC:
            self._scanned()
        args = tuple(_plain(x) for x in args)
        kwargs = {k: _plain(v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

    def _scanned(self) -> None:
        if self.counter is not None:
            self.counter.mark_all(len(self))


def counted(column: np.ndarray, counter: TouchCounter) -> CountedColumn:
    """``column`` as a view that reports to ``counter``."""
    view = column.view(CountedColumn)
    view.counter = counter
    return view


def _plain(value: Any) -> Any:
    if isinstance(value, CountedColumn):
        return value.view(np.ndarray)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def _rows(key: Any) -> Any:
    """The first-axis part of an index expression."""
    if isinstance(key, tuple):
        return key[0] if key else slice(None)
    return key
