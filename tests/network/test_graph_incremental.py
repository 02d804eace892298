"""The follow graph's patched row structure equals one rebuilt from scratch."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.network.graph import FollowGraph

pairs = st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(initial=pairs, changes=st.lists(st.tuples(st.booleans(), pairs), max_size=6))
def test_follows_and_unfollows_keep_the_sparse_views_exact(initial, changes) -> None:
    n = 12
    src, dst = (np.array(c, np.int64) for c in zip(*initial, strict=True)) if initial else (
        np.empty(0, np.int64), np.empty(0, np.int64))
    graph = FollowGraph.from_edges(n, src, dst)
    _ = graph.following  # build the row structure, so later changes patch it
    expected = {(int(a), int(b)) for a, b in zip(src, dst, strict=True) if a != b}
    for add, batch in changes:
        if not batch:
            continue
        s, d = (np.array(c, np.int64) for c in zip(*batch, strict=True))
        (graph.follow if add else graph.unfollow)(s, d)
        pairs_now = {(int(a), int(b)) for a, b in batch if a != b}
        expected = expected | pairs_now if add else expected - pairs_now
        dense = graph.following.toarray()
        assert {(int(a), int(b)) for a, b in zip(*np.nonzero(dense), strict=True)} == expected
        assert np.array_equal(graph.in_degree(), dense.sum(axis=0))
        assert np.array_equal(graph.followers.toarray(), dense.T)
