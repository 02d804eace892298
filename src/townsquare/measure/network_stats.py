"""Network measures: the friendship paradox, its tie-strength split, degree statistics.

Edges are follow edges ``src -> dst`` (src follows dst, as in
:class:`townsquare.network.graph.FollowGraph`) on nodes ``0 .. n-1``. Self-loops
and duplicates are dropped first, so every measure is about the simple graph.
All counts are bincounts over edge arrays: O(n + m log m).
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

from townsquare.arrays import unique_ints


def simple_edges(
    src: np.ndarray, dst: np.ndarray, n: int, *, directed: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validated edges without self-loops or duplicates.

    Directed edges come back sorted by (src, dst). Undirected edges come back
    once per pair, as ``(min, max)``.
    """
    src = np.asarray(src, dtype=np.int64).ravel()
    dst = np.asarray(dst, dtype=np.int64).ravel()
    if src.shape != dst.shape:
        raise ValueError(f"src and dst differ in length ({len(src)} vs {len(dst)})")
    if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise ValueError(f"edge endpoints must lie in [0, {n})")
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if not directed:
        src, dst = np.minimum(src, dst), np.maximum(src, dst)
    keys = unique_ints(src * n + dst)
    return keys // n, keys % n


class FriendshipParadox(TypedDict):
    """What :func:`friendship_paradox` returns (keys described there)."""

    mode: str
    mean_degree: float
    mean_friend_degree: float
    mean_of_neighbor_means: float
    fraction_paradox: float
    fraction_strict_or_equal: float
    nodes_with_friends: int


class TieStrengthParadox(TypedDict):
    """What :func:`paradox_by_tie_strength` returns (keys described there)."""

    threshold: float
    weak_edges: int
    strong_edges: int
    all: FriendshipParadox
    weak: FriendshipParadox
    strong: FriendshipParadox


def friendship_paradox(
    src: np.ndarray, dst: np.ndarray, n: int, *, directed: bool = False
) -> FriendshipParadox:
    """Do nodes have fewer friends (or followers) than their friends do?

    Undirected (``directed=False``): ``k`` is the number of distinct
    neighbours. Directed (``directed=True``): the follow-graph version, "the
    accounts you follow have more followers than you", where ``k`` is the
    in-degree (followers) and a node's friends are the accounts it follows.

    Returns
    -------
    dict
        ``mean_degree``: mean of ``k`` over all ``n`` nodes;
        ``mean_friend_degree``: mean ``k`` of a friend reached by following a
        random edge, ``E[k^2] / E[k]`` in the undirected case (Feld 1991,
        "Why your friends have more friends than you do", Am. J. Sociology
        96:1464), the mean follower count of followees in the directed case;
        ``mean_of_neighbor_means``: mean over nodes with at least one friend of
        their friends' mean ``k``; ``fraction_paradox``: share of those nodes
        whose ``k`` is strictly below their friends' mean (the individual-level
        paradox of Eom & Jo 2014, Sci. Rep. 4:4603); ``fraction_strict_or_equal``:
        share whose ``k`` is at most their friends' mean; ``nodes_with_friends``;
        ``mode`` (``"undirected"`` or ``"followers"``).
    """
    s, d = simple_edges(src, dst, n, directed=directed)
    if directed:
        k = np.bincount(d, minlength=n)  # followers
        friends = np.bincount(s, minlength=n)  # accounts followed
        friend_sum = np.bincount(s, weights=k[d], minlength=n)
    else:
        k = np.bincount(s, minlength=n) + np.bincount(d, minlength=n)
        friends = k
        friend_sum = np.bincount(s, weights=k[d], minlength=n)
        friend_sum += np.bincount(d, weights=k[s], minlength=n)
    friend_sum = np.rint(friend_sum).astype(np.int64)
    has = friends > 0
    nan = float("nan")
    # Compare k_i < sum_j k_j / f_i as k_i * f_i < sum_j k_j: exact integer arithmetic.
    lhs, rhs = k[has] * friends[has], friend_sum[has]
    friend_total = friend_sum[has].sum()
    return {
        "mode": "followers" if directed else "undirected",
        "mean_degree": float(k.mean()) if n else nan,
        "mean_friend_degree": float(friend_total / friends.sum()) if has.any() else nan,
        "mean_of_neighbor_means": float(np.mean(rhs / friends[has])) if has.any() else nan,
        "fraction_paradox": float(np.mean(lhs < rhs)) if has.any() else nan,
        "fraction_strict_or_equal": float(np.mean(lhs <= rhs)) if has.any() else nan,
        "nodes_with_friends": int(has.sum()),
    }


