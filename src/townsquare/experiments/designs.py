"""Treatment assignment on a network: by individual, by graph cluster, or by independent set.

When agents influence each other, an agent's outcome depends on its own
treatment *and* on its neighbours' (interference). How treatment is assigned
then decides which effects an experiment can estimate at all:

* :class:`BernoulliDesign` / :class:`CompleteDesign` randomize individuals.
  Simple, but most units end up with some treated neighbour, and a naive
  treated-vs-control comparison mixes direct and spillover effects.
* :class:`ClusterDesign` randomizes graph clusters (Louvain communities, or a
  given partition) to a *saturation* — the share of the cluster treated.
  Saturations ``(0, 1)`` are classic graph-cluster randomization (Ugander et
  al. 2013), which identifies the total effect of treating a whole
  neighbourhood; intermediate saturations such as ``(0, 0.5)`` are the
  two-stage randomized-saturation design (Hudgens & Halloran 2008; Baird et al.
  2018), which also identifies direct and spillover effects.
* :class:`IndependentSetDesign` follows Cai, Zhang & Airoldi (2023),
  "Independent-set design of experiments for estimating treatment and
  spillover effects under network interference" (arXiv:2312.04026): outcomes
  are measured on an independent set ``I`` of the graph (no two members are
  neighbours), treatment is randomized within ``I``, and the treatments of the
  rest (the *auxiliary* set ``A``) set the interference exposure of the units
  in ``I``. Because the neighbours of a unit in ``I`` all lie in ``A``, its own
  treatment and its exposure are assigned independently — the entanglement
  that makes interference hard to untangle is removed by construction.

Every design draws assignments as a ``(size, n)`` boolean array, so the
exposure probabilities an estimator needs can be computed by Monte Carlo over
the design itself (see :mod:`townsquare.experiments.estimators`). Graphs are
taken as undirected: a follow in either direction makes two agents neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import networkx as nx
import numpy as np
import scipy.sparse as sp

from townsquare.errors import UserError


def undirected_adjacency(graph: Any) -> sp.csr_array:
    """Symmetric 0/1 adjacency (float32, no self-loops) of a graph.

    Accepts a :class:`~townsquare.network.graph.FollowGraph`, a networkx graph
    on nodes ``0..n-1``, or a square scipy sparse matrix/array.
    """
    if hasattr(graph, "following"):
        matrix = sp.csr_array(graph.following)
    elif isinstance(graph, nx.Graph):
        n = graph.number_of_nodes()
        if set(graph.nodes) != set(range(n)):
            raise UserError("a networkx graph for a design needs nodes labelled 0..n-1")
        matrix = sp.csr_array(nx.to_scipy_sparse_array(graph, nodelist=range(n)))
    elif sp.issparse(graph):
        matrix = sp.csr_array(graph)
    else:
        raise UserError(f"cannot read a graph from {type(graph).__name__}")
    if matrix.shape[0] != matrix.shape[1]:
        raise UserError(f"an adjacency matrix must be square, got shape {matrix.shape}")
    coo = matrix.tocoo()
    keep = (coo.row != coo.col) & (coo.data != 0)
    rows = np.concatenate([coo.row[keep], coo.col[keep]])
    cols = np.concatenate([coo.col[keep], coo.row[keep]])
    n = matrix.shape[0]
    sym = sp.csr_array((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n))
    sym.sum_duplicates()
    sym.data[:] = 1.0
    return sym


def degrees(adjacency: sp.csr_array) -> np.ndarray:
    return np.diff(adjacency.indptr)


def louvain_clusters(graph: Any, seed: int = 0, resolution: float = 1.0) -> np.ndarray:
    """Cluster label of each node from Louvain community detection (networkx), seeded."""
    adjacency = undirected_adjacency(graph)
    communities = nx.community.louvain_communities(
        nx.from_scipy_sparse_array(adjacency), seed=seed, resolution=resolution)
    labels = np.empty(adjacency.shape[0], dtype=np.int64)
    for label, members in enumerate(sorted(communities, key=min)):
        labels[list(members)] = label
    return labels


def independent_set(graph: Any, seed: int = 0) -> np.ndarray:
    """A maximal independent set favouring low-degree nodes, as a boolean mask.

    The result is what the sequential greedy algorithm gives when it visits
    nodes by ascending degree (random ties) and takes every node none of whose
    neighbours was taken. It is computed in parallel rounds (Luby 1986): an
    undecided node whose key is below all its undecided neighbours' keys joins
    the set, and its neighbours drop out. Favouring low degrees makes the set
    large (Cai et al. 2023 give a lower bound for their greedy set; the tests
    check this one against the Caro–Wei bound ``sum(1 / (degree + 1))``).
    """
    adjacency = undirected_adjacency(graph)
    n = adjacency.shape[0]
    rng = np.random.default_rng(seed)
    deg = degrees(adjacency)
    key = deg.astype(np.float64) * n + rng.permutation(n)  # unique, lowest = first
    undecided = np.ones(n, dtype=bool)
    chosen = np.zeros(n, dtype=bool)
    rows = adjacency.indptr[:-1]
    while undecided.any():
        masked = np.append(np.where(undecided, key, np.inf)[adjacency.indices], np.inf)
        neighbour_min = np.minimum.reduceat(masked, rows)
        neighbour_min[deg == 0] = np.inf
        winners = undecided & (key < neighbour_min)
        chosen |= winners
        covered = adjacency @ winners.astype(np.float32) > 0
        undecided &= ~(winners | covered)
    return chosen


class Design(Protocol):
    """A randomized treatment assignment on ``n`` units."""

    n: int

    @property
    def measured(self) -> np.ndarray:
        """Units whose outcomes the design's estimators use (boolean mask)."""
        ...

    def draw(self, rng: np.random.Generator, size: int = 1) -> np.ndarray:
        """``size`` independent assignments as a ``(size, n)`` boolean array."""
        ...


