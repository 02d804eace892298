"""The classic diffusion and opinion models, vectorized over a follow graph.

Independent cascade, linear threshold, Maki–Thompson rumour, SIR epidemic,
voter and Deffuant bounded confidence, each a small class with the same shape
(:class:`ClassicModel`) so the engine can drive any of them one step at a
time, and so townsquare's results can be checked against theory and NDlib.

Influence flows against the follow edges: in ``u -> v`` (u follows v), v
influences u. An agent's influencers are its *followees* (``graph.following``);
the agents it reaches are its *followers* (``graph.followers``). Every step is
synchronous: all agents read the state at the start of the step, with the
conflict rule of each model documented on its class. Every step costs
O(agents + edges touched), in numpy, or in one compiled loop
(:mod:`townsquare.environments.contagion.kernels`) for the voter and Deffuant steps, the
SIR update and transmission steps below :data:`COMPILED_ATTEMPTS`, where
numpy's fixed cost per call would dominate; the only Python loop is over steps.

A :class:`WellMixed` population (everyone follows everyone else, no stored
edges) stands in for a complete graph too large to materialise, which is
where the mean-field results (rumour and epidemic final sizes) hold.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from townsquare.core.registry import CLASSIC_MODELS
from townsquare.environments.contagion import kernels, whole_runs
from townsquare.errors import UserError
from townsquare.network.graph import FollowGraph

__all__ = [
    "ClassicModel",
    "ClassicState",
    "DeffuantModel",
    "IndependentCascadeModel",
    "LinearThresholdModel",
    "MakiThompsonModel",
    "Network",
    "SIREpidemicModel",
    "Status",
    "Transition",
    "VoterModel",
    "WellMixed",
    "advance",
    "disjoint_copies",
    "from_config",
    "run",
    "run_replicates",
]

Seeds = int | Sequence[int] | np.ndarray


class Status(IntEnum):
    """Status codes in :attr:`ClassicState.status` (the voter model stores its 0/1 opinion)."""

    INACTIVE = 0  # cascade models: not (yet) adopted
    ACTIVE = 1  # cascade models: adopted
    IGNORANT = 0  # rumour / epidemic: never heard (susceptible)
    SPREADER = 1  # rumour / epidemic: spreading (infected)
    STIFLER = 2  # rumour / epidemic: stopped spreading (recovered)


# the codes as plain ints for the steps: comparing an array with an IntEnum member is slow
_INACTIVE = _IGNORANT = int(Status.INACTIVE)
_ACTIVE = _SPREADER = int(Status.ACTIVE)
_STIFLER = int(Status.STIFLER)
_NO_ROWS = np.empty(0, np.int64)
# Transmission steps expected to make fewer attempts than this run as one compiled loop
# (kernels.transmit), larger ones in numpy: below it numpy's fixed cost per call
# dominates; above it numpy's bulk random draws and gathers are faster (measured on
# Barabási–Albert graphs: the two meet near 2**17 attempts). Both are exact.
COMPILED_ATTEMPTS = 2**17
# run(), run_replicates() and advance() run IC, LT, SIR and the voter model on a follow
# graph as one compiled loop over all steps (whole_runs); False: step by step, each step
# as the engine runs it (the same process either way; tests check both).
WHOLE_RUNS = True
_NO_PRESSURE = np.empty(0, np.int32)
WHOLE_SIR_EVENTS = 2**23  # larger graphs run the SIR step by step (its work dominates there)


@dataclass
class ClassicState:
    """Per-agent state of a classic model; models update it in place.

    ``status`` int8 codes (:class:`Status`; voter: the opinion 0/1; Deffuant: zeros).
    ``parent`` int64, the agent behind this one's latest adoption, copy or
    interaction (-1: seeds, and agents never influenced).
    ``step_changed`` int32, step of the latest change (0: seeded; -1: never).
    ``frontier`` int64, agents activated or told in the latest step (the
    seeds at first; cascade models act from these). ``opinion`` float64 in [-1, 1] (Deffuant) and
    ``threshold`` float64 (linear threshold) are None for other models.
    ``spreading`` int64, SIR epidemic: the current spreaders in no particular
    order, kept by its step so that a step need not scan every agent; None
    until the first step (or after changing ``status`` by hand): the step
    then finds them from ``status``.
    ``pressure`` int32, linear threshold: per agent, how many of its followees
    are active and not in ``frontier`` (the frontier's share is added by the
    next step, which gathers the frontier's followers anyway), so that a step
    need not gather the followees of every agent it checks; None until the
    first step (or after changing ``status``, ``frontier`` or the graph by
    hand): the step then counts it from ``status``.
    """

    status: np.ndarray
    parent: np.ndarray
    step_changed: np.ndarray
    frontier: np.ndarray
    opinion: np.ndarray | None = None
    threshold: np.ndarray | None = None
    spreading: np.ndarray | None = None
    pressure: np.ndarray | None = None

    @classmethod
    def blank(cls, n: int) -> ClassicState:
        return cls(
            status=np.zeros(n, np.int8),
            parent=np.full(n, -1, np.int64),
            step_changed=np.full(n, -1, np.int32),
            frontier=np.empty(0, np.int64),
        )

    @classmethod
    def stack(cls, states: Sequence[ClassicState], n: int) -> ClassicState:
        """One state for disjoint copies: agent i of copy c becomes ``c * n + i``."""
        parents = [np.where(s.parent >= 0, s.parent + c * n, -1) for c, s in enumerate(states)]

        def joined(name: str) -> np.ndarray | None:
            parts = [getattr(s, name) for s in states]
            return None if any(part is None for part in parts) else np.concatenate(parts)

        spreading = None
        spreads = [s.spreading for s in states if s.spreading is not None]
        if len(spreads) == len(states):
            spreading = np.concatenate([part + c * n for c, part in enumerate(spreads)])
        return cls(
            status=np.concatenate([s.status for s in states]),
            parent=np.concatenate(parents),
            step_changed=np.concatenate([s.step_changed for s in states]),
            frontier=np.concatenate([s.frontier + c * n for c, s in enumerate(states)]),
            opinion=joined("opinion"),
            threshold=joined("threshold"),
            spreading=spreading,
            pressure=joined("pressure"),  # counts of followees: no shift
        )


def _own(value: np.ndarray | None, name: str) -> np.ndarray:
    """A model's own state column (``threshold``, ``opinion``), which its ``initial`` sets."""
    if value is None:
        raise ValueError(f"ClassicState.{name} is None: start from this model's initial() state")
    return value


@dataclass(frozen=True)
class Transition:
    """What one step changed: agents (each at most once), old -> new status, and why.

    ``parent`` is the agent that caused an adoption, a copy (voter) or an
    interaction (Deffuant: the partner); -1 for spontaneous changes
    (forgetting, recovery, stifling).
    """

    agents: np.ndarray
    old: np.ndarray
    new: np.ndarray
    parent: np.ndarray
    old_opinion: np.ndarray | None = None
    new_opinion: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.agents)

    def became(self, code: int) -> np.ndarray:
        """Mask of the changes that entered status ``code`` (e.g. adoptions, new spreaders)."""
        return (self.new == code) & (self.old != code)


