"""Assertions for stochastic tests: intervals over replicates, never a bound on each one.

A claim about a random outcome is checked on the mean over replicates with its
Student-t interval (paired by seed when two arms share seeds), so a test holds
for any honest seed and library version instead of for the draws it was written
against. A zero-variance sample gives a zero-width interval at its mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

Values = Sequence[float] | np.ndarray


def mean_ci(values: Values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the Student-t interval for the mean of ``values``."""
    x = np.asarray(values, np.float64)
    mean = float(x.mean())
    if len(x) < 2:
        raise ValueError("an interval needs at least two replicates")
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half


def paired_ci(a: Values, b: Values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``a - b`` over paired replicates and its t-interval (low, high)."""
    return mean_ci(np.asarray(a, np.float64) - np.asarray(b, np.float64), level)


def assert_mean_above(values: Values, bound: float, level: float = 0.95) -> None:
    """The interval for the mean of ``values`` lies above ``bound``."""
    mean, low, high = mean_ci(values, level)
    assert low > bound, f"mean {mean:.4g} [{low:.4g}, {high:.4g}] is not above {bound}"


def assert_mean_below(values: Values, bound: float, level: float = 0.95) -> None:
    """The interval for the mean of ``values`` lies below ``bound``."""
    mean, low, high = mean_ci(values, level)
    assert high < bound, f"mean {mean:.4g} [{low:.4g}, {high:.4g}] is not below {bound}"


def assert_paired_above(a: Values, b: Values, margin: float = 0.0, level: float = 0.95) -> None:
    """The paired interval for the mean of ``a - b`` lies above ``margin``."""
    mean, low, high = paired_ci(a, b, level)
    assert low > margin, f"a - b = {mean:.4g} [{low:.4g}, {high:.4g}] is not above {margin}"
