"""Typed metrics: a name, a value, and how values of the same metric combine.

A step's metrics come from several places (the environment, the social
behaviour, an environment's own deciders); when two parts report the same
metric, its :class:`Aggregation` says how they combine (counts add up, latency
percentiles take the larger). A :class:`MetricKind` is the definition of a
family of metrics, registered by the package that produces them
(``register_metric_kind`` in core/registry.py): which names belong to it, how
its values combine within a step, and how a run's summary reduces them over the
steps. The summary and the figures ask the kind, not the name's spelling.
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


class Reduce(StrEnum):
    """How a run's summary reduces one metric's values over the steps."""

    TOTAL = "total"  # the sum over steps (a step without the metric counts 0)
    FINAL = "final"  # the last step's value, when finite
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    BUSY_MEDIAN = "busy_median"  # the median over the steps where it is above 0


@dataclass(frozen=True)
class Summarised:
    """One headline number a run's summary makes of a metric.

    ``key`` is a format string: ``{name}`` is the metric's name, ``{stem}`` its
    name after the first underscore (``n_post`` -> ``post``). With ``nonzero``
    the number is left out when it is 0 (an action nobody took).
    """

    key: str
    reduce: Reduce
    nonzero: bool = False

    def key_of(self, name: str) -> str:
        return self.key.format(name=name, stem=name.partition("_")[2])


@dataclass(frozen=True)
class MetricKind:
    """A family of metrics: its names, its aggregation in a step, its summary over a run.

    A metric belongs to the kind that lists its exact name, else to the kind with
    the longest matching prefix (core/registry.py ``metric_kind``).
    """

    kind: str
    names: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    aggregation: Aggregation = Aggregation.SUM
    summary: tuple[Summarised, ...] = ()

    def metric(self, name: str, value: float) -> Metric:
        """A metric of this kind."""
        return Metric(name, value, self.aggregation)


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
