"""The social platform's metric kinds: how its per-step measures combine and sum up.

Registered when the package loads (core/registry.py ``register_metric_kind``),
so a run's summary and its report read each metric's treatment from here.
"""

from __future__ import annotations

from townsquare.core.actions import DOINGS
from townsquare.core.metric import Aggregation, MetricKind, Reduce, Summarised
from townsquare.core.registry import register_metric_kind

ACTION_COUNTS = register_metric_kind(MetricKind(
    "action_counts", names=tuple(f"n_{action.label}" for action in DOINGS),
    summary=(Summarised("total_{stem}s", Reduce.TOTAL, nonzero=True),)))
"""Actions of each kind taken in a step; a run's summary totals those anyone took."""

SPREAD = register_metric_kind(MetricKind(
    "spread", prefixes=("reach_", "sharers_", "deviation_", "versions_"),
    aggregation=Aggregation.LAST, summary=(Summarised("{name}", Reduce.FINAL),)))
"""How far each news item (and its retold versions) got so far: the final value stands."""

BELIEVERS = register_metric_kind(MetricKind(
    "believers", prefixes=("believers_",), aggregation=Aggregation.LAST,
    summary=(Summarised("{name}", Reduce.FINAL), Summarised("avg_{name}", Reduce.MEAN))))
"""The share believing a news item: its final value and its average over time."""

VALENCE = register_metric_kind(MetricKind(
    "valence", names=("valence_mean",), aggregation=Aggregation.LAST,
    summary=(Summarised("{name}_min", Reduce.MIN),)))
"""Mean emotional valence: a run's summary keeps its lowest point."""

AROUSAL = register_metric_kind(MetricKind(
    "arousal", names=("arousal_mean",), aggregation=Aggregation.LAST,
    summary=(Summarised("{name}_max", Reduce.MAX),)))
"""Mean arousal: a run's summary keeps its peak."""

COSTS = register_metric_kind(MetricKind(
    "costs", prefixes=("moderation_", "cost_"), aggregation=Aggregation.LAST))
"""Cumulative moderation and intervention costs (drawn by the report)."""