class WellMixed:
    """A complete follow graph on ``n`` agents without stored edges: everyone follows everyone."""

    def __init__(self, n: int) -> None:
        self.n = int(n)


Network = FollowGraph | WellMixed


class ClassicModel(Protocol):
    """A classic model the engine can drive one synchronous step at a time."""

    def initial(self, graph: Network, rng: np.random.Generator) -> ClassicState: ...

    def step(
        self, graph: Network, state: ClassicState, t: int, rng: np.random.Generator
    ) -> Transition:
        """Advance ``state`` in place by one step numbered ``t``; return what changed."""
        ...

    def settled(self, graph: Network, state: ClassicState) -> bool:
        """True when no further step can change the state (an absorbing state)."""
        ...


# -- contact structures: the few graph queries the models need --------------------------


@dataclass
class _MixedExposure:
    """Who in a well-mixed population follows some of ``sources``, and a uniform pick of them."""

    sources: np.ndarray  # sorted
    counts: np.ndarray  # per agent: how many of the sources it follows

    def pick(self, targets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _uniform_other(self.sources, targets, rng)


class _Contacts(Protocol):
    n: int

    def random_follower(self, agents: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...
    def follower_count(self, agents: np.ndarray) -> np.ndarray: ...
    def any_pair_within(self, values: np.ndarray, lo: float, hi: float) -> bool: ...


class _SparseContacts:
    """Queries on a :class:`FollowGraph` through its CSR views."""

    def __init__(self, graph: FollowGraph) -> None:
        self.n = graph.n
        self._graph = graph

    def random_follower(self, agents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _random_entry(self._graph.followers, agents, rng)

    def follower_count(self, agents: np.ndarray) -> np.ndarray:
        return _row_lengths(self._graph.followers)[agents]

    def any_pair_within(self, values: np.ndarray, lo: float, hi: float) -> bool:
        following = self._graph.following
        values = values.astype(np.float64, copy=False)
        return kernels.any_edge_gap_within(following.indptr, following.indices, values, lo, hi)


class _MixedContacts:
    """The same queries on a well-mixed population, in O(agents) without edges."""

    def __init__(self, graph: WellMixed) -> None:
        self.n = graph.n

    def exposure(self, sources: np.ndarray) -> _MixedExposure:
        counts = np.full(self.n, len(sources), np.int64)
        counts[sources] -= 1
        return _MixedExposure(np.sort(sources), counts)

    def random_follower(self, agents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.n < 2:
            return np.full(len(agents), -1, np.int64)
        other = rng.integers(0, self.n - 1, size=len(agents))
        return other + (other >= agents)

    def followee_count(self, agents: np.ndarray) -> np.ndarray:
        return np.full(len(agents), self.n - 1, np.int64)

    follower_count = followee_count

    def followee_hits(self, agents: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.count_nonzero(mask) - mask[agents].astype(np.int64)

    def any_pair_within(self, values: np.ndarray, lo: float, hi: float) -> bool:
        x = np.sort(values.astype(np.float64))
        furthest = np.searchsorted(x, x + hi, side="left") - 1  # largest j with x_j - x_i < hi
        return bool(len(x) and np.any(x[furthest] - x >= lo))


def _followee_rows(graph: Network) -> tuple[np.ndarray, np.ndarray]:
    """The kernels' view of who follows whom: the rows of ``following`` (none: well mixed)."""
    if isinstance(graph, WellMixed):
        return _NO_ROWS, _NO_ROWS
    return graph.following.indptr, graph.following.indices


def _contacts(graph: Network) -> _Contacts:
    return _MixedContacts(graph) if isinstance(graph, WellMixed) else _SparseContacts(graph)


# Arrays derived from one CSR view of a graph, built once per view. A FollowGraph
# builds new views when it changes, so a view's derived arrays never go stale; an
# entry goes when its view is garbage collected.
_DERIVED: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def _derived(csr: sp.csr_array, name: str, build: Callable[[sp.csr_array], Any]) -> Any:
    """``build(csr)``, computed on the first call for this CSR view and remembered."""
    key = id(csr)
    entry = _DERIVED.get(key)
    if entry is None or entry[0]() is not csr:
        entry = (weakref.ref(csr, lambda _: _DERIVED.pop(key, None)), {})
        _DERIVED[key] = entry
    memo = entry[1]
    if name not in memo:
        memo[name] = build(csr)
    return memo[name]


def _frozen(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    for array in arrays:
        array.flags.writeable = False  # shared by every step: read only
    return arrays


def _row_lengths(csr: sp.csr_array) -> np.ndarray:
    """Entries per row of ``csr`` (read only, built once per view)."""
    return _derived(csr, "lengths", lambda csr: _frozen(np.diff(csr.indptr))[0])


def _entries(csr: sp.csr_array, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All entries of the given CSR rows, row after row: (row, column) pairs.

    The columns keep the CSR's index type (int32 below 2**31 agents).
    """
    lens = _row_lengths(csr)[rows]
    ends = lens.cumsum()
    shift = csr.indptr[1:][rows]  # where each row ends in the CSR, minus where it ends here
    shift -= ends
    at = np.arange(ends[-1] if len(ends) else 0)
    at += np.repeat(shift, lens)
    return np.repeat(rows, lens), csr.indices[at]


def _random_entry(csr: sp.csr_array, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random column of each row (-1 for empty rows)."""
    start = csr.indptr[rows]
    lens = csr.indptr[rows + 1] - start
    # floor(u * c) < c for every double u < 1 and integer c < 2**53
    pick = start + (rng.random(len(rows)) * lens).astype(np.int64)
    if lens.all():
        return csr.indices[pick].astype(np.int64)
    out = np.full(len(rows), -1, np.int64)
    has = lens > 0
    out[has] = csr.indices[pick[has]]
    return out


def _uniform_other(pool: np.ndarray, agents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each agent, a uniform member of the sorted ``pool`` other than itself."""
    pos = np.searchsorted(pool, agents)
    inside = (pos < len(pool)) & (pool[np.minimum(pos, len(pool) - 1)] == agents)
    j = rng.integers(0, len(pool) - inside)
    return pool[j + (inside & (j >= pos))]


# -- shared steps -------------------------------------------------------------------


def _seed_agents(seeds: Seeds, n: int, rng: np.random.Generator) -> np.ndarray:
    """``seeds`` random agents, or the given agent ids."""
    if isinstance(seeds, int | np.integer):
        if not 0 <= seeds <= n:
            raise UserError(f"behavior.seeds = {seeds} must lie between 0 and the {n} agents")
        return np.sort(rng.choice(n, size=int(seeds), replace=False)).astype(np.int64)
    agents = np.unique(np.asarray(seeds, dtype=np.int64))
    if len(agents) and (agents[0] < 0 or agents[-1] >= n):
        raise UserError(f"seed agents must be ids in [0, {n}), got {agents[0]}..{agents[-1]}")
    return agents


def _per_agent(values: np.ndarray, n: int, dtype: type) -> np.ndarray:
    """A copy of given initial opinions, checked to hold one value per agent."""
    values = np.array(values, dtype=dtype)
    if values.shape != (n,):
        raise ValueError(f"opinions must hold one value per agent ({n}), got shape {values.shape}")
    return values


def _actors(activity: float | np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Agents acting this step: each with probability ``activity`` (all when it is 1)."""
    if isinstance(activity, int | float | np.number) and activity >= 1:
        return np.arange(n)
    return np.flatnonzero(rng.random(n) < activity)


def _first_position(agents: np.ndarray, positions: np.ndarray, n: int) -> np.ndarray:
    """Per agent, the smallest position at which it appears (int64 max if never)."""
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, agents, positions)
    return first


def _transmit(
    graph: Network,
    sources: np.ndarray,
    status: np.ndarray,
    susceptible: int,
    p: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Each source tells each follower whose status is ``susceptible`` with prob p.

    Returns (told, parent), told in no set order. An agent with k source followees is
    told with prob 1 - (1-p)^k. Its parent is uniform among those k: given
    the set of successful attempts, one picked uniformly from it is equally
    likely to be any of the k sources.
    """
    if not isinstance(graph, WellMixed):
        followers = graph.followers
        if len(sources) * len(followers.indices) < COMPILED_ATTEMPTS * graph.n:
            rows = (followers.indptr, followers.indices)
            return kernels.transmit(*rows, sources, status, susceptible, p, kernels.stream(rng))
        return _transmit_along_edges(followers, sources, status, susceptible, p, rng)
    exposure = _MixedContacts(graph).exposure(sources)
    candidates = np.flatnonzero((exposure.counts > 0) & (status == susceptible))
    chance = 1.0 - np.power(1.0 - p, exposure.counts[candidates])
    told = candidates[rng.random(len(candidates)) < chance]
    return told, exposure.pick(told, rng)


def _transmit_along_edges(
    followers: sp.csr_array,
    sources: np.ndarray,
    status: np.ndarray,
    susceptible: int,
    p: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_transmit` in time proportional to the sources and the successful attempts.

    The attempts are the sources' follower lists laid end to end; the
    successful ones (each independently with prob p) are drawn directly as
    Bernoulli positions in that list, so failed attempts cost next to nothing.
    """
    if not len(sources) or p <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    lens = _row_lengths(followers)[sources]
    ends = lens.cumsum()  # end of each source's attempts
    pos = _bernoulli_positions(int(ends[-1]), p, rng)
    owner = ends.searchsorted(pos, "right")  # index into sources
    shift = followers.indptr[1:][sources]  # where each source's attempts end in the CSR,
    shift -= ends  # minus where they end in the list
    at = shift[owner]
    at += pos
    dst = followers.indices[at]
    open_ = (status[dst] == susceptible).nonzero()[0]  # indices: cheaper than a mask, twice
    dst, owner = dst[open_], owner[open_]
    if len(dst) > 1:  # sorted, and one successful source per target, uniformly at random
        dst, owner, bounds = _runs(dst, owner)
        if len(bounds) <= len(dst):  # some target has several successes
            starts = bounds[:-1]
            pick = _pick_in_runs(starts, bounds[1:] - starts, rng)
            dst, owner = dst[pick], owner[pick]
    return dst.astype(np.int64, copy=False), sources[owner]


def _runs(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``keys`` sorted with ``values`` alongside, and the bounds of the runs of equal keys.

    The bounds are each run's start, then the end (one more than the runs).
    Values must lie in [0, 2**32). Over 400 int32 keys are sorted with their
    values packed into one int64 each (faster than an argsort) and come back
    as int64. The order within a run is arbitrary.
    """
    k = len(keys)
    if k > 400 and keys.dtype == np.int32:
        packed = keys.astype(np.int64)
        packed <<= 32
        packed |= values
        packed.sort()
        keys = packed >> 32
        values = packed & 0xFFFFFFFF
    else:
        order = keys.argsort()
        keys, values = keys[order], values[order]
    bound = np.empty(k + 1, bool)
    bound[0] = bound[k] = True
    np.not_equal(keys[1:], keys[:-1], out=bound[1:k])
    return keys, values, bound.nonzero()[0]


def _pick_in_runs(starts: np.ndarray, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random position in each run ``starts[i] .. starts[i] + sizes[i] - 1``."""
    # floor(u * c) < c for every double u < 1 and integer c < 2**53
    pick = (rng.random(len(starts)) * sizes).astype(np.int64)
    pick += starts
    return pick


def _bernoulli_positions(trials: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of the successes among ``trials`` independent Bernoulli(p) trials.

    Many trials at a small p are drawn as geometric gaps between successes
    (the floor of an exponential over -log(1-p), plus one), in time
    proportional to the successes; few trials, or a large p, one by one.
    """
    if p >= 1:
        return np.arange(trials, dtype=np.int64)
    if trials * (0.35 - p) < 350:  # where drawing every trial is the cheaper (measured)
        return (rng.random(trials) < p).nonzero()[0]
    scale = -1.0 / math.log1p(-p)
    mean = trials * p
    size = int(mean + 6 * math.sqrt(mean) + 16)  # rarely too few: then draw more
    # an exponential drawn from a double is below 746, so the gaps' sum fits in an int64
    # unless scale * size is huge; then gaps are cut at the trials (longer ones end them)
    cut = scale * size > 2.0**50
    parts, last = [], -1  # last: position of the latest success
    while last < trials:
        gaps = rng.standard_exponential(size)
        gaps *= scale
        if cut:
            np.minimum(gaps, trials, out=gaps)
        gaps += 1.0
        gaps[0] += last
        # the cast truncates each gap x + 1 to floor(x) + 1 (up to the rounding already in x)
        at = np.add.accumulate(gaps, dtype=np.int64)  # positions of the successes
        parts.append(at)
        last = int(at[-1])
    at = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return at[: at.searchsorted(trials)]


def _commit(
    state: ClassicState,
    t: int,
    agents: np.ndarray,
    new: np.ndarray | int,
    parent: np.ndarray | int,
    opinion: np.ndarray | None = None,
    caused: int | None = None,
) -> Transition:
    """Write one step's changes into ``state`` and describe them.

    ``new`` and ``parent`` hold one value per agent, or one for all (arrays
    are kept by the :class:`Transition`, not copied). Only the first
    ``caused`` agents (all by default) have a parent to record; the rest
    must have parent -1 (spontaneous changes keep their previous parent).
    """
    agents = np.asarray(agents, np.int64)
    old = state.status[agents]
    state.status[agents] = new
    state.step_changed[agents] = t
    if not isinstance(new, np.ndarray):
        code = new
        new = np.empty(len(agents), np.int8)
        new.fill(code)  # (empty and fill: half the time of np.full)
    elif new.dtype != np.int8:
        new = new.astype(np.int8)
    if isinstance(parent, np.ndarray):
        parent = np.asarray(parent, np.int64)
        if caused is None:
            state.parent[agents] = parent
        elif caused:
            state.parent[agents[:caused]] = parent[:caused]
    else:
        if parent >= 0:
            state.parent[agents] = parent
        parent = np.full(len(agents), parent, np.int64)
    old_opinion = None
    if opinion is not None and state.opinion is not None:
        old_opinion = state.opinion[agents]
        state.opinion[agents] = opinion
    return Transition(agents, old, new, parent, old_opinion, opinion)


def _active_followees(graph: FollowGraph, status: np.ndarray, frontier: np.ndarray) -> np.ndarray:
    """Per agent, how many of its followees are active and not in ``frontier`` (int32).

    O(agents + the edges of those active agents): nothing more at the first step.
    """
    active = status == _ACTIVE
    active[frontier] = False
    _, reached = _entries(graph.followers, np.flatnonzero(active))
    return np.bincount(reached, minlength=graph.n).astype(np.int32)


def _seeded_state(n: int, seeds: Seeds, rng: np.random.Generator) -> ClassicState:
    state = ClassicState.blank(n)
    chosen = _seed_agents(seeds, n, rng)
    state.status[chosen] = _ACTIVE
    state.step_changed[chosen] = 0
    state.frontier = chosen
    return state


# -- the models ---------------------------------------------------------------------


@dataclass(frozen=True)
class IndependentCascadeModel:
    """Independent cascade (Kempe, Kleinberg & Tardos 2003).

    Each agent activated in the latest step gets exactly one chance to
    activate each inactive follower, with probability ``p``. An agent with k
    newly active followees activates with probability ``1 - (1-p)^k``; its
    parent is uniform among those k. ``seeds`` is a count of random seeds or
    a list of agent ids.
    """

    p: float = 0.1
    seeds: Seeds = 10

    def initial(self, graph: Network, rng: np.random.Generator) -> ClassicState:
        return _seeded_state(graph.n, self.seeds, rng)

    def step(
        self, graph: Network, state: ClassicState, t: int, rng: np.random.Generator
    ) -> Transition:
        new, parent = _transmit(graph, state.frontier, state.status, _INACTIVE, self.p, rng)
        state.frontier = new
        return _commit(state, t, new, _ACTIVE, parent)

    def settled(self, graph: Network, state: ClassicState) -> bool:
        return len(state.frontier) == 0

    def _whole_run(
        self, graph: Network, state: ClassicState, steps: int, rng: np.random.Generator
    ) -> int | None:
        if isinstance(graph, WellMixed):
            return None
        rows = graph.followers
        taken, state.frontier = whole_runs.cascade_run(
            rows.indptr, rows.indices, state.status, state.parent, state.step_changed,
            state.frontier, self.p, steps, kernels.stream(rng),
        )  # fmt: skip
        return taken


@dataclass(frozen=True)
class LinearThresholdModel:
    """Linear threshold (Granovetter 1978; Kempe, Kleinberg & Tardos 2003).

    Thresholds are uniform in ``[threshold_low, threshold_high]``. An inactive
    agent activates when the share of the accounts it follows that are active
    reaches its threshold and at least one of them is active, so threshold 0
    means "any one followee" and agents no seed can reach stay inactive. Its
    parent is uniform among the followees activated in the latest step (one
    of them tipped it). Only followers of newly activated agents are checked
    each step, and each agent's count of active followees is kept up to date
    in :attr:`ClassicState.pressure` rather than recounted, which is exact
    while the graph does not change.
    """

    threshold_low: float = 0.0
    threshold_high: float = 1.0
    seeds: Seeds = 10

    def __post_init__(self) -> None:
        if self.threshold_low > self.threshold_high:
            raise UserError(
                f"behavior.threshold_low = {self.threshold_low} is above "
                f"threshold_high = {self.threshold_high}"
            )

    def initial(self, graph: Network, rng: np.random.Generator) -> ClassicState:
        width = self.threshold_high - self.threshold_low
        threshold = self.threshold_low + width * rng.random(graph.n)
        state = _seeded_state(graph.n, self.seeds, rng)
        state.threshold = threshold
        return state

    def step(
        self, graph: Network, state: ClassicState, t: int, rng: np.random.Generator
    ) -> Transition:
        if isinstance(graph, WellMixed):
            return self._well_mixed_step(graph, state, t, rng)
        if state.pressure is None:
            state.pressure = _active_followees(graph, state.status, state.frontier)
        # the frontier's followers, in runs by follower (each run: its newly active followees)
        src, dst = _entries(graph.followers, state.frontier)
        dst, src, bounds = _runs(dst, src)
        starts = bounds[:-1]
        fresh = bounds[1:] - starts
        targets = dst[starts]
        hits = state.pressure[targets] + fresh  # active followees of each target
        state.pressure[targets] = hits
        threshold = _own(state.threshold, "threshold")
        tipped = hits / _row_lengths(graph.following)[targets] >= threshold[targets]
        tipped &= state.status[targets] == _INACTIVE
        at = tipped.nonzero()[0]
        new = targets[at].astype(np.int64, copy=False)
        parent = src[_pick_in_runs(starts[at], fresh[at], rng)]
        state.frontier = new  # its share of the pressure is added by the next step
        return _commit(state, t, new, _ACTIVE, parent)

    def _well_mixed_step(
        self, graph: WellMixed, state: ClassicState, t: int, rng: np.random.Generator
    ) -> Transition:
        """The step on a well-mixed population: counts in O(agents), no pressure kept."""
        contacts = _MixedContacts(graph)
        exposure = contacts.exposure(state.frontier)
        inactive = state.status == _INACTIVE
        candidates = np.flatnonzero((exposure.counts > 0) & inactive)
        hits = contacts.followee_hits(candidates, state.status == _ACTIVE)
        share = hits / contacts.followee_count(candidates)
        new = candidates[share >= _own(state.threshold, "threshold")[candidates]]
        state.frontier = new
        return _commit(state, t, new, _ACTIVE, exposure.pick(new, rng))

    def settled(self, graph: Network, state: ClassicState) -> bool:
        return len(state.frontier) == 0

    def _whole_run(
        self, graph: Network, state: ClassicState, steps: int, rng: np.random.Generator
    ) -> int | None:
        if isinstance(graph, WellMixed):
            return None
        followers = graph.followers
        pressure = _NO_PRESSURE if state.pressure is None else state.pressure
        taken, state.frontier, state.pressure = whole_runs.threshold_run(
            followers.indptr, followers.indices, graph.following.indptr, state.status,
            state.parent, state.step_changed, state.frontier, _own(state.threshold, "threshold"),
            pressure, steps, kernels.stream(rng),
        )  # fmt: skip
        return taken


@dataclass(frozen=True)
class MakiThompsonModel:
    """Maki–Thompson rumour (Maki & Thompson 1973): ignorants, spreaders, stiflers.

    Each step every spreader contacts one uniformly random follower. An
    ignorant contact is told with prob ``beta`` and becomes a spreader; if the
    contact already knows the rumour, the calling spreader becomes a stifler
    with prob ``stifle``. Afterwards each spreader not stifled forgets (becomes
    a stifler) with prob ``gamma``.

    Synchronous convention: the step's contacts are resolved as if made one at
    a time in a uniformly random order. When several spreaders tell the same
    ignorant, the first informs it (and is its parent); the later callers find
    someone who knows and may be stifled. Agents told during a step spread
    from the next step. Since each contact's outcome depends only on the
    current statuses, not on who calls, this keeps the continuous-time final
    size: on a large well-mixed population (beta = stifle = 1, gamma = 0) a
    share x = exp(-2 (1 - x)) ≈ 0.203 never hears the rumour. Steps are
    rounds in which every spreader calls once.
    """

    beta: float = 1.0
    gamma: float = 0.0
    stifle: float = 1.0
    seeds: Seeds = 10

    def initial(self, graph: Network, rng: np.random.Generator) -> ClassicState:
        return _seeded_state(graph.n, self.seeds, rng)

    def step(
        self, graph: Network, state: ClassicState, t: int, rng: np.random.Generator
    ) -> Transition:
        callers = rng.permutation(np.flatnonzero(state.status == _SPREADER))
        callee = _contacts(graph).random_follower(callers, rng)
        m = len(callers)
        reached = callee >= 0
        ignorant = reached & (state.status[np.maximum(callee, 0)] == _IGNORANT)
        told = np.flatnonzero(ignorant & (rng.random(m) < self.beta))
        told_at = _first_position(callee[told], told, graph.n)  # per agent
        informer = told[told_at[callee[told]] == told]
        informed = callee[informer]
        late = reached & (told_at[np.maximum(callee, 0)] < np.arange(m))  # told by an earlier call
        knows = (reached & ~ignorant) | late
        stops = knows & (rng.random(m) < self.stifle)
        stops |= rng.random(m) < self.gamma
        stopped = callers[stops]
        agents = np.concatenate([informed, stopped])
        new = np.full(len(agents), _STIFLER, np.int8)
        new[: len(informed)] = _SPREADER
        parent = np.full(len(agents), -1, np.int64)
        parent[: len(informed)] = callers[informer]
        state.frontier = informed
        return _commit(state, t, agents, new, parent, caused=len(informed))

    def settled(self, graph: Network, state: ClassicState) -> bool:
        spreaders = np.flatnonzero(state.status == _SPREADER)
        if not len(spreaders) or self.gamma > 0:
            return not len(spreaders)
        return not np.any(_contacts(graph).follower_count(spreaders))


@dataclass(frozen=True)
class SIREpidemicModel:
    """SIR epidemic-style rumour (Reed–Frost chain binomial on a complete graph).

    Each step (1) every spreader tells each ignorant follower independently
    with prob ``beta`` (an ignorant with k spreading followees is told with
    prob ``1 - (1-beta)^k``, parent uniform among the k), then (2) each
    spreader of the start of the step stops (recovers) with prob ``gamma``.
    A spreader thus spreads for T ~ Geometric(gamma) >= 1 steps and tells a
    given follower with prob ``beta / (beta + gamma - beta gamma)``, so on a
    complete graph of N agents R0 = (N-1) beta / (beta + gamma - beta gamma).
    The large-N final share z (seeds included, z0 seeded) solves
    ``1 - z = (1 - z0) exp(-R z)`` with R = -N ln(1 - beta) / gamma; for
    beta = beta0 / N both R and R0 tend to beta0 / gamma.
    With gamma = 1 this is the independent cascade.
    """

    beta: float = 0.2
    gamma: float = 0.1
    seeds: Seeds = 10

    def initial(self, graph: Network, rng: np.random.Generator) -> ClassicState:
        return _seeded_state(graph.n, self.seeds, rng)

    def step(
        self, graph: Network, state: ClassicState, t: int, rng: np.random.Generator
    ) -> Transition:
        spreaders = state.spreading
        if spreaders is None:
            spreaders = np.flatnonzero(state.status == _SPREADER)
        told, told_by = _transmit(graph, spreaders, state.status, _IGNORANT, self.beta, rng)
        agents, old, new, parent, state.spreading = kernels.sir_update(
            state.status, state.parent, state.step_changed, t,
            spreaders, told, told_by, self.gamma, kernels.stream(rng),
        )  # fmt: skip
        state.frontier = told
        return Transition(agents, old, new, parent)

    def settled(self, graph: Network, state: ClassicState) -> bool:
        if state.spreading is not None:
            return not len(state.spreading)
        return not (state.status == _SPREADER).any()

    def _whole_run(
        self, graph: Network, state: ClassicState, steps: int, rng: np.random.Generator
    ) -> int | None:
        if isinstance(graph, WellMixed) or graph.followers.nnz + graph.n > WHOLE_SIR_EVENTS:
            return None  # (its events take 32 bytes per follow and per agent)
        spreaders = state.spreading
        if spreaders is None:
            spreaders = np.flatnonzero(state.status == _SPREADER)
        rows = graph.followers
        taken, spreading, told = whole_runs.sir_run(
            rows.indptr, rows.indices, state.status, state.parent, state.step_changed,
            spreaders, self.beta, self.gamma, steps, kernels.stream(rng),
        )  # fmt: skip
        if taken:
            state.spreading, state.frontier = spreading, told
        return taken


@dataclass(frozen=True)
class VoterModel:
    """Voter model (Clifford & Sudbury 1973; Holley & Liggett 1975).

    Binary opinions in ``status``; ``initial_share`` of the agents (rounded)
    start at 1, or ``opinions`` gives them. Each step every acting agent
    (each with prob ``activity``; all by default) copies the opinion of a
    uniformly random followee, all reading the start-of-step opinions; agents
    who follow nobody keep theirs. On a regular mutual-follow graph the share
    of 1s is a martingale. With activity 1 the update is fully synchronous and
    can oscillate forever on a bipartite graph; activity < 1 removes that.
    """

    initial_share: float = 0.5
    activity: float | np.ndarray = 1.0
    opinions: np.ndarray | None = None

    def initial(self, graph: Network, rng: np.random.Generator) -> ClassicState:
        state = ClassicState.blank(graph.n)
        if self.opinions is not None:
            state.status[:] = _per_agent(self.opinions, graph.n, np.int8)
        else:
            ones = rng.choice(graph.n, size=round(self.initial_share * graph.n), replace=False)
            state.status[ones] = 1
        return state

    def step(
        self, graph: Network, state: ClassicState, t: int, rng: np.random.Generator
    ) -> Transition:
        agents, old, new, source = kernels.voter_step(
            *_followee_rows(graph), _actors(self.activity, graph.n, rng), state.status,
            state.parent, state.step_changed, t, kernels.stream(rng),
        )  # fmt: skip
        return Transition(agents, old, new, source)

    def settled(self, graph: Network, state: ClassicState) -> bool:
        # no follow pair disagrees: no two statuses at least 1 apart
        return not _contacts(graph).any_pair_within(state.status, 0.5, math.inf)

    def _whole_run(
        self, graph: Network, state: ClassicState, steps: int, rng: np.random.Generator
    ) -> int | None:
        if isinstance(graph, WellMixed) or not isinstance(self.activity, int | float | np.number):
            return None
        rows = graph.following
        return whole_runs.voter_run(
            rows.indptr, rows.indices, state.status, state.parent, state.step_changed,
            float(self.activity), steps, kernels.stream(rng),
        )  # fmt: skip


@dataclass(frozen=True)
class DeffuantModel:
    """Deffuant bounded confidence (Deffuant, Neau, Amblard & Weisbuch 2000).

    Opinions are continuous in [-1, 1] (uniform at start unless ``opinions``
    is given). Each step every acting agent proposes an interaction with a
    uniformly random followee. The proposals are shuffled and a proposal is
    kept when it holds the first appearance of both its agents, so the kept
    pairs form a random matching (each agent in at most one pair per step;
    with everyone acting, about 57% of the agents are paired per step). In a
    kept pair, if ``|x_i - x_j| < epsilon`` both move ``mu`` of the way toward
    each other, which conserves the opinion sum exactly (up to rounding).
    The model is settled when no follow pair lies within ``epsilon`` yet more
    than ``tolerance`` apart.
    """

    epsilon: float = 0.3
    mu: float = 0.3
    activity: float | np.ndarray = 1.0
    opinions: np.ndarray | None = None
    tolerance: float = 1e-6

    def initial(self, graph: Network, rng: np.random.Generator) -> ClassicState:
        state = ClassicState.blank(graph.n)
        if self.opinions is not None:
            state.opinion = _per_agent(self.opinions, graph.n, np.float64)
        else:
            state.opinion = rng.uniform(-1.0, 1.0, graph.n)
        return state

    def step(
        self, graph: Network, state: ClassicState, t: int, rng: np.random.Generator
    ) -> Transition:
        before = _own(state.opinion, "opinion")
        agents, parent, old, opinion = kernels.deffuant_step(
            *_followee_rows(graph), _actors(self.activity, graph.n, rng), before,
            state.parent, state.step_changed, t, self.epsilon, self.mu, kernels.stream(rng),
        )  # fmt: skip
        status = state.status[agents]  # unchanged
        return Transition(agents, status, status.copy(), parent, old, opinion)

    def settled(self, graph: Network, state: ClassicState) -> bool:
        if self.mu == 0 or self.tolerance >= self.epsilon:
            return True
        opinion = _own(state.opinion, "opinion")
        return not _contacts(graph).any_pair_within(opinion, self.tolerance, self.epsilon)


# -- running --------------------------------------------------------------------


def run(model: ClassicModel, graph: Network, steps: int, rng: np.random.Generator) -> ClassicState:
    """Run from the initial state for up to ``steps`` steps, stopping once settled."""
    state = model.initial(graph, rng)
    advance(model, graph, state, steps, rng)
    return state


def run_replicates(
    model: ClassicModel, graph: FollowGraph, copies: int, steps: int, rng: np.random.Generator
) -> ClassicState:
    """Run ``copies`` independent replicates at once on disjoint copies of the graph.

    Agent i of replicate c is ``c * graph.n + i`` in the returned state, so
    ``state.status.reshape(copies, graph.n)`` has one row per replicate.
    """
    states = [model.initial(graph, rng) for _ in range(copies)]
    union = disjoint_copies(graph, copies)
    state = ClassicState.stack(states, graph.n)
    advance(model, union, state, steps, rng)
    return state


def disjoint_copies(graph: FollowGraph, copies: int) -> FollowGraph:
    """The disjoint union of ``copies`` copies of ``graph`` (copy c shifted by ``c * n``)."""
    n, total = graph.n, graph.n * copies
    src, dst = graph.edges()
    shift = (np.arange(copies, dtype=np.int64) * n)[:, None]
    keys = (src[None, :] + shift) * total + (dst[None, :] + shift)
    return FollowGraph(total, keys.ravel())  # already sorted: copies in order


def advance(
    model: ClassicModel,
    graph: Network,
    state: ClassicState,
    steps: int,
    rng: np.random.Generator,
) -> int:
    """Advance ``state`` in place by up to ``steps`` steps (numbered from 1), stopping
    before a step once settled; returns the steps taken.

    IC, LT, SIR and the voter model (one ``activity`` for all) on a follow graph
    run all their steps in one compiled call (:mod:`townsquare.environments.contagion.whole_runs`):
    no per-step :class:`Transition` is built, which on small graphs costs more
    than the steps. The other cases step one at a time.
    """
    if WHOLE_RUNS and isinstance(model, _WHOLE_RUN_MODELS):
        taken = model._whole_run(graph, state, steps, rng)
        if taken is not None:
            return taken
    taken = 0
    while taken < steps and not model.settled(graph, state):
        taken += 1
        model.step(graph, state, taken, rng)
    return taken


_WHOLE_RUN_MODELS = (IndependentCascadeModel, LinearThresholdModel, SIREpidemicModel, VoterModel)


# -- from the scenario --------------------------------------------------------------


def from_config(config: Any) -> ClassicModel:
    """The classic model for a scenario ``behavior`` section (a registered classic model)."""
    name = str(getattr(config, "model", ""))
    if name not in CLASSIC_MODELS:
        raise TypeError(f"{type(config).__name__} does not configure a classic model")
    return CLASSIC_MODELS[name].build(config)
