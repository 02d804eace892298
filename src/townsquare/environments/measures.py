"""Measures of markets and commons: inequality, volatility, crashes, herding."""

from __future__ import annotations

import math

import numpy as np


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal; -> 1: one holds everything)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.sum(ranks * x) / (n * total)) - (n + 1) / n)


def log_returns(prices: np.ndarray) -> np.ndarray:
    """Log returns along the first axis (steps) of a price path."""
    return np.diff(np.log(np.asarray(prices, dtype=np.float64)), axis=0)


def volatility(prices: np.ndarray) -> float:
    """Standard deviation of per-step log returns (0 for fewer than two returns)."""
    r = log_returns(prices)
    return float(r.std(ddof=1)) if len(r) > 1 else 0.0


def max_drawdown(prices: np.ndarray) -> float:
    """The largest fall from a running peak, as a share of the peak (a crash's depth)."""
    p = np.asarray(prices, dtype=np.float64)
    if len(p) == 0:
        return 0.0
    peak = np.maximum.accumulate(p)
    return float(np.max(1.0 - p / peak))


def lsv_herding(buys: int, sells: int, expected: float = 0.5) -> float:
    """Lakonishok-Shleifer-Vishny (1992) herding of one asset-step against ``expected``.

    ``H = |p - E[p]| - E|p - E[p]|`` with ``p`` the share of buyers among
    traders and the adjustment the expectation under independent decisions
    (binomial). Positive values mean traders move together more than chance.
    Returns nan without traders.
    """
    n = buys + sells
    if n == 0:
        return float("nan")
    return abs(buys / n - expected) - binomial_mad(n, expected) / n


def binomial_mad(n: int, p: float) -> float:
    """Mean absolute deviation ``E|X - np|`` of X ~ Binomial(n, p), 0 < p < 1 (de Moivre).

    ``2 (k + 1) C(n, k + 1) p^(k+1) (1 - p)^(n-k)`` with ``k = floor(np)``.
    """
    k = math.floor(n * p)
    log_choose = math.lgamma(n + 1) - math.lgamma(k + 2) - math.lgamma(n - k)
    return 2.0 * (k + 1) * math.exp(log_choose + (k + 1) * math.log(p)
                                    + (n - k) * math.log1p(-p))


def csad(returns: np.ndarray) -> float:
    """Cross-sectional absolute deviation of returns from their mean (Chang et al. 2000).

    Herding shows as a CSAD that fails to grow with the market's absolute
    return; here it is reported per step (of assets' returns, or of the
    returns traders expect as shown by their limit prices).
    """
    r = np.asarray(returns, dtype=np.float64)
    if len(r) == 0:
        return float("nan")
    return float(np.mean(np.abs(r - r.mean())))
