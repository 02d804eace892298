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
_NEVER = np.iinfo(np.int64).max


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
        if p > 0:  # resolved slots grouped by value (oldest first), for triad steps
            self.count = np.zeros(n, np.int64)
            self.start = np.zeros(n + 1, np.int64)
            self.by_value = np.zeros(0, np.int64)
            self._index(np.arange(2 * m))
            self.first_change = np.full(n, _NEVER)

    def value(self, slots: np.ndarray) -> np.ndarray:
        """The node each slot holds: an edge's new node (even slot) or its target (odd)."""
        edges = slots >> 1
        return np.where(slots & 1, self.tgt[edges], self.src[edges])

    def _keys(self, slots: np.ndarray) -> np.ndarray:
        return np.sort(self.value(slots) * self.span + slots)

    def _index(self, slots: np.ndarray) -> None:
        """Add resolved slots, all newer than the indexed ones, to the index by value."""
        keys = self._keys(slots)
        values = keys // self.span
        self.by_value = np.insert(self.by_value, self.start[values + 1], keys % self.span)
        self.count += np.bincount(values, minlength=len(self.count))
        np.cumsum(self.count, out=self.start[1:])

    def resolve_chunk(self, start: int, stop: int) -> None:
        """Fix the targets of nodes ``start .. stop-1``, given all older nodes.

        Fixed-point iteration: a node's ties may copy slots of other nodes of
        the chunk, so each round recomputes the nodes whose inputs changed in
        the previous one, until nothing changes.
        """
        m = self.m
        rows = stop - start
        first, last = m * (start - m), m * (stop - m)
        base = 2 * first  # the chunk's first slot
        tgt = self.tgt[first:last].reshape(rows, m)  # a view: writes land in self.tgt
        limit = np.repeat(2 * m * (np.arange(start, stop, dtype=np.int64) - m), m).reshape(rows, m)
        draw = self.rng.random((rows, m))
        drawn = np.ones((rows, m), bool)  # preferential (True) or triad step, as drawn
        drawn[:, 1:] = self.rng.random((rows, m - 1)) >= self.p
        attach = drawn.copy()  # as taken: a triad step without a free neighbour attaches
        via = np.zeros((rows, m), np.int64)  # the slot whose value each tie copies
        keys = self._keys(np.arange(base, 2 * last)) if self.p > 0 else None
        active = np.arange(rows)
        for _ in range(_MAX_ROUNDS):
            new, attach[active], via[active] = self._node_targets(
                draw[active], drawn[active], limit[active, 0], keys
            )
            changed = new != tgt[active]
            if not changed.any():
                break
            row, col = np.nonzero(changed)
            row = active[row]
            slots = base + 2 * (row * m + col) + 1
            before, after = tgt[row, col], new[changed]
            tgt[row, col] = after
            if keys is not None:
                keys = _replace_sorted(keys, before * self.span + slots, after * self.span + slots)
            # next round: nodes that copy a changed slot or sample a changed node's ties
            moved = np.zeros(2 * (last - first) + 1, bool)
            moved[slots - base] = True
            stale = moved[np.where(via >= base, via - base, -1)]
            if keys is not None:  # triads whose anchor gained or lost a tie before them
                anchor = np.maximum.accumulate(np.where(attach, np.arange(m), -1), axis=1)
                triad = ~attach
                anchors = np.take_along_axis(tgt, anchor, axis=1)[triad]
                earliest = self._earliest(np.r_[before, after], np.r_[slots, slots], anchors)
                stale[triad] |= earliest < limit[triad]
            active = np.flatnonzero(stale.any(axis=1))
        else:  # pragma: no cover - would need an astronomically unlucky seed
            raise RuntimeError("preferential attachment did not converge")
        if self.p > 0:
            self._index(np.arange(base, 2 * last))

    def _earliest(self, nodes: np.ndarray, slots: np.ndarray, query: np.ndarray) -> np.ndarray:
        """For each ``query`` node, the first of ``slots`` listed with it (or ``_NEVER``)."""
        order = np.argsort(slots)[::-1]  # the earliest slot is written last and stays
        self.first_change[nodes[order]] = slots[order]
        out = self.first_change[query]
        self.first_change[nodes] = _NEVER
        return out

    def _node_targets(
        self, draw: np.ndarray, drawn: np.ndarray, limit: np.ndarray, keys: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``m`` distinct targets of some nodes, tie by tie as the model adds them.

        Returns the targets, whether each tie was preferential, and the slot it
        copies. A tie repeating an earlier one is redrawn; a triad step gives up
        after ``_TRIAD_TRIES`` draws and attaches preferentially instead. A
        node's own slots lie after its ``limit``, so nothing it reads moves
        while its ties are drawn. ``draw`` is updated in place with redraws.
        """
        rows, m = draw.shape
        new = np.zeros((rows, m), np.int64)
        via = np.zeros((rows, m), np.int64)
        attach = drawn.copy()
        anchor = np.zeros(rows, np.int64)  # the latest preferential target
        for col in range(m):
            tries = np.zeros(rows, np.int64)
            todo = np.arange(rows)
            for _ in range(_MAX_ROUNDS):
                if not len(todo):
                    break
                step = attach[todo, col]
                got = np.floor(draw[todo, col] * limit[todo]).astype(np.int64)
                if not step.all():
                    if keys is None:  # keys are built whenever p > 0, the only way to draw a triad
                        raise RuntimeError("triad step drawn without tie keys (p == 0)")
                    triad = todo[~step]
                    tie = self._tie_of(anchor[triad], draw[triad, col], limit[triad], keys)
                    got[~step] = tie ^ 1
                value = self.value(got)
                new[todo, col], via[todo, col] = value, got
                clash = (new[todo, :col] == value[:, None]).any(axis=1)
                todo = todo[clash]
                draw[todo, col] = self.rng.random(len(todo))
                tries[todo] += ~attach[todo, col]
                attach[todo, col] |= tries[todo] >= _TRIAD_TRIES
            else:  # pragma: no cover
                raise RuntimeError("preferential attachment found no distinct target")
            anchor = np.where(attach[:, col], new[:, col], anchor)
        return new, attach, via

    def _tie_of(
        self, node: np.ndarray, draw: np.ndarray, limit: np.ndarray, keys: np.ndarray
    ) -> np.ndarray:
        """A uniformly random slot holding ``node`` among the slots before ``limit``.

        The other slot of the same edge is then a uniformly random neighbour.
        Resolved slots come from the index by value, the current chunk's from
        its own (provisional) sorted keys.
        """
        old_lo, old_count = self.start[node], self.count[node]
        key = node * self.span
        new_lo = np.searchsorted(keys, key)
        new_count = np.searchsorted(keys, key + limit) - new_lo
        pick = np.floor(draw * (old_count + new_count)).astype(np.int64)
        old = self.by_value
        return np.where(
            pick < old_count,
            old[np.minimum(old_lo + pick, len(old) - 1)],
            keys[np.clip(new_lo + pick - old_count, 0, len(keys) - 1)] % self.span,
        )


def _replace_sorted(keys: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Sorted ``keys`` with the (present, distinct) ``old`` keys swapped for ``new``."""
    keys = np.delete(keys, np.searchsorted(keys, old))
    new = np.sort(new)
    return np.insert(keys, np.searchsorted(keys, new), new)


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
            outside = (1 / (n - size_a) + 1 / (n - size_b)) / 2
            p_out = min(1.0, (1 - homophily) * mean_degree * outside)
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
    """Map pair index ``k`` to ``(i, j)``, ``i > j``, where ``k = i(i-1)/2 + j``."""
    i = np.floor((1 + np.sqrt(1 + 8 * index.astype(np.float64))) / 2).astype(np.int64)
    i -= i * (i - 1) // 2 > index  # correct float rounding either way
    i += (i + 1) * i // 2 <= index
    return i, index - i * (i - 1) // 2
