"""Random graph generators: valid tie lists with the statistics their models predict."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from townsquare.network import generators as gen
from townsquare.network.generators import (
    barabasi_albert,
    complete,
    erdos_renyi,
    holme_kim,
    stochastic_block,
    watts_strogatz,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def degrees(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(np.concatenate([u, v]), minlength=n)


def as_networkx(u: np.ndarray, v: np.ndarray, n: int) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    return G


GENERATORS = {
    "barabasi_albert": lambda n, r: barabasi_albert(n, 3, rng=r),
    "holme_kim": lambda n, r: holme_kim(n, 3, 0.6, rng=r),
    "watts_strogatz": lambda n, r: watts_strogatz(n, 6, 0.3, rng=r),
    "erdos_renyi": lambda n, r: erdos_renyi(n, 0.02, rng=r),
    "stochastic_block": lambda n, r: stochastic_block(np.arange(n) % 3, 8.0, 0.7, rng=r),
    "complete": lambda n, r: complete(n),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("n", [7, 300])
def test_ties_are_simple_undirected_int64_pairs(name: str, n: int) -> None:
    u, v = GENERATORS[name](n, rng(3))
    assert u.dtype == np.int64 and v.dtype == np.int64 and u.shape == v.shape
    assert len(u) > 0 or n < 10  # a sparse ER graph on 7 nodes may have no ties
    if not len(u):
        return
    assert u.min() >= 0 and v.min() >= 0 and max(u.max(), v.max()) < n
    assert not np.any(u == v)
    key = np.minimum(u, v) * n + np.maximum(u, v)
    assert len(np.unique(key)) == len(key)  # each tie once, in one direction only


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_seed_same_graph(name: str) -> None:
    first, second = GENERATORS[name](500, rng(11)), GENERATORS[name](500, rng(11))
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])


# -- preferential attachment ---------------------------------------------------------


def test_barabasi_albert_degrees_follow_the_model() -> None:
    n, m = 20_000, 3
    u, v = barabasi_albert(n, m, rng=rng(1))
    deg = degrees(u, v, n)
    assert len(u) == m * (n - m)
    assert deg[m + 1 :].min() == m  # every grown node brought m distinct ties
    assert deg.min() >= 1
    assert deg.mean() == pytest.approx(2 * m, rel=0.01)
    assert deg.max() > 15 * deg.mean()  # heavy tail: hubs
    # P(k) = 2m(m+1) / (k(k+1)(k+2)) for k >= m (Bollobás et al. 2001)
    for k in (m, m + 1, m + 2):
        expected = 2 * m * (m + 1) / (k * (k + 1) * (k + 2))
        assert np.mean(deg == k) == pytest.approx(expected, abs=0.015)


def test_barabasi_albert_attaches_proportionally_to_degree() -> None:
    # In the star seed the hub has degree m, each leaf 1. The first grown node
    # picks m of the m + 1 seed nodes; it misses the hub only if its distinct
    # draws, weighted by degree, are all leaves: 4/8 * 3/7 * 2/6 * 1/5 = 1.4%
    # for m = 4 (uniform attachment would miss it 20% of the time).
    m = 4
    hub_chosen = []
    for seed in range(200):
        u, v = barabasi_albert(m + 2, m, rng=rng(seed))
        hub_chosen.append(np.any((u == m + 1) & (v == 0)))
    assert np.mean(hub_chosen) > 0.95


def test_holme_kim_clusters_like_networkx_powerlaw_cluster_graph() -> None:
    n, m, p = 2000, 3, 0.6
    seeds = range(3)
    ours = [nx.average_clustering(as_networkx(*holme_kim(n, m, p, rng=rng(s)), n)) for s in seeds]
    theirs = [nx.average_clustering(nx.powerlaw_cluster_graph(n, m, p, seed=s)) for s in seeds]
    ba = [nx.average_clustering(as_networkx(*barabasi_albert(n, m, rng=rng(s)), n)) for s in seeds]
    assert np.mean(ours) == pytest.approx(np.mean(theirs), rel=0.12)
    assert np.mean(ours) > 5 * np.mean(ba)


def test_holme_kim_keeps_the_degree_law_of_preferential_attachment() -> None:
    n, m = 10_000, 4
    u, v = holme_kim(n, m, 0.8, rng=rng(2))
    deg = degrees(u, v, n)
    assert len(u) == m * (n - m)
    assert deg[m + 1 :].min() == m
    assert deg.mean() == pytest.approx(2 * m, rel=0.01)
    assert deg.max() > 10 * deg.mean()


def test_holme_kim_without_triads_is_barabasi_albert() -> None:
    a = holme_kim(1000, 2, 0.0, rng=rng(5))
    b = barabasi_albert(1000, 2, rng=rng(5))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_triad_steps_close_triangles() -> None:
    # With p = 1 and m = 2, each grown node's second tie goes to a neighbour of
    # its first target (one is always free), closing at least one triangle.
    n, m = 400, 2
    u, v = holme_kim(n, m, 1.0, rng=rng(4))
    G = as_networkx(u, v, n)
    triangles_per_node = np.array(list(nx.triangles(G).values()))
    assert (triangles_per_node[m + 1 :] >= 1).all()


@pytest.mark.parametrize("fn", [barabasi_albert, lambda n, m, rng: holme_kim(n, m, 0.5, rng=rng)])
def test_preferential_attachment_rejects_bad_sizes(fn) -> None:
    with pytest.raises(ValueError, match="m < n"):
        fn(5, 5, rng=rng())
    with pytest.raises(ValueError, match="1 <= m"):
        fn(5, 0, rng=rng())


# -- small world ----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "k"), [(30, 4), (100, 6), (1000, 10)])
def test_watts_strogatz_without_rewiring_is_the_ring_lattice(n: int, k: int) -> None:
    u, v = watts_strogatz(n, k, 0.0, rng=rng())
    deg = degrees(u, v, n)
    assert (deg == k).all()
    G = as_networkx(u, v, n)
    assert nx.average_clustering(G) == pytest.approx(3 * (k - 2) / (4 * (k - 1)))
    assert nx.utils.edges_equal(G.edges, nx.watts_strogatz_graph(n, k, 0.0).edges)


def test_watts_strogatz_rewiring_keeps_ties_and_lowers_clustering() -> None:
    n, k = 2000, 8
    lattice = 3 * (k - 2) / (4 * (k - 1))
    clustering = []
    for p in (0.01, 0.1, 1.0):
        u, v = watts_strogatz(n, k, p, rng=rng(7))
        assert len(u) == n * k // 2
        clustering.append(nx.average_clustering(as_networkx(u, v, n)))
    # Barrat & Weigt (2000): C(p) ≈ C(0) (1 - p)^3
    assert clustering[0] == pytest.approx(lattice * 0.99**3, rel=0.03)
    assert clustering[1] == pytest.approx(lattice * 0.9**3, rel=0.05)
    assert clustering[2] < 0.02


def test_watts_strogatz_saturated_graph_still_simple() -> None:
    u, v = watts_strogatz(8, 6, 1.0, rng=rng(1))
    key = np.minimum(u, v) * 8 + np.maximum(u, v)
    assert len(np.unique(key)) == len(key) == 24 and not np.any(u == v)


@pytest.mark.parametrize(("n", "k"), [(10, 3), (10, 10), (10, -2)])
def test_watts_strogatz_rejects_bad_k(n: int, k: int) -> None:
    with pytest.raises(ValueError, match="even k"):
        watts_strogatz(n, k, 0.1, rng=rng())


# -- independent ties ----------------------------------------------------------------------


def test_erdos_renyi_tie_count_within_binomial_bounds() -> None:
    n, p = 3000, 0.004
    pairs = n * (n - 1) // 2
    mean, sd = pairs * p, np.sqrt(pairs * p * (1 - p))
    counts = np.array([len(erdos_renyi(n, p, rng=rng(s))[0]) for s in range(20)])
    assert abs(counts.mean() - mean) < 4.5 * sd / np.sqrt(len(counts))
    assert counts.std() == pytest.approx(sd, rel=0.5)


def test_erdos_renyi_degrees_are_binomial() -> None:
    n, p = 4000, 0.003
    u, v = erdos_renyi(n, p, rng=rng(9))
    deg = degrees(u, v, n)
    assert deg.mean() == pytest.approx((n - 1) * p, rel=0.03)
    assert deg.var() == pytest.approx((n - 1) * p * (1 - p), rel=0.1)
    # every pair is equally likely: ties fall evenly on low and high node ids
    assert np.mean(u + v < n) == pytest.approx(0.5, abs=0.02)


def test_erdos_renyi_extremes() -> None:
    assert len(erdos_renyi(50, 0.0, rng=rng())[0]) == 0
    assert len(erdos_renyi(50, 1.0, rng=rng())[0]) == 50 * 49 // 2
    assert len(erdos_renyi(1, 0.5, rng=rng())[0]) == 0


def test_pair_index_mapping_is_exact_for_large_indices() -> None:
    k = np.array([0, 1, 2, 3, 10**12, 5 * 10**11 - 1, 2**52 + 12345, 123456789012345])
    i, j = gen._triangle_pairs(k)
    assert np.array_equal(i * (i - 1) // 2 + j, k)
    assert np.all((j >= 0) & (j < i))


def test_stochastic_block_homophily_and_mean_degree() -> None:
    n, blocks, mean_degree, homophily = 6000, 3, 12.0, 0.7
    block_of = np.arange(n) % blocks
    u, v = stochastic_block(block_of, mean_degree, homophily, rng=rng(2))
    assert np.mean(block_of[u] == block_of[v]) == pytest.approx(homophily, abs=0.015)
    assert degrees(u, v, n).mean() == pytest.approx(mean_degree, rel=0.03)


def test_stochastic_block_accepts_any_labels_and_caps_probabilities() -> None:
    block_of = np.array(["left"] * 4 + ["right"] * 3)
    u, v = stochastic_block(block_of, 50.0, 1.0, rng=rng())
    within = set(zip(np.minimum(u, v).tolist(), np.maximum(u, v).tolist(), strict=True))
    expected = {(a, b) for a in range(7) for b in range(a + 1, 7) if block_of[a] == block_of[b]}
    assert within == expected  # probability capped at 1: both blocks complete, nothing across


def test_complete_graph() -> None:
    u, v = complete(5)
    assert len(u) == 10 and np.all(u < v)
    assert (degrees(u, v, 5) == 4).all()
    assert len(complete(1)[0]) == 0
