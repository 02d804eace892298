"""Layouts and samplers: trees stay trees, samples stay within limits, all deterministic."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.report.layout import force_layout, tree_layout
from townsquare.report.sampling import downsample, graph_sample, snowball, subtree_sample


def random_tree(n: int, seed: int) -> np.ndarray:
    """Parent rows of a random recursive tree, shuffled so row order means nothing."""
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [int(rng.integers(0, i)) for i in range(1, n)])
    perm = rng.permutation(n)
    inverse = np.argsort(perm)
    shuffled = np.full(n, -1)
    shuffled[inverse] = np.where(parent >= 0, inverse[np.maximum(parent, 0)], -1)
    return shuffled


def depths(parent: np.ndarray) -> np.ndarray:
    graph = nx.DiGraph([(int(p), i) for i, p in enumerate(parent) if p >= 0])
    graph.add_nodes_from(range(len(parent)))
    root = int(np.flatnonzero(parent < 0)[0])
    found = nx.single_source_shortest_path_length(graph, root)
    return np.array([found[i] for i in range(len(parent))])


def test_tree_layout_on_a_known_tree() -> None:
    #      0
    #    1   2
    #   3 4
    parent = np.array([-1, 0, 0, 1, 1])
    pos = tree_layout(parent)
    np.testing.assert_array_equal(pos[:, 0], [0, 1, 1, 2, 2])
    np.testing.assert_array_equal(pos[[3, 4, 2], 1], [0, 1, 2])  # leaves in DFS order
    assert pos[1, 1] == 0.5 and pos[0, 1] == pytest.approx((0.5 + 2) / 2)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), seed=st.integers(0, 10_000))
def test_tree_layout_x_is_depth_and_leaves_do_not_overlap(n: int, seed: int) -> None:
    parent = random_tree(n, seed)
    pos = tree_layout(parent)
    np.testing.assert_array_equal(pos[:, 0], depths(parent))
    leaves = np.setdiff1d(np.arange(n), parent[parent >= 0])
    assert len(np.unique(pos[leaves, 1])) == len(leaves)
    inner = np.unique(parent[parent >= 0])
    for node in inner:  # each parent lies between its extreme children
        kids = pos[parent == node, 1]
        assert kids.min() <= pos[node, 1] <= kids.max()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 400), limit=st.integers(1, 120), seed=st.integers(0, 1000))
def test_subtree_sample_is_a_connected_tree_within_the_limit(n: int, limit: int,
                                                             seed: int) -> None:
    parent = random_tree(n, seed)
    rows = subtree_sample(parent, limit, seed)
    kept = np.zeros(n, bool)
    kept[rows] = True
    assert kept[parent < 0].all()  # the root is always kept
    assert all(kept[parent[r]] for r in rows if parent[r] >= 0)  # ancestors closed
    if n <= limit:
        assert len(rows) == n
    else:
        assert len(rows) <= max(limit, depths(parent).max() + 1)


def test_force_layout_is_deterministic_and_separates_components() -> None:
    # two cliques of 30 joined by nothing: their centres must be far apart
    a = nx.complete_graph(30)
    b = nx.relabel_nodes(nx.complete_graph(30), {i: i + 30 for i in range(30)})
    edges = np.array(list(a.edges) + list(b.edges))
    pos = force_layout(edges[:, 0], edges[:, 1], 60, seed=1)
    again = force_layout(edges[:, 0], edges[:, 1], 60, seed=1)
    np.testing.assert_array_equal(pos, again)
    assert pos.shape == (60, 2) and np.isfinite(pos).all() and np.abs(pos).max() <= 1.0
    spread = max(pos[:30].std(axis=0).mean(), pos[30:].std(axis=0).mean())
    gap = np.linalg.norm(pos[:30].mean(axis=0) - pos[30:].mean(axis=0))
    assert gap > 2 * spread


def test_force_layout_puts_neighbours_closer_than_strangers() -> None:
    graph = nx.connected_watts_strogatz_graph(600, 6, 0.02, seed=3)  # sampled repulsion path
    edges = np.array(graph.edges)
    pos = force_layout(edges[:, 0], edges[:, 1], 600, seed=0)
    linked = np.linalg.norm(pos[edges[:, 0]] - pos[edges[:, 1]], axis=1).mean()
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, 600, 2000), rng.integers(0, 600, 2000)
    assert linked < 0.5 * np.linalg.norm(pos[i] - pos[j], axis=1).mean()


def test_graph_sample_respects_the_limit_and_keeps_only_internal_edges() -> None:
    graph = nx.barabasi_albert_graph(5000, 3, seed=2)
    edges = np.array(graph.edges)
    sample = graph_sample(edges[:, 0], edges[:, 1], 5000, limit=700, seed=4)
    assert len(sample.nodes) == 700 and len(np.unique(sample.nodes)) == 700
    assert sample.total_edges == len(edges)
    induced = graph.subgraph(sample.nodes.tolist())
    assert len(sample.src) == induced.number_of_edges()
    back = {(int(sample.nodes[s]), int(sample.nodes[d])) for s, d in zip(sample.src, sample.dst,
                                                                         strict=True)}
    assert all(graph.has_edge(u, v) for u, v in back)
    # a snowball sample is much denser than a uniform sample of the same size
    assert len(sample.src) / 700 > 1.0


def test_graph_sample_prefers_agents_with_known_state() -> None:
    graph = nx.barabasi_albert_graph(3000, 8, seed=5)
    edges = np.array(graph.edges)
    known = np.zeros(3000, bool)
    known[:1500] = True  # induced graph on them is well connected (old, dense BA nodes)
    sample = graph_sample(edges[:, 0], edges[:, 1], 3000, limit=500, known=known, seed=0)
    assert known[sample.nodes].all()


def test_snowball_takes_everything_when_small_and_jumps_between_components() -> None:
    import scipy.sparse as sp

    # 3 disjoint triangles: asking for 7 nodes must cross components
    rows = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8])
    cols = np.array([1, 2, 0, 4, 5, 3, 7, 8, 6])
    adj = sp.csr_matrix((np.ones(9), (rows, cols)), shape=(9, 9))
    adj = (adj + adj.T).tocsr()
    nodes = snowball(adj, 7, np.random.default_rng(0), seeds=1)
    assert len(nodes) == 7
    assert len(snowball(adj, 20, np.random.default_rng(0))) == 9


def test_downsample() -> None:
    np.testing.assert_array_equal(downsample(5, 10), np.arange(5))
    rows = downsample(1000, 100, seed=1)
    assert len(rows) == 100 and np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows, downsample(1000, 100, seed=1))
