"""Whole runs in one compiled loop (``classic.WHOLE_RUNS``) against step-by-step runs.

Both paths run the same process with different draws, so each pair of samples
(final sizes and steps taken over replicates) must pass a two-sample
Kolmogorov–Smirnov test at alpha = 0.01; the state a whole run leaves behind
must be the one the step-by-step models keep, so that stepping can go on from it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from townsquare.environments.contagion import models as classic
from townsquare.environments.contagion.models import (
    ClassicModel,
    IndependentCascadeModel,
    LinearThresholdModel,
    SIREpidemicModel,
    Status,
    VoterModel,
    advance,
)
from townsquare.network.graph import FollowGraph

ALPHA = 0.01


def random_graph(n: int, edges: int, seed: int) -> FollowGraph:
    rng = np.random.default_rng(seed)
    return FollowGraph.from_edges(n, rng.integers(0, n, edges), rng.integers(0, n, edges))


def outcomes(
    model: ClassicModel, graph: FollowGraph, steps: int, whole: bool, reps: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate: (share of agents with a non-zero status, steps taken)."""
    old = classic.WHOLE_RUNS
    classic.WHOLE_RUNS = whole
    try:
        rng = np.random.default_rng(seed)
        share, taken = [], []
        for _ in range(reps):
            state = model.initial(graph, rng)
            taken.append(advance(model, graph, state, steps, rng))
            share.append(np.mean(state.status != 0))
        return np.array(share), np.array(taken)
    finally:
        classic.WHOLE_RUNS = old


@pytest.mark.parametrize(
    ("model", "steps"),
    [
        (IndependentCascadeModel(p=0.15, seeds=5), 1000),
        (LinearThresholdModel(0.0, 0.5, seeds=20), 1000),
        (SIREpidemicModel(beta=0.08, gamma=0.3, seeds=5), 1000),
        (VoterModel(0.5, activity=0.05), 60),
        (VoterModel(0.5), 8),
    ],
    ids=["ic", "lt", "sir", "voter-0.05", "voter-sync"],
)
def test_whole_runs_have_the_step_by_step_distribution(model: ClassicModel, steps: int) -> None:
    graph = random_graph(400, 2400, seed=1)
    whole_share, whole_steps = outcomes(model, graph, steps, True, 300, seed=2)
    step_share, step_steps = outcomes(model, graph, steps, False, 300, seed=3)
    assert whole_share.std() > 0  # the outcome varies: the test has something to compare
    assert ks_2samp(whole_share, step_share).pvalue >= ALPHA
    if np.ptp(step_steps) > 0:
        assert ks_2samp(whole_steps, step_steps).pvalue >= ALPHA


def test_a_capped_whole_run_leaves_the_state_stepping_goes_on_from() -> None:
    graph = random_graph(3000, 24000, seed=4)
    rng = np.random.default_rng(5)
    sir = SIREpidemicModel(beta=0.1, gamma=0.3, seeds=10)
    state = sir.initial(graph, rng)
    assert advance(sir, graph, state, 4, rng) == 4
    np.testing.assert_array_equal(
        np.sort(state.spreading), np.flatnonzero(state.status == Status.SPREADER)
    )
    assert (state.step_changed[state.frontier] == 4).all() and len(state.frontier) > 0
    sir.step(graph, state, 5, rng)  # stepping goes on from the whole run's state
    assert state.step_changed.max() == 5
    lt = LinearThresholdModel(0.0, 0.6, seeds=30)
    state = lt.initial(graph, rng)
    assert advance(lt, graph, state, 3, rng) == 3
    counted = state.status == Status.ACTIVE
    counted[state.frontier] = False  # the pressure leaves out the frontier
    np.testing.assert_array_equal(state.pressure, graph.following @ counted.astype(float))
    assert (state.step_changed[state.frontier] == 3).all()
    child = np.flatnonzero(state.parent >= 0)
    assert graph.has_edges(child, state.parent[child]).all()
    parent_step = state.step_changed[state.parent[child]]
    np.testing.assert_array_equal(state.step_changed[child], parent_step + 1)


@pytest.mark.parametrize("activity", [0.001, 0.02, 0.3, 1.0])
def test_whole_run_voter_draws_each_agent_with_prob_activity(activity: float) -> None:
    # Two halves following each other (complete bipartite, opposite opinions): every
    # acting agent changes in the first step, so the changes count the actors.
    half, reps = 100, 400
    left, right = np.repeat(np.arange(half), half), np.tile(np.arange(half, 2 * half), half)
    graph = FollowGraph.from_edges(
        2 * half, np.concatenate([left, right]), np.concatenate([right, left])
    )
    model = VoterModel(opinions=np.repeat([0, 1], half), activity=activity)
    rng = np.random.default_rng(6)
    changed = np.empty(reps)
    by_agent = np.zeros(2 * half)
    for r in range(reps):
        state = model.initial(graph, rng)
        advance(model, graph, state, 1, rng)
        acted = state.step_changed == 1
        changed[r] = acted.sum()
        by_agent += acted
    n = 2 * half
    se = np.sqrt(n * activity * (1 - activity) / reps)
    assert abs(changed.mean() - n * activity) <= 4 * max(se, 1e-9)
    if 0 < activity < 1:
        assert 0.75 < changed.var(ddof=1) / (n * activity * (1 - activity)) < 1.3
        # no agent is favoured: the first and last quarters act alike
        quarter = n // 4
        diff = by_agent[:quarter].mean() - by_agent[-quarter:].mean()
        assert abs(diff) <= 4 * np.sqrt(2 * reps * activity * (1 - activity) / quarter)