class _Assign:
    n: int

    def draw(self, rng: np.random.Generator, size: int = 1) -> np.ndarray:
        raise NotImplementedError

    @property
    def measured(self) -> np.ndarray:
        return np.ones(self.n, dtype=bool)

    def assign(self, rng: np.random.Generator | int) -> np.ndarray:
        """One assignment: a boolean mask of the treated units."""
        return self.draw(np.random.default_rng(rng), 1)[0]


def _probability(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise UserError(f"{name} must lie in [0, 1], got {value}")
    return float(value)


@dataclass(frozen=True, eq=False)
class BernoulliDesign(_Assign):
    """Each unit treated independently with probability ``p``."""

    n: int
    p: float = 0.5

    def __post_init__(self) -> None:
        _probability("p", self.p)

    def draw(self, rng: np.random.Generator, size: int = 1) -> np.ndarray:
        return rng.random((size, self.n)) < self.p


def _complete(rng: np.random.Generator, size: int, n: int, treated: int) -> np.ndarray:
    """``size`` draws of exactly ``treated`` treated units out of ``n``."""
    z = np.zeros((size, n), dtype=bool)
    if treated > 0:
        picks = np.argpartition(rng.random((size, n)), treated - 1, axis=1)[:, :treated]
        np.put_along_axis(z, picks, True, axis=1)
    return z


@dataclass(frozen=True, eq=False)
class CompleteDesign(_Assign):
    """Exactly ``treated`` of the ``n`` units treated, all such sets equally likely."""

    n: int
    treated: int

    def __post_init__(self) -> None:
        if not 0 <= self.treated <= self.n:
            raise UserError(f"treated must lie in [0, {self.n}], got {self.treated}")

    def draw(self, rng: np.random.Generator, size: int = 1) -> np.ndarray:
        return _complete(rng, size, self.n, self.treated)


@dataclass(frozen=True, eq=False)
class ClusterDesign(_Assign):
    """Clusters randomized to saturations in equal shares; units treated at their cluster's.

    Stage 1 splits the clusters at random into ``len(saturations)`` groups as
    equal as possible, one per saturation (when they do not divide evenly, the
    first saturations get one cluster more); stage 2 treats each unit of a
    cluster independently with its cluster's saturation.
    """

    labels: np.ndarray
    saturations: tuple[float, ...] = (0.0, 1.0)
    n: int = field(init=False)

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels)
        if labels.ndim != 1 or (len(labels) and labels.min() < 0):
            raise UserError("cluster labels must be a 1-d array of non-negative integers")
        _, dense = np.unique(labels, return_inverse=True)
        object.__setattr__(self, "labels", dense.astype(np.int64))
        object.__setattr__(self, "n", len(labels))
        if not self.saturations:
            raise UserError("a cluster design needs at least one saturation")
        for s in self.saturations:
            _probability("saturation", s)

    @classmethod
    def from_graph(cls, graph: Any, saturations: tuple[float, ...] = (0.0, 1.0), seed: int = 0,
                   resolution: float = 1.0) -> ClusterDesign:
        """Clusters from Louvain community detection on ``graph``."""
        return cls(louvain_clusters(graph, seed, resolution), tuple(saturations))

    @property
    def clusters(self) -> int:
        return int(self.labels.max()) + 1 if self.n else 0

    def draw(self, rng: np.random.Generator, size: int = 1) -> np.ndarray:
        ranks = rng.random((size, self.clusters)).argsort(axis=1).argsort(axis=1)
        saturation = np.asarray(self.saturations)[ranks % len(self.saturations)]
        return rng.random((size, self.n)) < saturation[:, self.labels]


