"""Typed metrics: a name, a value, and how values of the same metric combine.

A step's metrics come from several places (the environment, the social
behaviour, an environment's own deciders); when two parts report the same
metric, its :class:`Aggregation` says how they combine (counts add up, latency
percentiles take the larger), rather than a rule read from the metric's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Aggregation(StrEnum):
    """How values of one metric combine, across the parts of a step or over a run."""

    SUM = "sum"  # counts, tokens, cost
    MAX = "max"  # percentiles, peaks
    LAST = "last"  # levels: the latest value stands


@dataclass(frozen=True)
class Metric:
    """One measured value of one step."""

    name: str
    value: float
    aggregation: Aggregation = Aggregation.SUM


def combine(*parts: Iterable[Metric]) -> list[Metric]:
    """The metrics of several parts, one per name, each combined by its aggregation."""
    out: dict[str, Metric] = {}
    for part in parts:
        for metric in part:
            seen = out.get(metric.name)
            if seen is None or metric.aggregation is Aggregation.LAST:
                out[metric.name] = metric
            elif metric.aggregation is Aggregation.MAX:
                out[metric.name] = Metric(metric.name, max(seen.value, metric.value),
                                          metric.aggregation)
            else:
                out[metric.name] = Metric(metric.name, seen.value + metric.value,
                                          metric.aggregation)
    return list(out.values())


def values(metrics: Iterable[Metric]) -> dict[str, float]:
    """Name -> value, as the store records a step's metrics."""
    return {metric.name: metric.value for metric in metrics}
