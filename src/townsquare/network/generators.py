"""Random graph models as fast, vectorized generators of undirected ties.

Every generator returns ``(u, v)``: two int64 arrays listing each undirected
tie once, without self-loops or duplicates. They are written for a million
nodes and millions of ties (networkx's own generators are pure Python and far
too slow at that size); :func:`townsquare.network.build.build_network` turns
the ties into follows.

Preferential attachment (Barabási–Albert, Holme–Kim) is sequential by nature.
It is computed exactly, without a Python loop per node or edge, from the
"repeated nodes" list (Batagelj & Brandes 2005): every edge ``e`` owns two
*slots*, ``2e`` holding its new node and ``2e + 1`` its target, so the slots
before a node's first edge list each older node once per tie. A preferential
draw copies the value of a uniformly random earlier slot, which may itself be
a target still to be resolved. Nodes are resolved in chunks that are small
next to the grown graph; inside a chunk, these slot references (and the
triad steps of Holme–Kim) are resolved by fixed-point iteration.
"""

from __future__ import annotations

import numpy as np

_MIN_CHUNK = 256  # nodes per chunk while the graph is small
_CHUNK_SHARE = 8  # later chunks hold 1/_CHUNK_SHARE as many nodes as the graph
_TRIAD_TRIES = 10  # triad draws before a Holme–Kim step falls back to attachment
_MAX_ROUNDS = 10_000


# -- preferential attachment -------------------------------------------------------


