"""Friendship paradox and degree statistics against networkx and known values."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from townsquare.measure.network_stats import (
    degree_summary,
    friendship_paradox,
    gini,
    paradox_by_tie_strength,
    powerlaw_exponent,
    simple_edges,
)


def _edges(graph: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    src, dst = np.array(graph.edges(), dtype=np.int64).T
    return src, dst


def test_friendship_paradox_on_karate_club_matches_networkx() -> None:
    graph = nx.karate_club_graph()
    n = graph.number_of_nodes()
    degree = dict(graph.degree())
    neighbor_mean = nx.average_neighbor_degree(graph)
    reference = {
        "mean_degree": 2 * graph.number_of_edges() / n,
        "mean_friend_degree": sum(k * k for k in degree.values()) / sum(degree.values()),
        "mean_of_neighbor_means": float(np.mean([neighbor_mean[i] for i in range(n)])),
        "fraction_paradox": sum(degree[i] < neighbor_mean[i] for i in range(n)) / n,
        "fraction_strict_or_equal": sum(degree[i] <= neighbor_mean[i] for i in range(n)) / n,
    }
    out = friendship_paradox(*_edges(graph), n)
    assert {key: out[key] for key in reference} == reference
    assert out["mode"] == "undirected" and out["nodes_with_friends"] == 34
    # The same numbers written once as literals (Zachary's karate club, 34 nodes, 78 edges):
    # sum k = 156, sum k^2 = 1212, and 29 of 34 members have fewer friends than their friends.
    assert out["mean_degree"] == 156 / 34 == 4.588235294117647
    assert out["mean_friend_degree"] == 1212 / 156 == 7.769230769230769
    assert out["mean_of_neighbor_means"] == 9.610210015378701
    assert out["fraction_paradox"] == 29 / 34


def test_undirected_paradox_ignores_edge_direction_duplicates_and_self_loops() -> None:
    src, dst = _edges(nx.karate_club_graph())
    noisy_src = np.r_[src, dst[:10], src[0], 5]
    noisy_dst = np.r_[dst, src[:10], dst[0], 5]
    assert friendship_paradox(noisy_src, noisy_dst, 34) == friendship_paradox(src, dst, 34)


def test_directed_paradox_on_a_constructed_star() -> None:
    # 1..4 follow the hub 0; the hub follows 1; node 5 follows nobody and has no followers.
    src, dst = np.array([1, 2, 3, 4, 0]), np.array([0, 0, 0, 0, 1])
    out = friendship_paradox(src, dst, 6, directed=True)
    assert out["mode"] == "followers"
    assert out["mean_degree"] == 5 / 6
    assert out["mean_friend_degree"] == (4 * 4 + 1 * 1) / 5
    assert out["mean_of_neighbor_means"] == (4 * 4 + 1) / 5
    assert out["fraction_paradox"] == 4 / 5  # all but the hub have fewer followers than followees
    assert out["nodes_with_friends"] == 5


def test_directed_paradox_matches_networkx_on_a_scale_free_digraph() -> None:
    graph = nx.DiGraph(nx.scale_free_graph(300, seed=7))
    graph.remove_edges_from(nx.selfloop_edges(graph))
    followers = dict(graph.in_degree())
    follows = [v for v in graph if graph.out_degree(v) > 0]
    means = {v: np.mean([followers[u] for u in graph.successors(v)]) for v in follows}
    out = friendship_paradox(*_edges(graph), 300, directed=True)
    assert out["nodes_with_friends"] == len(follows)
    assert out["mean_friend_degree"] == pytest.approx(
        np.mean([followers[v] for _, v in graph.edges()]), rel=1e-12
    )
    assert out["mean_of_neighbor_means"] == pytest.approx(np.mean(list(means.values())), rel=1e-12)
    assert out["fraction_paradox"] == sum(followers[v] < means[v] for v in follows) / len(follows)


def test_paradox_by_tie_strength_splits_edges_at_the_quantile() -> None:
    graph = nx.barabasi_albert_graph(200, 3, seed=11)
    src, dst = _edges(graph)
    weight = np.random.default_rng(11).integers(1, 10, len(src))
    out = paradox_by_tie_strength(src, dst, weight, 200, quantile=0.5)
    threshold = np.quantile(weight, 0.5)
    weak, strong = weight <= threshold, weight > threshold
    assert out["threshold"] == threshold
    assert (out["weak_edges"], out["strong_edges"]) == (weak.sum(), strong.sum())
    assert out["all"] == friendship_paradox(src, dst, 200)
    assert out["weak"] == friendship_paradox(src[weak], dst[weak], 200)
    assert out["strong"] == friendship_paradox(src[strong], dst[strong], 200)


def test_weak_ties_to_hubs_carry_the_paradox() -> None:
    # Leaves 1..6 touch hub 0 by rare contacts (weight 1) and each other in pairs by frequent
    # contacts (weight 9): the paradox lives on the weak ties only.
    src = np.array([1, 2, 3, 4, 5, 6, 1, 3, 5])
    dst = np.array([0, 0, 0, 0, 0, 0, 2, 4, 6])
    weight = np.array([1, 1, 1, 1, 1, 1, 9, 9, 9])
    out = paradox_by_tie_strength(src, dst, weight, 7, quantile=0.5)
    assert out["threshold"] == 1.0
    assert out["weak"]["fraction_paradox"] == 6 / 7
    assert out["strong"]["fraction_paradox"] == 0.0


def test_paradox_by_tie_strength_rejects_bad_arguments() -> None:
    src, dst = np.array([0, 1]), np.array([1, 2])
    with pytest.raises(ValueError, match="weight has 1 values for 2 edges"):
        paradox_by_tie_strength(src, dst, np.array([1.0]), 3)
    with pytest.raises(ValueError, match="quantile"):
        paradox_by_tie_strength(src, dst, np.array([1.0, 2.0]), 3, quantile=1.5)


def test_degree_summary_on_a_constructed_graph() -> None:
    # 0 <-> 1 reciprocal, 1 -> 2, 3 -> 2, plus a duplicate and a self-loop that are dropped.
    src, dst = np.array([0, 1, 1, 3, 3, 2]), np.array([1, 0, 2, 2, 2, 2])
    out = degree_summary(src, dst, 4, xmin=1)
    assert (out["nodes"], out["edges"]) == (4, 4)
    assert out["mean_in_degree"] == out["mean_out_degree"] == 1.0
    assert (out["max_in_degree"], out["max_out_degree"]) == (2, 2)
    assert out["reciprocity"] == 0.5
    assert out["gini_in_degree"] == pytest.approx(gini(np.array([1, 1, 2, 0])))
    assert out["powerlaw_tail"] == 3


def test_gini_known_values() -> None:
    assert gini(np.full(10, 3.0)) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 1])) == pytest.approx(3 / 4)
    # Against the mean absolute difference definition G = sum|xi-xj| / (2 n^2 mean).
    x = np.random.default_rng(5).exponential(size=300)
    expected = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini(x) == pytest.approx(expected, rel=1e-10)
    assert np.isnan(gini(np.zeros(3)))


@pytest.mark.parametrize("alpha", [2.2, 3.0])
def test_powerlaw_exponent_recovers_a_zipf_tail(alpha: float) -> None:
    sample = stats.zipf.rvs(alpha, size=100_000, random_state=np.random.default_rng(3))
    estimate, se, tail = powerlaw_exponent(sample, xmin=10)
    assert tail > 400
    assert abs(estimate - alpha) < 3 * se
    assert se == pytest.approx((estimate - 1) / np.sqrt(tail))


def test_powerlaw_exponent_edge_cases() -> None:
    assert np.isnan(powerlaw_exponent(np.array([1, 2, 3]), xmin=3)[0])
    with pytest.raises(ValueError, match="xmin must be at least 1"):
        powerlaw_exponent(np.array([1, 2]), xmin=0)


def test_simple_edges_validates_and_canonicalises() -> None:
    s, d = simple_edges(np.array([2, 1, 1, 0]), np.array([1, 2, 1, 2]), 3, directed=False)
    assert s.tolist() == [0, 1] and d.tolist() == [2, 2]
    with pytest.raises(ValueError, match="differ in length"):
        simple_edges(np.array([0]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match=r"endpoints must lie in \[0, 3\)"):
        simple_edges(np.array([0]), np.array([-1]), 3)
