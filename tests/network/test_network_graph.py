"""FollowGraph: construction, degrees, follow/unfollow semantics and state."""

from __future__ import annotations

import numpy as np
import pytest

from townsquare.network.graph import FollowGraph


def pairs(graph: FollowGraph) -> set[tuple[int, int]]:
    src, dst = graph.edges()
    return set(zip(src.tolist(), dst.tolist(), strict=True))


def test_from_edges_drops_self_loops_and_duplicates() -> None:
    g = FollowGraph.from_edges(4, [0, 0, 1, 2, 2, 3], [1, 1, 1, 3, 0, 0])
    assert pairs(g) == {(0, 1), (2, 3), (2, 0), (3, 0)}
    assert g.num_edges == 4


def test_from_edges_validates_endpoints() -> None:
    with pytest.raises(ValueError, match="same length"):
        FollowGraph.from_edges(3, [0, 1], [1])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        FollowGraph.from_edges(3, [0], [3])
    assert FollowGraph.from_edges(3, [], []).num_edges == 0


def test_edges_are_sorted_by_follower_then_followee() -> None:
    g = FollowGraph.from_edges(5, [4, 0, 2, 0], [0, 3, 1, 1])
    src, dst = g.edges()
    assert src.tolist() == [0, 0, 2, 4] and dst.tolist() == [1, 3, 1, 0]


def test_degrees_and_sparse_views() -> None:
    g = FollowGraph.from_edges(4, [0, 0, 1, 3], [1, 2, 2, 2])
    assert g.out_degree().tolist() == [2, 1, 0, 1]  # how many each follows
    assert g.in_degree().tolist() == [0, 1, 3, 0]  # followers of each
    assert g.following[[0]].indices.tolist() == [1, 2]
    assert sorted(g.followers[[2]].indices.tolist()) == [0, 1, 3]
    assert g.has_edges(np.array([0, 2, 3]), np.array([1, 0, 2])).tolist() == [True, False, True]


def test_follow_returns_the_mask_of_new_follows() -> None:
    g = FollowGraph.from_edges(4, [0], [1])
    applied = g.follow(np.array([0, 1, 2, 1, 3]), np.array([1, 2, 2, 2, 0]))
    # existing (0->1), new (1->2), self (2->2), repeat in batch (1->2), new (3->0)
    assert applied.tolist() == [False, True, False, False, True]
    assert pairs(g) == {(0, 1), (1, 2), (3, 0)}
    assert g.in_degree().tolist() == [1, 1, 1, 0]


def test_unfollow_returns_the_mask_of_removed_follows() -> None:
    g = FollowGraph.from_edges(4, [0, 1, 2], [1, 2, 3])
    applied = g.unfollow(np.array([0, 0, 3, 1, 2]), np.array([1, 1, 0, 1, 2]))
    # existing (0->1), repeat (0->1), absent, absent, self
    assert applied.tolist() == [True, False, False, False, False]
    assert pairs(g) == {(1, 2), (2, 3)}


def test_views_follow_mutations() -> None:
    g = FollowGraph.from_edges(3, [0], [1])
    assert g.following.sum() == 1
    g.follow(np.array([2]), np.array([1]))
    assert g.followers[[1]].indices.tolist() == [0, 2]
    g.unfollow(np.array([0]), np.array([1]))
    assert g.followers[[1]].indices.tolist() == [2]


def test_follow_on_an_empty_graph_and_empty_batches() -> None:
    g = FollowGraph.from_edges(3, [], [])
    assert g.follow(np.array([], np.int64), np.array([], np.int64)).tolist() == []
    assert g.unfollow(np.array([1]), np.array([2])).tolist() == [False]
    assert g.follow(np.array([1]), np.array([2])).tolist() == [True]
    assert pairs(g) == {(1, 2)}


def test_state_round_trip_and_copy_are_independent() -> None:
    g = FollowGraph.from_edges(5, [0, 1, 4], [1, 2, 0])
    restored = FollowGraph.from_state(g.get_state())
    assert pairs(restored) == pairs(g) and restored.n == 5
    clone = g.copy()
    clone.follow(np.array([3]), np.array([4]))
    assert (3, 4) not in pairs(g)