def paradox_by_tie_strength(
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    n: int,
    quantile: float = 0.5,
    *,
    directed: bool = False,
) -> TieStrengthParadox:
    """The friendship paradox on weak ties only versus strong ties only.

    ``weight`` is the strength of each edge, e.g. the number of interactions
    (likes, reposts, replies) along it. Edges with weight at or below the
    ``quantile`` of all weights are weak, the rest strong; the paradox is
    measured on each subgraph with :func:`friendship_paradox`. An undirected
    pair listed twice belongs to every class one of its listings falls in.

    Orlando, La Gatta, Russo & Moscato (2025, "Can generative agent-based
    modeling replicate the friendship paradox in social media simulations?",
    arXiv:2502.05919) find that infrequent connections drive the paradox in
    simulations, as Bagrow, Danforth & Mitchell (2017, "Which friends are more
    popular than you? Contact strength and the friendship paradox in social
    networks", ASONAM) found in real contact data.

    Returns
    -------
    dict
        ``threshold`` (the weight quantile), ``weak_edges``, ``strong_edges``,
        and the :func:`friendship_paradox` dicts ``all``, ``weak``, ``strong``.
    """
    src = np.asarray(src, dtype=np.int64).ravel()
    dst = np.asarray(dst, dtype=np.int64).ravel()
    weight = np.asarray(weight, dtype=np.float64).ravel()
    if weight.shape != src.shape:
        raise ValueError(f"weight has {len(weight)} values for {len(src)} edges")
    if not np.all(np.isfinite(weight)):
        raise ValueError("weights must be finite numbers")
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must lie in [0, 1], got {quantile}")
    keep = src != dst
    threshold = float(np.quantile(weight[keep], quantile)) if keep.any() else float("nan")
    weak = keep & (weight <= threshold)
    strong = keep & (weight > threshold)
    return {
        "threshold": threshold,
        "weak_edges": int(weak.sum()),
        "strong_edges": int(strong.sum()),
        "all": friendship_paradox(src, dst, n, directed=directed),
        "weak": friendship_paradox(src[weak], dst[weak], n, directed=directed),
        "strong": friendship_paradox(src[strong], dst[strong], n, directed=directed),
    }


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 for equality, (n-1)/n for one holder.

    ``G = 2 sum_i i x_(i) / (n sum x) - (n + 1) / n`` over the sorted values
    ``x_(1) <= ... <= x_(n)`` (e.g. Dixon et al. 1987). NaN if all are zero.
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return float("nan")
    if x[0] < 0:
        raise ValueError("gini needs non-negative values")
    ranks = np.arange(1, n + 1)
    return float(2.0 * np.dot(ranks, x) / (n * total) - (n + 1.0) / n)


def powerlaw_exponent(values: np.ndarray, xmin: int) -> tuple[float, float, int]:
    """Discrete power-law tail exponent by approximate maximum likelihood.

    ``alpha = 1 + m / sum_i ln(x_i / (xmin - 1/2))`` over the ``m`` values
    ``x_i >= xmin``, with standard error ``(alpha - 1) / sqrt(m)`` (Clauset,
    Shalizi & Newman 2009, "Power-law distributions in empirical data", SIAM
    Review 51:661, eq. 3.7; accurate for xmin of about 6 or more). Returns
    ``(alpha, standard_error, m)``; NaNs when fewer than 2 values are in the tail.
    """
    if xmin < 1:
        raise ValueError(f"xmin must be at least 1, got {xmin}")
    x = np.asarray(values, dtype=np.float64).ravel()
    tail = x[x >= xmin]
    m = len(tail)
    log_sum = float(np.log(tail / (xmin - 0.5)).sum())
    if m < 2 or log_sum <= 0:
        return float("nan"), float("nan"), m
    alpha = 1.0 + m / log_sum
    return alpha, float((alpha - 1.0) / np.sqrt(m)), m


def degree_summary(src: np.ndarray, dst: np.ndarray, n: int, *, xmin: int = 6) -> dict[str, float]:
    """Degrees, inequality, reciprocity and tail exponent of a follow graph.

    Returns ``nodes``, ``edges``, ``mean_in_degree`` and ``mean_out_degree``
    (equal: ``edges / nodes``), ``max_in_degree``, ``max_out_degree``,
    ``gini_in_degree`` (:func:`gini` of follower counts), ``reciprocity`` (the
    share of edges whose reverse edge exists; Newman 2010, Networks, 6.12) and
    ``powerlaw_alpha``, ``powerlaw_alpha_se``, ``powerlaw_tail`` for the
    in-degrees ``>= xmin`` (:func:`powerlaw_exponent`).
    """
    s, d = simple_edges(src, dst, n)
    kin = np.bincount(d, minlength=n)
    kout = np.bincount(s, minlength=n)
    m = len(s)
    keys = s * n + d  # sorted, unique
    reverse = d * n + s
    if m:
        pos = np.minimum(np.searchsorted(keys, reverse), m - 1)
        reciprocity = float(np.mean(keys[pos] == reverse))
    else:
        reciprocity = float("nan")
    alpha, alpha_se, tail = powerlaw_exponent(kin, xmin)
    mean = m / n if n else float("nan")
    return {
        "nodes": n,
        "edges": m,
        "mean_in_degree": mean,
        "mean_out_degree": mean,
        "max_in_degree": int(kin.max(initial=0)),
        "max_out_degree": int(kout.max(initial=0)),
        "gini_in_degree": gini(kin),
        "reciprocity": reciprocity,
        "powerlaw_alpha": alpha,
        "powerlaw_alpha_se": alpha_se,
        "powerlaw_tail": tail,
        "xmin": xmin,
    }
