"""A run's summary takes each metric's treatment from its registered kind."""

from __future__ import annotations

import numpy as np
import pandas as pd

from townsquare.core.metric import Aggregation, Metric, MetricKind, Reduce, Summarised, combine
from townsquare.core.registry import METRIC_KINDS, metric_kind, register_metric_kind
from townsquare.measure.summary import metric_summary


def test_a_toy_kind_registered_in_a_test_is_summed_up_by_its_definition() -> None:
    kind = register_metric_kind(MetricKind(
        "toy_levels", prefixes=("toy_",), aggregation=Aggregation.LAST,
        summary=(Summarised("{name}", Reduce.FINAL), Summarised("peak_{stem}", Reduce.MAX))))
    try:
        metrics = pd.DataFrame({"toy_queue": [1.0, 5.0, 2.0], "untyped": [1.0, 2.0, 3.0]})
        assert metric_kind("toy_queue") is kind
        assert metric_kind("untyped") is None
        assert metric_summary(metrics) == {"toy_queue": 2.0, "peak_queue": 5.0}
    finally:
        METRIC_KINDS.remove("toy_levels")
    assert metric_summary(metrics) == {}


def test_built_in_kinds_keep_the_summary_rules() -> None:
    metrics = pd.DataFrame({
        "n_post": [2.0, 3.0], "n_flag": [0.0, 0.0], "believers_x": [0.2, 0.6],
        "reach_x": [3.0, np.nan], "valence_mean": [0.1, -0.3], "arousal_mean": [0.2, 0.4],
        "llm_requests": [0.0, 4.0], "llm_latency_p50_ms": [0.0, 80.0],
        "llm_latency_p95_ms": [0.0, 120.0]})
    out = metric_summary(metrics)
    assert out == {"total_posts": 5.0, "believers_x": 0.6, "avg_believers_x": 0.4,
                   "valence_mean_min": -0.3, "arousal_mean_max": 0.4,
                   "llm_requests": 4.0, "llm_latency_p50_ms": 80.0}
    assert "reach_x" not in out and "total_flags" not in out  # not finite; nobody flagged


def test_parts_of_a_step_combine_by_the_kind_of_their_metric() -> None:
    p50 = metric_kind("llm_latency_p50_ms")
    requests = metric_kind("llm_requests")
    assert p50 is not None and requests is not None
    merged = combine([p50.metric("llm_latency_p50_ms", 40.0), requests.metric("llm_requests", 2)],
                     [p50.metric("llm_latency_p50_ms", 90.0), requests.metric("llm_requests", 3)])
    assert {m.name: m.value for m in merged} == {"llm_latency_p50_ms": 90.0, "llm_requests": 5.0}
    assert all(isinstance(m, Metric) for m in merged)
