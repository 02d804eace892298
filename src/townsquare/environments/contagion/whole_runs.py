"""Whole runs of the classic models in one compiled call each (numba).

``classic.run`` and ``classic.run_replicates`` need only the final state, not
each step's :class:`~townsquare.environments.contagion.models.Transition`. On graphs of a
few thousand agents a step does a few microseconds of work, so a Python loop
over steps (a ``settled`` check, a step, a ``Transition`` per step) costs more
than the steps themselves. These loops run every step of a run in one call,
with the same rules, state writes (status, parent, step changed) and stopping
rule (stop before a step once settled) as the models' ``step``; only the
random draws differ (one xoshiro256** stream per run, from
:func:`~townsquare.environments.contagion.kernels.stream`), so a run has the same
distribution, not the same draws, as a step-by-step run from the same seed.

Within a step, agents told (IC, SIR) or checked (LT) in that step are marked
in place with the temporary status :data:`_TOLD`, and the successes per agent
are counted for the uniform choice of parent (reservoir sampling: the c-th
success replaces the parent with prob 1/c), so a step costs O(its sources'
edges) and no allocation; the per-run buffers are allocated once. The SIR run
is event-driven (each follower's first successful step and each spreader's
stop are drawn once: :func:`sir_run`), and a voter step costs O(its actors).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from townsquare.environments.contagion.kernels import below, nonzero, uniform

__all__ = ["cascade_run", "sir_run", "threshold_run", "voter_run"]

_INACTIVE, _ACTIVE, _STIFLER = 0, 1, 2  # Status.INACTIVE/IGNORANT, ACTIVE/SPREADER, STIFLER
_TOLD = 3  # told (or tipped) during the current step; no model stores this code


@njit(cache=True)
def _tell_all(
    indptr: np.ndarray,
    indices: np.ndarray,
    sources: np.ndarray,
    m: int,
    p: float,
    status: np.ndarray,
    parent: np.ndarray,
    hits: np.ndarray,
    told: np.ndarray,
    s: np.ndarray,
) -> int:
    """Each of ``sources[:m]`` tells each inactive entry of its row with prob ``p``.

    The told are marked ``_TOLD`` and listed in ``told`` (returns how many),
    each with a parent uniform among its successful sources.
    """
    k = 0
    for i in range(m):
        src = sources[i]
        for at in range(indptr[src], indptr[src + 1]):
            u = indices[at]
            st = status[u]
            if st == _INACTIVE:
                if uniform(s) < p:
                    status[u] = _TOLD
                    parent[u] = src
                    hits[u] = 1
                    told[k] = u
                    k += 1
            elif st == _TOLD and uniform(s) < p:
                hits[u] += 1
                if below(s, hits[u]) == 0:
                    parent[u] = src
    return k


@njit(cache=True)
def cascade_run(
    indptr: np.ndarray,
    indices: np.ndarray,
    status: np.ndarray,
    parent: np.ndarray,
    step_changed: np.ndarray,
    frontier: np.ndarray,
    p: float,
    steps: int,
    s: np.ndarray,
) -> tuple[int, np.ndarray]:
    """Independent cascade from ``frontier`` along the rows of ``indptr``/``indices``
    (the followers), steps 1, 2, ... up to ``steps``, until a step activates nobody.

    Returns (steps taken, the last step's activated agents: the frontier).
    """
    nonzero(s)
    n = len(status)
    current = np.empty(n, np.int64)
    told = np.empty(n, np.int64)
    hits = np.zeros(n, np.int32)
    m = len(frontier)
    current[:m] = frontier
    taken = 0
    while taken < steps and m > 0:
        taken += 1
        k = _tell_all(indptr, indices, current, m, p, status, parent, hits, told, s)
        for j in range(k):
            u = told[j]
            status[u] = _ACTIVE
            step_changed[u] = taken
            current[j] = u
        m = k
    return taken, current[:m].copy()


@njit(inline="always")
def _geometric(s: np.ndarray, scale: float) -> int:
    """Trials up to and including the first success, for success prob p (``scale`` is
    ``-1 / log(1 - p)``; 0 when p >= 1): 1 + floor(log(v) / log(1 - p)), v uniform (0, 1]."""
    return 1 + int(min(-math.log(1.0 - uniform(s)) * scale, 4e18))


_RING = 4096  # steps in the event calendar; events further ahead wait a lap (never lost)


@njit(inline="always")
def _push(events: np.ndarray, head: np.ndarray, count: int, step: int, agent: int,
          source: int) -> int:  # fmt: skip
    """Add event (step, agent, source) to its step's list in the calendar; the new count."""
    b = step & (_RING - 1)
    events[count, 0], events[count, 1], events[count, 2] = step, agent, source
    events[count, 3] = head[b]
    head[b] = count
    return count + 1


@njit(inline="always")
def _schedule(
    u: int, t: int, indptr: np.ndarray, indices: np.ndarray, status: np.ndarray,
    beta: float, gamma: float, steps: int, s: np.ndarray,
    events: np.ndarray, head: np.ndarray, count: int,
) -> int:  # fmt: skip
    """Draw when spreader ``u`` (told at step ``t``) stops, and when it first tells each
    ignorant follower before that; keep the events up to step ``steps``; the new count."""
    stop = steps + 1
    if gamma > 0:
        stop = _geometric(s, -1.0 / math.log1p(-gamma) if gamma < 1 else 0.0)
        if t + stop <= steps:
            count = _push(events, head, count, t + stop, ~u, -1)
    if beta <= 0:
        return count
    scale = -1.0 / math.log1p(-beta) if beta < 1 else 0.0
    for at in range(indptr[u], indptr[u + 1]):
        w = indices[at]
        if status[w] == _INACTIVE:
            gap = _geometric(s, scale)
            if gap <= stop and t + gap <= steps:
                count = _push(events, head, count, t + gap, w, u)
    return count


@njit(cache=True)
def sir_run(
    indptr: np.ndarray,
    indices: np.ndarray,
    status: np.ndarray,
    parent: np.ndarray,
    step_changed: np.ndarray,
    spreading: np.ndarray,
    beta: float,
    gamma: float,
    steps: int,
    s: np.ndarray,
) -> tuple[int, np.ndarray, np.ndarray]:
    """SIR epidemic from the ``spreading`` agents, steps 1, 2, ... up to ``steps``, until
    nobody spreads (the rule on ``SIREpidemicModel``), event by event.

    A spreader told at step t spreads in steps t+1 .. t+T and stops at the end of
    step t+T, T ~ Geometric(gamma); it tells a follower first at step t+G,
    G ~ Geometric(beta), if G <= T. Drawing T and each G once, when the agent is
    told, is the per-step chain binomial: each step's Bernoulli draws are
    independent, and only an edge's first success matters (both geometric laws
    are memoryless, so spreaders at the start count from step 0). A follower is
    told at the earliest of its pending steps, by a source uniform among those
    whose first success falls on that step. So the work is one draw per ignorant
    follower of each told agent, not per spreader per step. Each follower entry
    and each agent make at most one event, so the events fit in
    ``len(indices) + len(status)`` rows.

    Returns (steps taken, the spreaders after the last step, the agents it told).
    """
    nonzero(s)
    n = len(status)
    events = np.empty((len(indices) + n, 4), np.int64)  # step, agent (~agent: stop), source, next
    head = np.full(_RING, -1, np.int64)
    count = 0
    for u in spreading:
        count = _schedule(u, 0, indptr, indices, status, beta, gamma, steps, s, events, head, count)
    hits = np.zeros(n, np.int32)
    told = np.empty(n, np.int64)
    ever = np.empty(n, np.int64)  # every spreader of the run
    ever[: len(spreading)] = spreading
    spread = alive = len(spreading)
    k = 0
    taken = 0
    while taken < steps and alive > 0:
        taken += 1
        k = 0
        b = taken & (_RING - 1)
        e, before = head[b], -1
        while e >= 0:  # the step's events, in any order: a stopping spreader still spreads
            after = events[e, 3]
            if events[e, 0] != taken:  # a later lap's
                before = e
                e = after
                continue
            w = events[e, 1]
            if w < 0:
                status[~w] = _STIFLER
                step_changed[~w] = taken
                alive -= 1
            elif status[w] == _INACTIVE:
                status[w] = _TOLD
                parent[w] = events[e, 2]
                hits[w] = 1
                told[k] = w
                k += 1
            elif status[w] == _TOLD:
                hits[w] += 1
                if below(s, hits[w]) == 0:
                    parent[w] = events[e, 2]
            if before < 0:  # done with it: out of the list
                head[b] = after
            else:
                events[before, 3] = after
            e = after
        for j in range(k):
            status[told[j]] = _ACTIVE
            step_changed[told[j]] = taken
        for j in range(k):  # they spread from the next step
            u = told[j]
            ever[spread] = u
            spread += 1
            alive += 1
            count = _schedule(
                u, taken, indptr, indices, status, beta, gamma, steps, s, events, head, count
            )
    going = np.empty(alive, np.int64)
    kept = 0
    for r in range(spread):
        if status[ever[r]] == _ACTIVE:
            going[kept] = ever[r]
            kept += 1
    return taken, going[:kept], told[:k].copy()


@njit(cache=True)
def _pressure(
    indptr: np.ndarray, indices: np.ndarray, status: np.ndarray, frontier: np.ndarray
) -> np.ndarray:
    """Per agent, its active followees outside ``frontier``, from the followers' rows."""
    n = len(status)
    pressure = np.zeros(n, np.int32)
    counted = status == _ACTIVE
    counted[frontier] = False
    for a in np.flatnonzero(counted):
        for at in range(indptr[a], indptr[a + 1]):
            pressure[indices[at]] += 1
    return pressure


@njit(cache=True)
def threshold_run(
    followers_indptr: np.ndarray,
    followers_indices: np.ndarray,
    following_indptr: np.ndarray,
    status: np.ndarray,
    parent: np.ndarray,
    step_changed: np.ndarray,
    frontier: np.ndarray,
    threshold: np.ndarray,
    pressure: np.ndarray,
    steps: int,
    s: np.ndarray,
) -> tuple[int, np.ndarray, np.ndarray]:
    """Linear threshold from ``frontier``, steps 1, 2, ... up to ``steps``, until a step
    activates nobody (the rule on ``LinearThresholdModel``).

    ``pressure`` is, per agent, its active followees outside the frontier (an
    empty array: count it here). Returns (steps taken, the frontier, the pressure).
    """
    nonzero(s)
    n = len(status)
    if len(pressure) != n:
        pressure = _pressure(followers_indptr, followers_indices, status, frontier)
    current = np.empty(n, np.int64)
    touched = np.empty(n, np.int64)
    hits = np.zeros(n, np.int32)  # per inactive follower: its followees in the frontier
    tipper = np.empty(n, np.int64)  # and one of them, uniformly at random
    m = len(frontier)
    current[:m] = frontier
    taken = 0
    while taken < steps and m > 0:
        taken += 1
        k = 0
        for i in range(m):
            src = current[i]
            for at in range(followers_indptr[src], followers_indptr[src + 1]):
                u = followers_indices[at]
                pressure[u] += 1
                st = status[u]
                if st == _INACTIVE:
                    status[u] = _TOLD
                    tipper[u] = src
                    hits[u] = 1
                    touched[k] = u
                    k += 1
                elif st == _TOLD:
                    hits[u] += 1
                    if below(s, hits[u]) == 0:
                        tipper[u] = src
        m = 0
        for j in range(k):
            u = touched[j]
            followees = following_indptr[u + 1] - following_indptr[u]
            if pressure[u] / followees >= threshold[u]:
                status[u] = _ACTIVE
                parent[u] = tipper[u]
                step_changed[u] = taken
                current[m] = u
                m += 1
            else:
                status[u] = _INACTIVE
    return taken, current[:m].copy(), pressure


@njit(inline="always")
def _disagreeing_row(
    indptr: np.ndarray, indices: np.ndarray, status: np.ndarray, start: int
) -> int:
    """A row holding an entry (row, column) whose statuses differ, looking from ``start``
    on (and round to it); -1 when none does."""
    n = len(indptr) - 1
    for shift in range(n):
        row = start + shift
        if row >= n:
            row -= n
        x = status[row]
        for at in range(indptr[row], indptr[row + 1]):
            if status[indices[at]] != x:
                return row
    return -1


_FEW = 32.0  # at most this many actors expected per step: count them first (no logarithms)


@njit(cache=True)
def _binomial_cdf(n: int, p: float) -> np.ndarray:
    """P(Binomial(n, p) <= k) for k = 0, 1, ... until the rest is below 2**-60 (then 1)."""
    cdf = np.empty(min(n, 1000) + 1)
    term = math.exp(n * math.log1p(-p))  # P(0)
    total = term
    k = 0
    cdf[0] = total
    while k < n and 1.0 - total > 2.0**-60 and k + 1 < len(cdf):
        term *= (n - k) / (k + 1) * p / (1.0 - p)
        total += term
        k += 1
        cdf[k] = total
    cdf[k] = 1.0
    return cdf[: k + 1]


@njit(cache=True)
def voter_run(
    indptr: np.ndarray,
    indices: np.ndarray,
    status: np.ndarray,
    parent: np.ndarray,
    step_changed: np.ndarray,
    activity: float,
    steps: int,
    s: np.ndarray,
) -> int:
    """The voter model on the rows of ``indptr``/``indices`` (the followees), steps 1, 2,
    ... up to ``steps``, until no follow pair disagrees (the rule on ``VoterModel``).

    Each agent acts with prob ``activity`` per step, so a step costs O(its actors),
    not O(agents): when few act (activity x agents <= ``_FEW``) their number is drawn
    from the binomial law (by its table) and then that many distinct agents uniformly;
    otherwise the gaps between actors are drawn (geometric). Returns the steps taken.
    """
    nonzero(s)
    n = len(status)
    few = 0 < activity < 1 and activity * n <= _FEW
    cdf = _binomial_cdf(n, activity) if few else np.ones(1)
    most = len(cdf) if few else n  # actors in one step, at most
    actors = np.empty(most, np.int64)
    agents = np.empty(most, np.int64)
    source = np.empty(most, np.int64)
    new = np.empty(most, np.int8)
    scale = -1.0 / math.log1p(-activity) if 0 < activity < 1 else 0.0
    witness = 0
    m = 1  # changes in the latest step: only a change can settle the model
    taken = 0
    while taken < steps:
        if m:
            witness = _disagreeing_row(indptr, indices, status, witness)
            if witness < 0:
                break
        taken += 1
        a = 0
        if few:
            u = uniform(s)
            count = 0
            while u >= cdf[count]:
                count += 1
            while a < count:  # distinct: a repeat is drawn again (count is small)
                actor = below(s, n)
                repeat = False
                for r in range(a):
                    repeat |= actors[r] == actor
                if not repeat:
                    actors[a] = actor
                    a += 1
        elif activity >= 1:
            for actor in range(n):
                actors[actor] = actor
            a = n
        elif activity > 0:
            actor = -1
            while True:  # failures before the next success are geometric
                actor += 1 + int(min(-math.log(1.0 - uniform(s)) * scale, 4e18))
                if actor >= n:
                    break
                actors[a] = actor
                a += 1
        m = 0
        for r in range(a):
            actor = actors[r]
            start, end = indptr[actor], indptr[actor + 1]
            if end > start:
                j = indices[start + below(s, end - start)]
                if status[j] != status[actor]:
                    agents[m], source[m] = actor, j
                    m += 1
        for q in range(m):  # the reads are done: now the writes
            new[q] = status[source[q]]
        for q in range(m):
            agent = agents[q]
            status[agent] = new[q]
            parent[agent] = source[q]
            step_changed[agent] = taken
    return taken
