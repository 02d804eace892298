"""Treatment designs on graphs: exact structure on small graphs, marginals on large ones."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from townsquare.errors import UserError
from townsquare.experiments.designs import (
    BernoulliDesign,
    ClusterDesign,
    CompleteDesign,
    IndependentSetDesign,
    degrees,
    independent_set,
    louvain_clusters,
    undirected_adjacency,
)
from townsquare.network import generators
from townsquare.network.graph import FollowGraph


def holme_kim(n: int = 2000, m: int = 3, seed: int = 1) -> sp.csr_array:
    u, v = generators.holme_kim(n, m, 0.3, rng=np.random.default_rng(seed))
    return undirected_adjacency(sp.csr_array((np.ones(len(u)), (u, v)), shape=(n, n)))


def test_adjacency_is_the_same_from_every_kind_of_graph() -> None:
    follows = FollowGraph.from_edges(4, np.array([0, 1, 2, 2]), np.array([1, 0, 3, 2]))
    expected = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    assert (undirected_adjacency(follows).toarray() == expected).all()
    graph = nx.Graph([(0, 1), (2, 3)])
    assert (undirected_adjacency(graph).toarray() == expected).all()
    assert (undirected_adjacency(sp.coo_array(np.triu(expected) * 5)).toarray() == expected).all()
    with pytest.raises(UserError, match=r"labelled 0\.\.n-1"):
        undirected_adjacency(nx.Graph([("a", "b")]))
    with pytest.raises(UserError, match="square"):
        undirected_adjacency(sp.csr_array(np.ones((2, 3))))


def test_independent_set_on_known_graphs() -> None:
    # path 0-1-2-3-4: the ends have the lowest degree, then 2 is free
    assert np.flatnonzero(independent_set(nx.path_graph(5))).tolist() == [0, 2, 4]
    # a star: every leaf (degree 1) before the hub
    assert np.flatnonzero(independent_set(nx.star_graph(6))).tolist() == [1, 2, 3, 4, 5, 6]
    # isolated nodes are always in
    graph = nx.Graph([(0, 1)])
    graph.add_nodes_from([2, 3])
    chosen = independent_set(graph, seed=3)
    assert chosen[2] and chosen[3] and chosen[:2].sum() == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_independent_set_is_independent_maximal_and_large(seed: int) -> None:
    adjacency = holme_kim(seed=seed)
    chosen = independent_set(adjacency, seed=seed)
    touching = adjacency @ chosen.astype(np.float32)
    assert touching[chosen].sum() == 0  # independent: no two members adjacent
    assert (touching[~chosen] > 0).all()  # maximal: every other node has a member neighbour
    caro_wei = (1.0 / (degrees(adjacency) + 1)).sum()
    assert chosen.sum() >= caro_wei


def test_bernoulli_and_complete_designs() -> None:
    rng = np.random.default_rng(0)
    z = BernoulliDesign(1000, 0.3).draw(rng, 200)
    assert z.shape == (200, 1000)
    assert abs(z.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / z.size)
    complete = CompleteDesign(50, 7).draw(rng, 300)
    assert (complete.sum(axis=1) == 7).all()
    assert abs(complete.mean(axis=0) - 7 / 50).max() < 0.1  # every unit equally likely
    assert CompleteDesign(5, 0).assign(1).sum() == 0
    with pytest.raises(UserError, match="p must lie in"):
        BernoulliDesign(5, 1.5)
    with pytest.raises(UserError, match="treated must lie in"):
        CompleteDesign(5, 6)


def test_cluster_design_treats_clusters_at_their_saturation() -> None:
    labels = np.repeat(np.arange(10), 20)[np.random.default_rng(0).permutation(200)]
    z = ClusterDesign(labels, (0.0, 1.0)).draw(np.random.default_rng(1), 100)
    per_cluster = np.stack([z[:, labels == c].mean(axis=1) for c in range(10)], axis=1)
    assert set(np.unique(per_cluster)) == {0.0, 1.0}  # all or nothing within a cluster
    assert (per_cluster.sum(axis=1) == 5).all()  # clusters split equally between levels
    mixed = ClusterDesign(labels, (0.0, 0.5, 1.0)).draw(np.random.default_rng(2), 400)
    shares = np.stack([mixed[:, labels == c].mean(axis=1) for c in range(10)], axis=1)
    # 10 clusters over 3 levels: 4 at the first level, 3 at each other
    assert ((shares == 0).sum(axis=1) == 4).all() and ((shares == 1).sum(axis=1) == 3).all()
    assert abs(mixed.mean() - (3 * 0.5 + 3 * 1.0) / 10) < 0.01
    with pytest.raises(UserError, match="saturation must lie in"):
        ClusterDesign(labels, (0.0, 2.0))


def test_louvain_clusters_follow_planted_communities() -> None:
    graph = nx.planted_partition_graph(4, 50, 0.3, 0.002, seed=3)
    labels = louvain_clusters(graph, seed=0)
    planted = np.repeat(np.arange(4), 50)
    for block in range(4):
        assert np.bincount(labels[planted == block]).max() >= 48
    assert (louvain_clusters(graph, seed=0) == labels).all()  # seeded: reproducible


def test_independent_set_design_separates_own_treatment_from_exposure() -> None:
    adjacency = holme_kim()
    design = IndependentSetDesign.from_graph(adjacency, p=0.5, seed=0)
    members = design.measured
    z = design.draw(np.random.default_rng(0), 500)
    assert (z[:, members].sum(axis=1) == round(0.5 * members.sum())).all()
    # treated members never neighbour each other: their exposure comes from the rest
    treated_members = (z & members).astype(np.float32)
    assert ((adjacency @ treated_members.T).T[:, members] * treated_members[:, members]).sum() == 0
    # default auxiliary probability: the median member is unexposed half the time
    auxiliary = z[:, ~members]
    assert abs(auxiliary.mean() - design.auxiliary_p) < 0.01
    unexposed = ((adjacency @ (z & ~members).astype(np.float32).T).T == 0)[:, members].mean(0)
    deg = degrees(adjacency)[members]
    median_units = deg == np.median(deg)
    assert abs(unexposed[median_units].mean() - 0.5) < 0.05
    with pytest.raises(UserError, match="boolean mask of length"):
        IndependentSetDesign(adjacency, np.ones(3, bool))