def barabasi_albert(
    n: int, m: int, *, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Barabási–Albert preferential attachment graph.

    Starts from a star on ``m + 1`` nodes (as networkx does); each further node
    links to ``m`` distinct older nodes chosen with probability proportional to
    their degree.

    Parameters
    ----------
    n : int
        Number of nodes, ``n > m``.
    m : int
        Ties of each new node, ``m >= 1``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    u, v : numpy.ndarray
        Endpoints of the ``m * (n - m)`` undirected ties (``u`` is the newer node).

    References
    ----------
    .. [1] A.-L. Barabási and R. Albert, "Emergence of scaling in random
       networks", Science 286, 509–512 (1999).
    """
    return _grow(n, m, 0.0, rng)


def holme_kim(
    n: int, m: int, p: float, *, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Holme–Kim growing graph with power-law degrees and tunable clustering.

    Like :func:`barabasi_albert`, but after each preferential tie to a node
    ``w``, every further tie of the new node is, with probability ``p``, a
    *triad formation* step: a tie to a random neighbour of ``w`` not yet tied
    to the new node, closing a triangle. When no such neighbour is found the
    step falls back to preferential attachment. This is networkx's
    ``powerlaw_cluster_graph``.

    Parameters
    ----------
    n : int
        Number of nodes, ``n > m``.
    m : int
        Ties of each new node, ``m >= 1``.
    p : float
        Probability of a triad formation step, in ``[0, 1]``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    u, v : numpy.ndarray
        Endpoints of the ``m * (n - m)`` undirected ties (``u`` is the newer node).

    References
    ----------
    .. [1] P. Holme and B. J. Kim, "Growing scale-free networks with tunable
       clustering", Phys. Rev. E 65, 026107 (2002).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"triad probability p must lie in [0, 1], got {p}")
    return _grow(n, m, float(p), rng)


def _grow(n: int, m: int, p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if m < 1 or m >= n:
        raise ValueError(f"preferential attachment needs 1 <= m < n, got m={m}, n={n}")
    num_edges = m * (n - m)  # node t >= m + 1 owns edges m*(t - m) ... m*(t - m) + m - 1
    src = np.empty(num_edges, np.int64)
    tgt = np.zeros(num_edges, np.int64)
    src[:m] = np.arange(1, m + 1)  # the seed star: leaves 1..m tied to hub 0
    src[m:] = np.repeat(np.arange(m + 1, n, dtype=np.int64), m)
    growth = _Growth(n, src, tgt, m, p, rng)
    start = m + 1
    while start < n:
        stop = min(n, start + max(_MIN_CHUNK, start // _CHUNK_SHARE))
        growth.resolve_chunk(start, stop)
        start = stop
    return src, tgt


class _Growth:
    """Slot bookkeeping shared by the chunks of one preferential-attachment run."""

    def __init__(
        self, n: int, src: np.ndarray, tgt: np.ndarray, m: int, p: float, rng: np.random.Generator
    ) -> None:
        self.src, self.tgt, self.m, self.p, self.rng = src, tgt, m, p, rng
        self.span = 2 * len(src)  # key = value * span + slot sorts slots by value, then age
        if p > 0:  # index of resolved slots by value, only needed for triad steps
            self.count = np.zeros(n, np.int64)
            self.by_value = np.zeros(0, np.int64)
            self._index(np.arange(2 * m))

    def value(self, slots: np.ndarray) -> np.ndarray:
        edges = slots >> 1
        return np.where(slots & 1, self.tgt[edges], self.src[edges])

    def _keys(self, slots: np.ndarray) -> np.ndarray:
        return np.sort(self.value(slots) * self.span + slots)

    def _index(self, slots: np.ndarray) -> None:
        """Add resolved slots, all newer than the indexed ones, to the index by value."""
        keys = self._keys(slots)
        values = keys // self.span
        self.start = np.concatenate([[0], np.cumsum(self.count)])
        self.by_value = np.insert(self.by_value, self.start[values + 1], keys % self.span)
        self.count += np.bincount(values, minlength=len(self.count))
        self.start = np.concatenate([[0], np.cumsum(self.count)])

    def resolve_chunk(self, start: int, stop: int) -> None:
        """Fix the targets of nodes ``start .. stop-1``, given all older nodes."""
        m, rng = self.m, self.rng
        rows = stop - start
        first = m * (start - m)
        last = m * (stop - m)
        limit = (2 * m * (np.arange(start, stop, dtype=np.int64) - m))[:, None]  # slots before t
        draw = rng.random((rows, m))
        attach = np.ones((rows, m), bool)
        attach[:, 1:] = rng.random((rows, m - 1)) >= self.p
        tries = np.zeros((rows, m), np.int64)
        cols = np.arange(m)
        for _ in range(_MAX_ROUNDS):
            current = self.tgt[first:last].reshape(rows, m)
            new = self.value(np.floor(draw * limit).astype(np.int64))
            triad = ~attach
            if triad.any():
                anchor = np.maximum.accumulate(np.where(attach, cols, -1), axis=1)
                anchors = np.take_along_axis(new, anchor, axis=1)
                chunk_keys = self._keys(np.arange(2 * first, 2 * last))
                new[triad] = self._triad_targets(
                    anchors[triad], draw[triad], np.broadcast_to(limit, draw.shape)[triad],
                    chunk_keys,
                )
            clash = _repeats_in_rows(new)
            if not clash.any() and np.array_equal(new, current):
                break
            self.tgt[first:last] = new.ravel()
            draw[clash] = rng.random(int(clash.sum()))
            tries[clash & triad] += 1
            attach |= tries >= _TRIAD_TRIES
        else:  # pragma: no cover - would need an astronomically unlucky seed
            raise RuntimeError("preferential attachment did not converge")
        if self.p > 0:
            self._index(np.arange(2 * first, 2 * last))

    def _triad_targets(
        self, anchor: np.ndarray, draw: np.ndarray, limit: np.ndarray, chunk_keys: np.ndarray
    ) -> np.ndarray:
        """A uniformly random neighbour of each ``anchor`` among the slots before ``limit``.

        The ties of ``w`` are the slots holding ``w``; the other slot of the same
        edge is a neighbour. Older slots come from the resolved index, the current
        chunk's from its own (provisional) keys.
        """
        old = self.by_value
        old_lo = self.start[anchor]
        old_count = self.count[anchor]
        base = anchor * self.span
        new_lo = np.searchsorted(chunk_keys, base)
        new_count = np.searchsorted(chunk_keys, base + limit) - new_lo
        pick = np.floor(draw * (old_count + new_count)).astype(np.int64)
        in_old = pick < old_count
        slot = np.where(
            in_old,
            old[np.minimum(old_lo + pick, len(old) - 1)],
            chunk_keys[np.clip(new_lo + pick - old_count, 0, len(chunk_keys) - 1)] % self.span,
        )
        return self.value(slot ^ 1)


def _repeats_in_rows(values: np.ndarray) -> np.ndarray:
    """Mask of entries equal to an earlier entry of the same row."""
    order = np.argsort(values, axis=1, kind="stable")
    ranked = np.take_along_axis(values, order, axis=1)
    repeat = np.zeros(values.shape, bool)
    repeat[:, 1:] = ranked[:, 1:] == ranked[:, :-1]
    out = np.zeros(values.shape, bool)
    np.put_along_axis(out, order, repeat, axis=1)
    return out


# -- small world -----------------------------------------------------------------------


def watts_strogatz(
    n: int, k: int, p: float, *, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Watts–Strogatz small-world graph.

    A ring where each node is tied to its ``k / 2`` nearest neighbours on each
    side; each tie ``(u, u + j)`` then has its far end rewired, with
    probability ``p``, to a uniformly random node (avoiding self-loops and
    duplicates).

    Parameters
    ----------
    n : int
        Number of nodes, ``n > k``.
    k : int
        Even number of ring neighbours of each node.
    p : float
        Rewiring probability in ``[0, 1]``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    u, v : numpy.ndarray
        Endpoints of the ``n * k / 2`` undirected ties.

    References
    ----------
    .. [1] D. J. Watts and S. H. Strogatz, "Collective dynamics of 'small-world'
       networks", Nature 393, 440–442 (1998).
    """
    if k % 2 or k < 0 or k >= n:
        raise ValueError(f"Watts–Strogatz needs an even k with 0 <= k < n, got k={k}, n={n}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"rewiring probability p must lie in [0, 1], got {p}")
    u = np.tile(np.arange(n, dtype=np.int64), k // 2)
    lattice = (u + np.repeat(np.arange(1, k // 2 + 1, dtype=np.int64), n)) % n
    rewired = rng.random(len(u)) < p
    v = lattice.copy()
    redraw = rewired.copy()
    for _ in range(_MAX_ROUNDS):
        if not redraw.any():
            break
        v[redraw] = rng.integers(0, n, int(redraw.sum()))
        redraw = rewired & ((u == v) | _duplicate_ties(u, v, rewired))
    else:  # a saturated small graph: keep the lattice tie where no rewiring fits
        v[redraw] = lattice[redraw]
        keep = ~_duplicate_ties(u, v, ~redraw)
        u, v = u[keep], v[keep]
    return u, v


def _duplicate_ties(u: np.ndarray, v: np.ndarray, movable: np.ndarray) -> np.ndarray:
    """Mask of ties repeating another one; of each group, a non-movable tie is kept."""
    key = np.minimum(u, v) * (max(int(u.max(initial=0)), int(v.max(initial=0))) + 1) + np.maximum(
        u, v
    )
    order = np.lexsort((movable, key))
    ranked = key[order]
    repeat = np.zeros(len(key), bool)
    repeat[1:] = ranked[1:] == ranked[:-1]
    out = np.zeros(len(key), bool)
    out[order] = repeat
    return out


# -- independent ties --------------------------------------------------------------------


def erdos_renyi(n: int, p: float, *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Erdős–Rényi ``G(n, p)`` random graph: each pair tied independently with probability ``p``.

    Draws the number of ties from ``Binomial(n(n-1)/2, p)`` and then that many
    distinct pairs uniformly, which is the same distribution in ``O(ties)``
    time instead of ``O(n^2)``.

    Parameters
    ----------
    n : int
        Number of nodes.
    p : float
        Tie probability in ``[0, 1]``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    u, v : numpy.ndarray
        Endpoints of the ties, ``u > v``.

    References
    ----------
    .. [1] P. Erdős and A. Rényi, "On random graphs I", Publicationes
       Mathematicae 6, 290–297 (1959).
    .. [2] E. N. Gilbert, "Random graphs", Ann. Math. Statist. 30, 1141–1144 (1959).
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"tie probability p must lie in [0, 1], got {p}")
    return _triangle_pairs(_sample_indices(n * (n - 1) // 2, p, rng))


def stochastic_block(
    block_of: np.ndarray, mean_degree: float, homophily: float, *, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic block model with a set mean degree and share of ties inside blocks.

    Two nodes of block ``a`` are tied with probability
    ``homophily * mean_degree / (n_a - 1)``; nodes of blocks ``a != b`` with
    probability ``(1 - homophily) * mean_degree * (1/(n - n_a) + 1/(n - n_b)) / 2``
    (probabilities are capped at 1). With blocks of equal size, each node
    expects ``mean_degree`` ties of which a share ``homophily`` lies inside its
    own block.

    Parameters
    ----------
    block_of : numpy.ndarray
        Block label (int) of each node.
    mean_degree : float
        Expected number of ties per node, ``>= 0``.
    homophily : float
        Expected share of a node's ties inside its own block, in ``[0, 1]``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    u, v : numpy.ndarray
        Endpoints of the ties.

    References
    ----------
    .. [1] P. W. Holland, K. B. Laskey and S. Leinhardt, "Stochastic
       blockmodels: first steps", Social Networks 5, 109–137 (1983).
    """
    if mean_degree < 0:
        raise ValueError(f"mean_degree must be non-negative, got {mean_degree}")
    if not 0.0 <= homophily <= 1.0:
        raise ValueError(f"homophily must lie in [0, 1], got {homophily}")
    labels, block = np.unique(np.asarray(block_of), return_inverse=True)
    n = len(block)
    members = np.argsort(block, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(block, minlength=len(labels)))])
    us, vs = [], []
    for a in range(len(labels)):
        nodes_a = members[bounds[a] : bounds[a + 1]]
        size_a = len(nodes_a)
        if size_a > 1:
            p_in = min(1.0, homophily * mean_degree / (size_a - 1))
            i, j = _triangle_pairs(_sample_indices(size_a * (size_a - 1) // 2, p_in, rng))
            us.append(nodes_a[i])
            vs.append(nodes_a[j])
        for b in range(a + 1, len(labels)):
            nodes_b = members[bounds[b] : bounds[b + 1]]
            size_b = len(nodes_b)
            p_out = min(1.0, (1 - homophily) * mean_degree * (1 / (n - size_a) + 1 / (n - size_b)) / 2)
            index = _sample_indices(size_a * size_b, p_out, rng)
            us.append(nodes_a[index // size_b])
            vs.append(nodes_b[index % size_b])
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(us).astype(np.int64), np.concatenate(vs).astype(np.int64)


def complete(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The complete graph: every pair of the ``n`` nodes tied once (``u < v``)."""
    u, v = np.triu_indices(n, k=1)
    return u.astype(np.int64), v.astype(np.int64)


def _sample_indices(total: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Each of ``0 .. total-1`` independently with probability ``p``, in O(selected) time."""
    if total <= 0 or p <= 0:
        return np.zeros(0, np.int64)
    count = int(rng.binomial(total, min(p, 1.0)))
    return np.sort(rng.choice(total, size=count, replace=False)).astype(np.int64)


def _triangle_pairs(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map ``k`` in ``0 .. n(n-1)/2 - 1`` to the pair ``(i, j)``, ``i > j``, with ``k = i(i-1)/2 + j``."""
    i = np.floor((1 + np.sqrt(1 + 8 * index.astype(np.float64))) / 2).astype(np.int64)
    i -= i * (i - 1) // 2 > index  # correct float rounding either way
    i += (i + 1) * i // 2 <= index
    return i, index - i * (i - 1) // 2
