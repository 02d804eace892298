"""Samples that keep drawings readable and reports small: network neighbourhoods, trees, points.

A 100k-agent run has millions of edges and posts; a browser draws a few
thousand nodes comfortably. Every sampler here is seeded and vectorized.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

MAX_POINTS = 50_000
"""Most points drawn in one plot."""


@dataclass(frozen=True)
class GraphSample:
    """A connected-ish sample of the follow graph in local node numbers."""

    nodes: np.ndarray  # (k,) agent ids
    src: np.ndarray  # (e,) local rows
    dst: np.ndarray
    total_nodes: int
    total_edges: int


def _undirected(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    ones = np.ones(len(src), dtype=np.int8)
    a = sp.coo_matrix((ones, (src, dst)), shape=(n, n)).tocsr()
    return (a + a.T).tocsr()


def snowball(adjacency: sp.csr_matrix, limit: int, rng: np.random.Generator,
             candidates: np.ndarray | None = None, seeds: int = 4) -> np.ndarray:
    """Up to ``limit`` nodes reached breadth-first from a few random start nodes.

    The last layer is subsampled at random so the sample stops at ``limit``.
    ``candidates`` (a boolean mask) restricts both the start nodes and the walk.
    """
    n = adjacency.shape[0]
    allowed = np.ones(n, bool) if candidates is None else candidates.astype(bool)
    if allowed.sum() <= limit:
        return np.flatnonzero(allowed)
    pool = np.flatnonzero(allowed & (np.diff(adjacency.indptr) > 0))
    if len(pool) == 0:
        pool = np.flatnonzero(allowed)
    taken = np.zeros(n, bool)
    frontier = rng.choice(pool, size=min(seeds, len(pool), limit), replace=False)
    taken[frontier] = True
    count = len(frontier)
    while count < limit:
        if len(frontier) == 0:  # component exhausted: jump to a new start node
            rest = pool[~taken[pool]]
            if len(rest) == 0:
                break
            frontier = rng.choice(rest, size=1)
            taken[frontier] = True
            count += 1
            continue
        reached = np.unique(adjacency[frontier].indices)
        new = reached[allowed[reached] & ~taken[reached]]
        if len(new) > limit - count:
            new = rng.choice(new, size=limit - count, replace=False)
        taken[new] = True
        count += len(new)
        frontier = new
    return np.flatnonzero(taken)


def graph_sample(src: np.ndarray, dst: np.ndarray, n: int, *, limit: int = 2000,
                 known: np.ndarray | None = None, seed: int = 0,
                 max_edges: int = MAX_POINTS // 3) -> GraphSample:
    """Sample at most ``limit`` nodes of the follow graph by snowball sampling.

    ``known`` marks agents whose state is recorded (the snapshot sample): when
    the graph induced on them is connected enough (mean degree >= 2) the sample
    is drawn from it, so every drawn node can be coloured; otherwise from the
    whole graph. Edges among the sampled nodes are kept, at most ``max_edges``.
    """
    rng = np.random.default_rng(seed)
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    adjacency = _undirected(src, dst, n)
    candidates = None
    if known is not None and not known.all():
        inside = known[src] & known[dst]
        if inside.sum() >= known.sum():
            candidates = known
    nodes = snowball(adjacency, limit, rng, candidates)
    local = np.full(n, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    keep = (local[src] >= 0) & (local[dst] >= 0)
    s, d = local[src[keep]], local[dst[keep]]
    if len(s) > max_edges:
        pick = np.sort(rng.choice(len(s), size=max_edges, replace=False))
        s, d = s[pick], d[pick]
    return GraphSample(nodes=nodes, src=s, dst=d, total_nodes=n, total_edges=len(src))


def subtree_sample(parent: np.ndarray, limit: int, seed: int = 0) -> np.ndarray:
    """Rows of a tree to draw: all if small, else random nodes plus all their ancestors.

    ``parent`` holds parent rows (-1 at the root). Keeping ancestors makes the
    sample a connected tree with the same root.
    """
    parent = np.asarray(parent, dtype=np.int64)
    n = len(parent)
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    picks = max(limit // 2, 1)
    while True:
        keep = np.zeros(n, bool)
        keep[parent < 0] = True
        current = rng.choice(n, size=picks, replace=False)
        while len(current):  # climb toward the root one level per pass
            keep[current] = True
            up = parent[current]
            current = np.unique(up[(up >= 0) & ~keep[np.maximum(up, 0)]])
        if keep.sum() <= limit or picks == 1:
            return np.flatnonzero(keep)
        picks //= 2


def downsample(length: int, limit: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """Sorted row numbers of at most ``limit`` of ``length`` rows (all when it fits)."""
    if length <= limit:
        return np.arange(length)
    return np.sort(np.random.default_rng(seed).choice(length, size=limit, replace=False))
