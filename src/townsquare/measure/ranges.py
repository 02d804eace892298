"""The range and unit of each summary measure, so intervals and axes say what is possible.

A 95% t interval around a mean of counts near zero reaches below zero, and one around
a share near one above one. Reports and sweep summaries clip interval bounds to the
measure's range, found here by the measure's name (shell-style patterns, first match
wins); a measure not listed is unbounded and its intervals are left as computed.
Figures label their axes with :func:`unit`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import numpy as np

INF = float("inf")

RANGES: tuple[tuple[tuple[str, ...], tuple[float, float]], ...] = (
    (("share_*", "*_share", "believers_*", "avg_believers_*", "final_size", "bimodality",
      "arousal_mean*", "belief_*", "llm_cache_hit_rate"), (0.0, 1.0)),
    (("valence_mean*", "attitude_mean", "opinion_mean"), (-1.0, 1.0)),
    (("total_*", "reach_*", "sharers_*", "n_*", "cascades", "largest_cascade",
      "deepest_cascade", "max_structural_virality", "follow_edges", "*_cost", "cost_*",
      "llm_*", "wall_seconds", "*_variance", "*_var", "polarization_*", "suspended",
      "moderation_*", "susceptible", "infected", "recovered", "ignorant", "spreader",
      "stifler", "inactive", "active", "opinion_0", "opinion_1", "versions_*", "ks_*"),
     (0.0, INF)),
)


def measure_range(name: str) -> tuple[float, float]:
    """(low, high) a measure named ``name`` can take; (-inf, inf) when unknown."""
    for patterns, bounds in RANGES:
        if any(fnmatchcase(name, pattern) for pattern in patterns):
            return bounds
    return (-INF, INF)


def clip_to_range(name: str, values: np.ndarray) -> np.ndarray:
    """``values`` (interval bounds of measure ``name``) clipped to its range."""
    low, high = measure_range(name)
    return np.clip(np.asarray(values, dtype=np.float64), low, high)


UNITS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("reach_*", "sharers_*", "susceptible", "infected", "recovered", "ignorant", "spreader",
      "stifler", "inactive", "active", "opinion_0", "opinion_1", "suspended"), "agents"),
    (("believers_*", "avg_believers_*", "final_size", "friendship_paradox_share"),
     "share of agents"),
    (("share_*", "*_share"), "share"),
    (("total_posts", "total_reposts", "total_quotes", "total_comments"), "posts"),
    (("total_*", "n_*"), "actions"),
    (("cascades",), "cascades"),
    (("largest_cascade",), "posts"),
    (("deepest_cascade",), "reshare levels"),
    (("llm_cost", "cost_llm*"), "currency of llm.cost_per_1k_*"),
    (("*_cost", "cost_*"), "cost units"),
    (("llm_requests", "llm_cache_hits", "llm_fallback_total"), "LLM calls"),
    (("wall_seconds",), "s"),
    (("follow_edges",), "follow edges"),
    (("valence_mean*", "attitude_mean", "opinion_mean"), "scale -1 to 1"),
    (("arousal_mean*",), "scale 0 to 1"),
)


def unit(name: str) -> str:
    """What a measure counts (``agents``, ``share of agents``, ...); ``value`` when unknown."""
    for patterns, label in UNITS:
        if any(fnmatchcase(name, pattern) for pattern in patterns):
            return label
    return "value"
