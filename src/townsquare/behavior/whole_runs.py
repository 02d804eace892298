"""Whole runs of the classic models in one compiled call each (numba).

``classic.run`` and ``classic.run_replicates`` need only the final state, not
each step's :class:`~townsquare.behavior.classic.Transition`. On graphs of a
few thousand agents a step does a few microseconds of work, so a Python loop
over steps (a ``settled`` check, a step, a ``Transition`` per step) costs more
than the steps themselves. These loops run every step of a run in one call,
with the same rules, state writes (status, parent, step changed) and stopping
rule (stop before a step once settled) as the models' ``step``; only the
random draws differ (one xoshiro256** stream per run, from
:func:`~townsquare.behavior.kernels.stream`), so a run has the same
distribution, not the same draws, as a step-by-step run from the same seed.

Within a step, agents told (IC, SIR) or checked (LT) in that step are marked
in place with the temporary status :data:`_TOLD`, and the successes per agent
are counted for the uniform choice of parent (reservoir sampling: the c-th
success replaces the parent with prob 1/c), so a step costs O(its sources'
edges) and no allocation; the per-run buffers are allocated once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from townsquare.behavior.kernels import _below, _nonzero, _uniform

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
                if _uniform(s) < p:
                    status[u] = _TOLD
                    parent[u] = src
                    hits[u] = 1
                    told[k] = u
                    k += 1
            elif st == _TOLD and _uniform(s) < p:
                hits[u] += 1
                if _below(s, hits[u]) == 0:
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
    _nonzero(s)
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
    nobody spreads: each step every spreader tells each ignorant follower with prob
    ``beta``, then each spreader of the start of the step stops with prob ``gamma``.

    Returns (steps taken, the spreaders after the last step, the agents it told).
    """
    _nonzero(s)
    n = len(status)
    current = np.empty(n, np.int64)
    going = np.empty(n, np.int64)
    told = np.empty(n, np.int64)
    hits = np.zeros(n, np.int32)
    m = len(spreading)
    current[:m] = spreading
    k = 0
    taken = 0
    while taken < steps and m > 0:
        taken += 1
        k = _tell_all(indptr, indices, current, m, beta, status, parent, hits, told, s)
        kept = 0
        for i in range(m):
            agent = current[i]
            if _uniform(s) < gamma:
                status[agent] = _STIFLER
                step_changed[agent] = taken
            else:
                going[kept] = agent
                kept += 1
        for j in range(k):
            u = told[j]
            status[u] = _ACTIVE
            step_changed[u] = taken
            going[kept + j] = u
        m = kept + k
        current, going = going, current
    return taken, current[:m].copy(), told[:k].copy()


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
    _nonzero(s)
    n = len(status)
    if len(pressure) != n:
        pressure = np.zeros(n, np.int32)
        fresh = np.zeros(n, np.bool_)
        for agent in frontier:
            fresh[agent] = True
        for a in range(n):
            if status[a] == _ACTIVE and not fresh[a]:
                for at in range(followers_indptr[a], followers_indptr[a + 1]):
                    pressure[followers_indices[at]] += 1
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
                    if _below(s, hits[u]) == 0:
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


@njit(cache=True)
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

    Each agent acts with prob ``activity`` per step; the acting agents are drawn
    as geometric gaps between them, so a step costs O(its actors), not O(agents).
    Returns the steps taken.
    """
    _nonzero(s)
    n = len(status)
    agents = np.empty(n, np.int64)
    source = np.empty(n, np.int64)
    new = np.empty(n, np.int8)
    scale = -1.0 / math.log1p(-activity) if 0 < activity < 1 else 0.0
    witness = 0
    taken = 0
    while taken < steps:
        witness = _disagreeing_row(indptr, indices, status, witness)
        if witness < 0:
            break
        taken += 1
        m = 0
        actor = -1
        while activity > 0:
            if activity >= 1:
                actor += 1
            else:  # failures before the next success are geometric
                actor += 1 + int(-math.log(1.0 - _uniform(s)) * scale)
            if actor >= n:
                break
            start, end = indptr[actor], indptr[actor + 1]
            if end > start:
                j = indices[start + _below(s, end - start)]
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
