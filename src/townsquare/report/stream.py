"""Per-step increments of the time-series plots, for a live dashboard page to append.

A trace drawn straight from one metric column carries ``meta={"metric": name}``
(see :func:`metric_meta`). :func:`metric_traces` finds those traces in a built
document, and :func:`series_since` reads only the metrics rows committed after
a given step, so a polling page costs one small query instead of a rebuilt
report.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from townsquare.report.document import Document
from townsquare.store.tables import RunTables

# figure id -> trace index -> metric name
TraceMap = dict[str, dict[int, str]]


def metric_meta(column: str) -> dict[str, str]:
    """The ``meta`` of a trace whose y values are the metric ``column`` over steps."""
    return {"metric": column}


def metric_traces(doc: Document) -> TraceMap:
    """The traces of ``doc`` that plot one metric over steps, by figure and trace index."""
    found: TraceMap = {}
    for plot in doc.plots:
        for index, trace in enumerate(plot.figure.data):
            meta = getattr(trace, "meta", None)
            if isinstance(meta, dict) and isinstance(meta.get("metric"), str):
                found.setdefault(plot.id, {})[index] = meta["metric"]
    return found


def signature(traces: TraceMap) -> str:
    """A short fingerprint of which traces stream which metrics (changes force a reload)."""
    text = json.dumps({k: sorted(v.items()) for k, v in sorted(traces.items())})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def series_since(reader: RunTables, traces: TraceMap, since: int,
                 until: int | None) -> dict[str, dict[int, dict[str, list[Any]]]]:
    """Points of every streamed trace at steps ``since < step <= until`` (committed steps only).

    Missing or non-finite values are sent as ``null`` (a gap), as the full report draws them.
    """
    if until is None or until <= since or not traces:
        return {}
    names = sorted({name for per in traces.values() for name in per.values()})
    marks = ",".join("?" * len(names))
    rows = reader.query(f"SELECT step, name, value FROM metrics WHERE step > ? AND step <= ? "
                        f"AND name IN ({marks}) ORDER BY step", [since, until, *names])
    by_name: dict[str, tuple[list[int], list[float | None]]] = {}
    for step, name, value in zip(rows["step"], rows["name"], rows["value"], strict=True):
        xs, ys = by_name.setdefault(str(name), ([], []))
        xs.append(int(step))
        ys.append(float(value) if value is not None and math.isfinite(value) else None)
    out: dict[str, dict[int, dict[str, list[Any]]]] = {}
    for figure_id, per in traces.items():
        for index, name in per.items():
            if name in by_name:
                xs, ys = by_name[name]
                out.setdefault(figure_id, {})[index] = {"x": xs, "y": ys}
    return out