@dataclass(frozen=True, eq=False)
class IndependentSetDesign(_Assign):
    """Cai, Zhang & Airoldi's design: measure an independent set, expose it via the rest.

    * ``in_set``: an independent set ``I`` (outcomes are measured there only);
    * treatment in ``I``: complete randomization of ``round(p * |I|)`` units;
    * treatment in the auxiliary set ``A``: each unit independently with
      probability ``auxiliary_p``, independently of the draw in ``I``.

    The paper chooses the auxiliary assignment by optimizing the estimators'
    precision; here it is randomized with a probability that, by default,
    leaves the median unit of ``I`` without treated neighbours half the time
    (``1 - 0.5 ** (1 / median degree in I)``), so exposed and unexposed units
    of ``I`` are balanced. Keeping it random keeps every unit's exposure
    probability known, which the design-based estimators need.
    """

    adjacency: sp.csr_array
    in_set: np.ndarray
    p: float = 0.5
    auxiliary_p: float | None = None
    n: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", self.adjacency.shape[0])
        in_set = np.asarray(self.in_set, dtype=bool)
        if in_set.shape != (self.n,):
            raise UserError(f"in_set must be a boolean mask of length {self.n}")
        object.__setattr__(self, "in_set", in_set)
        _probability("p", self.p)
        q = self.auxiliary_p
        if q is None:
            deg = degrees(self.adjacency)[in_set]
            median = float(np.median(deg)) if len(deg) else 0.0
            q = 1.0 - 0.5 ** (1.0 / median) if median > 0 else 0.5
            object.__setattr__(self, "auxiliary_p", q)
        _probability("auxiliary_p", float(q))

    @classmethod
    def from_graph(cls, graph: Any, p: float = 0.5, auxiliary_p: float | None = None,
                   seed: int = 0) -> IndependentSetDesign:
        """The design on ``graph`` with a greedy low-degree-first independent set."""
        adjacency = undirected_adjacency(graph)
        return cls(adjacency, independent_set(adjacency, seed), p, auxiliary_p)

    @property
    def measured(self) -> np.ndarray:
        return self.in_set

    def draw(self, rng: np.random.Generator, size: int = 1) -> np.ndarray:
        if self.auxiliary_p is None:  # __post_init__ sets it
            raise RuntimeError("IndependentSetDesign.auxiliary_p is unset")
        members = np.flatnonzero(self.in_set)
        z = rng.random((size, self.n)) < self.auxiliary_p
        z[:, members] = _complete(rng, size, len(members), round(self.p * len(members)))
        return z
