"""The compiled step loops: their random stream, transmission and edge scan against references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from townsquare.environments.contagion import kernels
from townsquare.environments.contagion.models import SIREpidemicModel, Status, run
from townsquare.network.graph import FollowGraph

MASK = (1 << 64) - 1


def xoshiro256ss(state: list[int], count: int) -> list[int]:
    """The reference xoshiro256** (Blackman & Vigna), in Python integers."""

    def rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & MASK

    s = list(state)
    out = []
    for _ in range(count):
        out.append(rotl((s[1] * 5) & MASK, 7) * 9 & MASK)
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def test_the_stream_is_xoshiro256_starstar_seeded_from_the_generator() -> None:
    state = kernels.stream(np.random.default_rng(42))
    again = kernels.stream(np.random.default_rng(42))
    np.testing.assert_array_equal(state, again)  # reproducible from the caller's seed
    expected = xoshiro256ss([int(x) for x in state], 200)
    assert [int(kernels._next(state)) for _ in range(200)] == expected
    draws = np.array([kernels.uniform(state) for _ in range(20_000)])
    assert draws.min() >= 0 and draws.max() < 1
    counts = np.histogram(draws, bins=20, range=(0, 1))[0]
    assert chisquare(counts).pvalue > 1e-4


def test_the_kernels_leave_the_all_zero_state() -> None:
    graph = FollowGraph.from_edges(3, np.array([1, 2]), np.array([0, 0]))
    state = np.zeros(4, np.uint64)
    followers = graph.followers
    sources, status = np.array([0]), np.zeros(3, np.int8)
    kernels.transmit(followers.indptr, followers.indices, sources, status, 0, 0.5, state)
    assert state.any()


def star(followers: int) -> FollowGraph:
    """Agent 0 and ``followers`` agents who follow it."""
    return FollowGraph.from_edges(
        followers + 1, np.arange(1, followers + 1), np.zeros(followers, np.int64)
    )


@pytest.mark.parametrize(
    ("followers", "p"), [(10, 0.05), (40, 0.3), (63, 0.1), (64, 0.1), (65, 0.02), (300, 0.2)]
)
def test_transmit_tells_each_follower_independently_with_prob_p(followers: int, p: float) -> None:
    # Rows shorter than 64 end by a table lookup, longer ones by a logarithm.
    graph, draws = star(followers), 20_000
    csr = graph.followers
    status = np.zeros(followers + 1, np.int8)
    rng = np.random.default_rng(followers)
    told = np.zeros((draws, followers + 1), bool)
    for d in range(draws):
        who, parent = kernels.transmit(
            csr.indptr, csr.indices, np.array([0]), status, 0, p, kernels.stream(rng)
        )
        assert (parent == 0).all() and len(np.unique(who)) == len(who)
        told[d, who] = True
    count = told.sum(axis=1)
    mean, var = followers * p, followers * p * (1 - p)
    assert abs(count.mean() - mean) < 4 * np.sqrt(var / draws)
    assert 0.9 < count.var(ddof=1) / var < 1.1  # independent attempts
    share = told[:, 1:].mean(axis=0)  # no position is favoured, the last ones included
    assert np.all(np.abs(share - p) < 4.5 * np.sqrt(p * (1 - p) / draws))
    assert not told[:, 0].any()


def test_transmit_skips_agents_who_are_not_susceptible() -> None:
    graph = star(50)
    csr = graph.followers
    status = np.zeros(51, np.int8)
    status[1::2] = Status.STIFLER
    stream = kernels.stream(np.random.default_rng(1))
    told, _ = kernels.transmit(csr.indptr, csr.indices, np.array([0]), status, 0, 1.0, stream)
    np.testing.assert_array_equal(np.sort(told), np.arange(2, 51, 2))


def test_transmit_parent_is_uniform_among_the_successful_sources() -> None:
    # Agent 3 follows 0, 1 and 2; each tells it w.p. 1/2. Told w.p. 7/8, and by symmetry each
    # source is the parent w.p. 1/3 (keeping the first or the last success would not be).
    graph = FollowGraph.from_edges(4, np.array([3, 3, 3]), np.array([0, 1, 2]))
    csr = graph.followers
    status, rng, draws = np.zeros(4, np.int8), np.random.default_rng(5), 30_000
    parents = []
    for _ in range(draws):
        told, parent = kernels.transmit(
            csr.indptr, csr.indices, np.array([0, 1, 2]), status, 0, 0.5, kernels.stream(rng)
        )
        parents.extend(parent)
        assert set(told) <= {3}
    assert abs(len(parents) / draws - 7 / 8) < 4 * np.sqrt(7 / 64 / draws)
    counts = np.bincount(parents, minlength=3)
    assert chisquare(counts).pvalue > 1e-3, counts


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    edges=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=40),
    values=st.lists(st.floats(-1, 1), min_size=12, max_size=12),
    lo=st.floats(0, 0.5),
    width=st.floats(0, 1),
)
def test_edge_scan_matches_brute_force(n, edges, values, lo, width) -> None:
    pairs = [(u, v) for u, v in edges if u < n and v < n and u != v]
    src = np.array([u for u, _ in pairs], np.int64)
    dst = np.array([v for _, v in pairs], np.int64)
    graph = FollowGraph.from_edges(n, src, dst)
    x = np.array(values[:n])
    expected = any(lo <= abs(x[u] - x[v]) < lo + width for u, v in pairs)
    csr = graph.following
    assert kernels.any_edge_gap_within(csr.indptr, csr.indices, x, lo, lo + width) == expected


def test_a_seed_reproduces_a_run_and_another_seed_changes_it() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    graph = FollowGraph.from_edges(n, rng.integers(0, n, 16000), rng.integers(0, n, 16000))
    model = SIREpidemicModel(beta=0.1, gamma=0.3, seeds=5)
    a = run(model, graph, 200, np.random.default_rng(9))
    b = run(model, graph, 200, np.random.default_rng(9))
    c = run(model, graph, 200, np.random.default_rng(10))
    for name in ("status", "parent", "step_changed"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.parent, c.parent)


def test_the_kernels_status_codes_are_the_models() -> None:
    assert (kernels._SPREADER, kernels._STIFLER) == (Status.SPREADER, Status.STIFLER)
