"""Inequality, crash and herding measures against exact values and their null distributions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from townsquare.environments.measures import (
    binomial_mad,
    csad,
    gini,
    lsv_herding,
    max_drawdown,
    volatility,
)


def test_gini_exact_values() -> None:
    assert gini(np.full(7, 3.0)) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 10.0])) == pytest.approx(3 / 4)  # (n - 1) / n
    assert gini(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.25)
    assert gini(np.zeros(3)) == 0.0 and gini(np.empty(0)) == 0.0


def test_drawdown_and_volatility_exact_values() -> None:
    assert max_drawdown(np.array([100, 120, 60, 90, 130.0])) == pytest.approx(0.5)
    assert max_drawdown(np.array([1, 2, 3.0])) == 0.0
    prices = 100 * np.exp(np.cumsum([0.0, 0.1, -0.1, 0.1, -0.1]))
    assert volatility(prices) == pytest.approx(np.std([0.1, -0.1, 0.1, -0.1], ddof=1))


@pytest.mark.parametrize(("n", "p"), [(1, 0.5), (2, 0.3), (17, 0.5), (200, 0.41)])
def test_binomial_mean_absolute_deviation_matches_the_distribution(n: int, p: float) -> None:
    k = np.arange(n + 1)
    assert binomial_mad(n, p) == pytest.approx(np.sum(binom.pmf(k, n, p) * np.abs(k - n * p)))


def test_lsv_herding_is_zero_on_average_for_independent_traders_and_positive_for_herds() -> None:
    rng = np.random.default_rng(3)
    buys = rng.binomial(50, 0.5, size=4000)
    values = np.array([lsv_herding(int(b), 50 - int(b)) for b in buys])
    assert abs(values.mean()) < 0.005  # the adjustment removes chance imbalance
    assert lsv_herding(45, 5) == pytest.approx(0.4 - binomial_mad(50, 0.5) / 50)
    assert np.isnan(lsv_herding(0, 0))


def test_csad() -> None:
    assert csad(np.array([0.1, 0.1, 0.1])) == pytest.approx(0.0, abs=1e-15)
    assert csad(np.array([-0.1, 0.1])) == pytest.approx(0.1)
