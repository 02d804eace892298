"""Opinion measures: polarization of attitudes, their sorting on the graph, emotions.

Attitudes are a vector ``x`` in [-1, 1], one value per agent (one topic). Graph
measures take follow edges ``src -> dst`` (src follows dst, as in
:class:`townsquare.network.graph.FollowGraph`) on agents ``0 .. len(x)-1``;
self-loops and duplicate edges are dropped. Everything is O(n + m log m).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from townsquare.measure.network_stats import simple_edges


def _attitudes(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError("attitudes must be finite numbers")
    if len(x) and (x.min() < -1.0 or x.max() > 1.0):
        raise ValueError(f"attitudes must lie in [-1, 1], got [{x.min():.3g}, {x.max():.3g}]")
    return x


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation, NaN when either side has no variance or fewer than 2 values."""
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


# -- distribution ------------------------------------------------------------------------


def bimodality_coefficient(x: np.ndarray) -> float:
    """Sarle's bimodality coefficient (SAS) of a sample.

    ``BC = (g^2 + 1) / (k + 3 (n-1)^2 / ((n-2)(n-3)))`` with ``g`` the sample
    skewness and ``k`` the sample excess kurtosis, both bias-corrected (SAS
    Institute 1990, SAS/STAT User's Guide; Pfister et al. 2013, "Good things
    peak in pairs", Frontiers in Psychology 4:700). Values above 5/9 (the
    uniform distribution's) suggest bimodality; a normal sample gives about 1/3.
    NaN for fewer than 4 values or a constant sample.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    n = len(x)
    if n < 4 or np.ptp(x) == 0:
        return float("nan")
    d = x - x.mean()
    m2, m3, m4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
    # bias-corrected skewness G1 and excess kurtosis G2 (as scipy.stats with bias=False)
    g = np.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5
    k = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * (m4 / m2**2 - 3.0) + 6.0)
    return float((g**2 + 1.0) / (k + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def esteban_ray(x: np.ndarray, bins: int | Sequence[float] = 10, alpha: float = 1.6) -> float:
    """Esteban-Ray polarization of attitudes, scaled to [0, 1].

    The attitudes are binned on [-1, 1] into groups with population shares
    ``p_i`` at the bin centres ``y_i``, and

    ``P = K * sum_ij p_i^(1 + alpha) p_j |y_i - y_j|``

    (Esteban & Ray 1994, "On the measurement of polarization", Econometrica
    62:819). The constant ``K`` is chosen so that two equal masses in the two
    extreme bins give exactly 1: ``K = 2^(1 + alpha) / D`` with ``D`` the
    distance between the outermost bin centres. Identical opinions give 0. For
    ``alpha`` up to about 1.6 (Esteban and Ray's alpha*), the two-extremes
    distribution maximises P, so the result lies in [0, 1]; larger ``alpha``
    can exceed 1.

    Parameters
    ----------
    x
        Attitudes in [-1, 1].
    bins
        Number of equal-width bins on [-1, 1], or the bin edges.
    alpha
        Sensitivity to polarization, in (0, 1.6] in the original paper.
    """
    x = _attitudes(x)
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    if isinstance(bins, int | float | np.number):  # a bin count
        edges = np.linspace(-1.0, 1.0, int(bins) + 1)
    else:
        edges = np.asarray(bins, float)
    if len(edges) < 3 or np.any(np.diff(edges) <= 0):
        raise ValueError("bins must give at least two increasing bins")
    if len(x) == 0:
        return float("nan")
    counts, _ = np.histogram(x, bins=edges)
    p = counts / counts.sum()
    y = (edges[:-1] + edges[1:]) / 2.0
    # sum_j p_j |y_i - y_j| in O(bins) with the centres sorted: y_i (2 L_i - 1) + M - 2 M_i,
    # where L_i and M_i are the cumulative mass and mass-weighted centre up to bin i.
    cum_p, cum_py = np.cumsum(p), np.cumsum(p * y)
    spread = y * (2.0 * cum_p - 1.0) + cum_py[-1] - 2.0 * cum_py
    raw = float(np.sum(p ** (1.0 + alpha) * spread))
    return float(max(raw, 0.0) * 2.0 ** (1.0 + alpha) / (y[-1] - y[0]))


def attitude_summary(
    x: np.ndarray,
    *,
    bins: int | Sequence[float] = 10,
    alpha: float = 1.6,
    extreme: float = 0.75,
) -> dict[str, float]:
    """Mean, spread, bimodality, polarization and extremity of attitudes.

    Returns a dict with ``n``, ``mean``, ``variance`` and ``std`` (population,
    ddof=0), ``bimodality_coefficient`` (:func:`bimodality_coefficient`),
    ``esteban_ray`` (:func:`esteban_ray` with ``bins`` and ``alpha``) and
    ``share_extreme``, the share of agents with ``|x| > extreme``.
    """
    x = _attitudes(x)
    empty = len(x) == 0
    var = float("nan") if empty else float(x.var())
    return {
        "n": len(x),
        "mean": float("nan") if empty else float(x.mean()),
        "variance": var,
        "std": float(np.sqrt(var)),
        "bimodality_coefficient": bimodality_coefficient(x),
        "esteban_ray": esteban_ray(x, bins=bins, alpha=alpha),
        "share_extreme": float("nan") if empty else float(np.mean(np.abs(x) > extreme)),
    }


def attitude_by_group(x: np.ndarray, groups: np.ndarray, *, extreme: float = 0.75) -> pd.DataFrame:
    """Per-group ``n``, ``mean``, ``variance`` (ddof=0) and ``share_extreme`` of attitudes."""
    x = _attitudes(x)
    frame = pd.DataFrame({"group": np.asarray(groups), "x": x, "extreme": np.abs(x) > extreme})
    grouped = frame.groupby("group", sort=True)
    return pd.DataFrame(
        {
            "n": grouped["x"].size(),
            "mean": grouped["x"].mean(),
            "variance": grouped["x"].var(ddof=0),
            "share_extreme": grouped["extreme"].mean(),
        }
    )


# -- on the graph ------------------------------------------------------------------------


def attitude_assortativity(src: np.ndarray, dst: np.ndarray, x: np.ndarray) -> float:
    """Pearson correlation between the attitudes at the two ends of each follow edge.

    The attribute assortativity coefficient of Newman (2003, "Mixing patterns
    in networks", Phys. Rev. E 67:026126) for a scalar attribute on a directed
    graph: +1 when agents follow only like-minded accounts, 0 without sorting.
    NaN without edges or without attitude variance at either end.
    """
    x = _attitudes(x)
    s, d = simple_edges(src, dst, len(x))
    return _pearson(x[s], x[d])


def echo_chamber_index(src: np.ndarray, dst: np.ndarray, x: np.ndarray) -> dict[str, float]:
    """How much the accounts each agent follows share its attitude.

    Returns
    -------
    dict
        ``same_sign_share``: the mean over agents following at least one
        account of the share of their followees whose attitude has the same
        sign (``np.sign``, so exact zeros form their own side);
        ``neighbor_mean_correlation``: the Pearson correlation between an
        agent's attitude and the mean attitude of its followees (Cota,
        Ferreira, Pastor-Satorras & Starnini 2019, "Quantifying echo chamber
        effects in information spreading over political communication
        networks", EPJ Data Science 8:35); ``agents``: how many agents were
        averaged over.
    """
    x = _attitudes(x)
    n = len(x)
    s, d = simple_edges(src, dst, n)
    followees = np.bincount(s, minlength=n)
    same = np.bincount(s, weights=np.sign(x[s]) == np.sign(x[d]), minlength=n)
    neighbor_sum = np.bincount(s, weights=x[d], minlength=n)
    active = followees > 0
    k = followees[active]
    return {
        "same_sign_share": float(np.mean(same[active] / k)) if active.any() else float("nan"),
        "neighbor_mean_correlation": _pearson(x[active], neighbor_sum[active] / k),
        "agents": int(active.sum()),
    }


# -- emotion -----------------------------------------------------------------------------


def emotion_summary(
    valence: np.ndarray, arousal: np.ndarray, *, high_arousal: float = 0.5
) -> dict[str, float]:
    """Mean and spread of emotions in the valence-arousal plane (Russell 1980).

    Valence in [-1, 1] (negative to positive), arousal in [0, 1] (calm to
    excited), as in :class:`townsquare.population.model.AgentState`. Returns ``n``,
    the mean and std (ddof=0) of each, ``share_negative`` (valence < 0),
    ``share_high_arousal`` (arousal > ``high_arousal``),
    ``share_negative_high_arousal`` (both at once; high-arousal negative
    emotions such as anger drive sharing: Berger & Milkman 2012, J. Marketing
    Research 49:192) and ``valence_arousal_correlation``.
    """
    v = np.asarray(valence, dtype=np.float64).ravel()
    a = np.asarray(arousal, dtype=np.float64).ravel()
    if v.shape != a.shape:
        raise ValueError(f"valence and arousal differ in length ({len(v)} vs {len(a)})")
    if len(v) == 0:
        nan = float("nan")
        keys = (
            "mean_valence",
            "std_valence",
            "mean_arousal",
            "std_arousal",
            "share_negative",
            "share_high_arousal",
            "share_negative_high_arousal",
            "valence_arousal_correlation",
        )
        return {"n": 0, **dict.fromkeys(keys, nan)}
    negative, excited = v < 0, a > high_arousal
    return {
        "n": len(v),
        "mean_valence": float(v.mean()),
        "std_valence": float(v.std()),
        "mean_arousal": float(a.mean()),
        "std_arousal": float(a.std()),
        "share_negative": float(negative.mean()),
        "share_high_arousal": float(excited.mean()),
        "share_negative_high_arousal": float((negative & excited).mean()),
        "valence_arousal_correlation": _pearson(v, a),
    }
