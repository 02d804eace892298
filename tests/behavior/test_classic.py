"""The classic models against exact enumeration, mean-field theory and invariants."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import brentq

from townsquare.checkpoint import load_checkpoint, save_checkpoint
from townsquare.environments.contagion import models as classic
from townsquare.environments.contagion.models import (
    ClassicState,
    DeffuantModel,
    IndependentCascadeModel,
    LinearThresholdModel,
    MakiThompsonModel,
    SIREpidemicModel,
    Status,
    VoterModel,
    WellMixed,
    disjoint_copies,
    from_config,
    run,
    run_replicates,
)
from townsquare.environments.social.config import SocialBehavior
from townsquare.errors import ScenarioError, UserError
from townsquare.network.graph import FollowGraph
from townsquare.scenario import Scenario

# Follow edges (follower, followee); influence flows followee -> follower.
PATH = (4, [(1, 0), (2, 1), (3, 2)])
STAR = (7, [(k, 0) for k in range(1, 7)])
DIGRAPH = (5, [(1, 0), (2, 0), (2, 1), (3, 1), (3, 2), (4, 3), (4, 2), (0, 4), (1, 4), (3, 0)])
DIAMOND = (4, [(1, 0), (2, 0), (3, 1), (3, 2)])


def graph_of(spec: tuple[int, list[tuple[int, int]]]) -> FollowGraph:
    n, edges = spec
    src, dst = np.array(edges).T
    return FollowGraph.from_edges(n, src, dst)


def reach(n: int, live: list[tuple[int, int]], seeds: list[int]) -> int:
    """Agents reached from the seeds along live edges (followee -> follower)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from((v, u) for u, v in live)
    return len(set(seeds).union(*(nx.descendants(g, s) for s in seeds)))


def ic_expected_size(spec: tuple[int, list], p: float, seeds: list[int]) -> float:
    """Exact E[cascade size] over all 2^|E| live-edge subgraphs (Kempe et al. 2003)."""
    n, edges = spec
    total = 0.0
    for alive in itertools.product([False, True], repeat=len(edges)):
        live = [e for e, a in zip(edges, alive, strict=True) if a]
        total += p ** len(live) * (1 - p) ** (len(edges) - len(live)) * reach(n, live, seeds)
    return total


def lt_expected_size(spec: tuple[int, list], seeds: list[int]) -> float:
    """Exact E[size] for U[0,1] thresholds: each agent keeps one uniform followee edge."""
    n, edges = spec
    followees = [[v for u, v in edges if u == a] for a in range(n)]
    choices = [[(a, v) for v in f] or [None] for a, f in enumerate(followees)]
    total = 0.0
    for pick in itertools.product(*choices):
        prob = np.prod([1 / len(f) for f in followees if f])
        total += prob * reach(n, [e for e in pick if e is not None], seeds)
    return total


def sizes(state, copies: int, n: int) -> np.ndarray:
    return (state.status.reshape(copies, n) != Status.INACTIVE).sum(axis=1)


def assert_within_se(values: np.ndarray, expected: float, k: float = 4.0) -> None:
    se = values.std(ddof=1) / np.sqrt(len(values))
    assert abs(values.mean() - expected) < k * max(se, 1e-12), (values.mean(), expected, se)


# -- independent cascade --------------------------------------------------------------


@pytest.fixture(params=["whole", "compiled", "numpy", "mixed"])
def transmission(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Whole runs in one compiled loop (``classic.WHOLE_RUNS``), or step by step with
    transmission along edges as one compiled loop for every step, in numpy for every step,
    or each by its size with a low bar, so that runs switch (``classic.COMPILED_ATTEMPTS``)."""
    if request.param != "whole":
        monkeypatch.setattr(classic, "WHOLE_RUNS", False)
        below = {"compiled": 2**62, "numpy": 0, "mixed": 64}[request.param]
        monkeypatch.setattr(classic, "COMPILED_ATTEMPTS", below)
    return request.param


@pytest.fixture(params=["whole", "steps"])
def runs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``run`` and ``run_replicates`` as one compiled loop over all steps, or step by step."""
    monkeypatch.setattr(classic, "WHOLE_RUNS", request.param == "whole")
    return request.param


@pytest.mark.parametrize(
    ("spec", "p", "seeds"),
    [(PATH, 0.6, [0]), (STAR, 0.3, [0]), (DIGRAPH, 0.4, [0]), (DIGRAPH, 0.25, [0, 3])],
)
def test_ic_mean_size_matches_live_edge_enumeration(spec, p, seeds, transmission) -> None:
    graph, copies = graph_of(spec), 4000
    state = run_replicates(
        IndependentCascadeModel(p=p, seeds=seeds), graph, copies, 50, np.random.default_rng(7)
    )
    assert_within_se(sizes(state, copies, graph.n), ic_expected_size(spec, p, seeds))


def test_ic_path_parents_and_steps_are_the_chain(transmission) -> None:
    state = run(
        IndependentCascadeModel(p=1.0, seeds=[0]), graph_of(PATH), 10, np.random.default_rng(0)
    )
    np.testing.assert_array_equal(state.status, [1, 1, 1, 1])
    np.testing.assert_array_equal(state.parent, [-1, 0, 1, 2])
    np.testing.assert_array_equal(state.step_changed, [0, 1, 2, 3])


def test_ic_parent_is_uniform_among_newly_active_followees(transmission) -> None:
    copies = 4000
    state = run_replicates(
        IndependentCascadeModel(p=1.0, seeds=[0]),
        graph_of(DIAMOND),
        copies,
        10,
        np.random.default_rng(3),
    )
    parent_of_3 = state.parent.reshape(copies, 4)[:, 3] % 4
    assert set(np.unique(parent_of_3)) == {1, 2}
    assert_within_se((parent_of_3 == 1).astype(float), 0.5)


def test_ic_every_activation_comes_from_an_active_followee(transmission) -> None:
    rng = np.random.default_rng(11)
    n = 3000
    graph = FollowGraph.from_edges(n, rng.integers(0, n, 20000), rng.integers(0, n, 20000))
    state = run(IndependentCascadeModel(p=0.2, seeds=20), graph, 100, rng)
    child = np.flatnonzero(state.parent >= 0)
    parent = state.parent[child]
    assert len(child) > 100
    assert graph.has_edges(child, parent).all()
    np.testing.assert_array_equal(state.step_changed[child], state.step_changed[parent] + 1)
    assert np.count_nonzero((state.status == 1) & (state.parent < 0)) == 20


def test_ic_tells_each_follower_independently_with_prob_p(transmission) -> None:
    # A hub with 3,000 followers: its attempts are drawn as gaps between successes.
    k, p, copies = 3000, 0.1, 300
    graph = graph_of((k + 1, [(i, 0) for i in range(1, k + 1)]))
    state = run_replicates(
        IndependentCascadeModel(p=p, seeds=[0]), graph, copies, 1, np.random.default_rng(17)
    )
    told = state.status.reshape(copies, k + 1)[:, 1:] == Status.ACTIVE
    count = told.sum(axis=1).astype(float)
    assert_within_se(count, k * p)
    assert 0.7 < count.var(ddof=1) / (k * p * (1 - p)) < 1.3  # independent attempts
    by_block = told.reshape(copies, 10, k // 10).mean(axis=(0, 2))  # no position is favoured
    assert np.all(np.abs(by_block - p) < 4 * np.sqrt(p * (1 - p) / (copies * k / 10)))


def test_epidemic_with_gamma_one_is_the_independent_cascade(transmission) -> None:
    graph, copies, p = graph_of(DIGRAPH), 4000, 0.4
    state = run_replicates(
        SIREpidemicModel(beta=p, gamma=1.0, seeds=[0]),
        graph,
        copies,
        50,
        np.random.default_rng(5),
    )
    assert_within_se(sizes(state, copies, graph.n), ic_expected_size(DIGRAPH, p, [0]))


# -- linear threshold -----------------------------------------------------------------


def test_lt_threshold_zero_activates_everyone_reachable(runs) -> None:
    rng = np.random.default_rng(2)
    n = 200
    graph = FollowGraph.from_edges(n, rng.integers(0, n, 260), rng.integers(0, n, 260))
    state = run(LinearThresholdModel(0.0, 0.0, seeds=[0, 1]), graph, 500, rng)
    g = nx.DiGraph(list(zip(*graph.edges(), strict=True)))
    g.add_nodes_from(range(n))
    expected = {0, 1} | nx.ancestors(g, 0) | nx.ancestors(g, 1)  # who follows a chain to a seed
    assert set(np.flatnonzero(state.status == 1)) == expected
    assert 2 < len(expected) < n


def test_lt_threshold_one_on_a_chain(runs) -> None:
    # 1 -> 0, 2 -> 1, 3 -> 2 form a chain; 4 follows 0 and 5 (never active): half < 1
    graph = graph_of((6, [(1, 0), (2, 1), (3, 2), (4, 0), (4, 5)]))
    state = run(LinearThresholdModel(1.0, 1.0, seeds=[0]), graph, 20, np.random.default_rng(0))
    np.testing.assert_array_equal(state.status, [1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(state.step_changed, [0, 1, 2, 3, -1, -1])
    np.testing.assert_array_equal(state.parent, [-1, 0, 1, 2, -1, -1])


def test_lt_final_sets_shrink_as_thresholds_rise(runs) -> None:
    n = 2000
    rng = np.random.default_rng(4)
    graph = FollowGraph.from_edges(n, rng.integers(0, n, 16000), rng.integers(0, n, 16000))
    finals = []
    for low in (0.0, 0.1, 0.2, 0.3, 0.5):
        model = LinearThresholdModel(low, low + 0.2, seeds=40)
        finals.append(run(model, graph, 200, np.random.default_rng(9)).status == 1)
    for looser, stricter in itertools.pairwise(finals):
        assert not np.any(stricter & ~looser)  # nested: same seeds, pointwise higher thresholds
    assert finals[0].sum() > finals[-1].sum()


@pytest.mark.parametrize("spec", [DIGRAPH, DIAMOND])
def test_lt_mean_size_matches_live_edge_enumeration(spec, runs) -> None:
    graph, copies = graph_of(spec), 4000
    state = run_replicates(
        LinearThresholdModel(seeds=[0]), graph, copies, 50, np.random.default_rng(8)
    )
    assert_within_se(sizes(state, copies, graph.n), lt_expected_size(spec, [0]))


def test_lt_parent_is_uniform_among_the_followees_activated_last(runs) -> None:
    # 3 follows the seed 0 and 1, 2 (who follow 0): with threshold 1 it waits for all
    # three, and one of 1, 2 (activated in the latest step) tipped it, never 0.
    graph, copies = graph_of((4, [(1, 0), (2, 0), (3, 0), (3, 1), (3, 2)])), 4000
    state = run_replicates(
        LinearThresholdModel(1.0, 1.0, seeds=[0]), graph, copies, 10, np.random.default_rng(4)
    )
    assert (state.status == Status.ACTIVE).all()
    np.testing.assert_array_equal(state.step_changed.reshape(copies, 4)[0], [0, 1, 1, 2])
    parent_of_3 = state.parent.reshape(copies, 4)[:, 3] % 4
    assert set(np.unique(parent_of_3)) == {1, 2}
    assert_within_se((parent_of_3 == 1).astype(float), 0.5)


def lt_pressure(graph: FollowGraph, state: ClassicState) -> np.ndarray:
    """Brute force: per agent, its active followees outside the frontier."""
    counted = state.status == Status.ACTIVE
    counted[state.frontier] = False
    return graph.following @ counted.astype(np.float64)


def copied(state: ClassicState) -> ClassicState:
    return ClassicState(**{k: None if v is None else v.copy() for k, v in state.__dict__.items()})


def test_lt_pressure_is_the_count_of_active_followees_and_survives_a_checkpoint(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(5)
    n = 3000
    graph = FollowGraph.from_edges(n, rng.integers(0, n, 24000), rng.integers(0, n, 24000))
    model = LinearThresholdModel(0.0, 0.6, seeds=30)
    state = model.initial(graph, rng)
    assert state.pressure is None  # counted by the first step
    for t in range(1, 5):
        model.step(graph, state, t, rng)
        np.testing.assert_array_equal(state.pressure, lt_pressure(graph, state))
    assert len(state.frontier) > 10 and state.pressure.dtype == np.int32
    # a checkpoint stores the fields as arrays and rebuilds the state from them
    save_checkpoint(tmp_path, 4, {"state": state.__dict__})
    back = ClassicState(**load_checkpoint(tmp_path)[1]["state"])
    # a state without pressure (edited by hand, or from before it existed) counts it again
    recount = copied(state)
    recount.pressure = None
    states, rngs = [state, back, recount], [np.random.default_rng(9) for _ in range(3)]
    for t in range(5, 9):
        steps = [model.step(graph, s, t, r) for s, r in zip(states, rngs, strict=True)]
        for other in steps[1:]:
            np.testing.assert_array_equal(other.agents, steps[0].agents)
            np.testing.assert_array_equal(other.parent, steps[0].parent)
    for other in states[1:]:
        for name in ("status", "parent", "step_changed", "frontier", "pressure"):
            np.testing.assert_array_equal(getattr(other, name), getattr(state, name))
    # stacked states keep each copy's counts (counts, not agent ids: nothing to shift)
    union = disjoint_copies(graph, 2)
    stacked = ClassicState.stack([state, recount], n)
    np.testing.assert_array_equal(stacked.pressure, lt_pressure(union, stacked))
    model.step(union, stacked, 9, rng)
    np.testing.assert_array_equal(stacked.pressure, lt_pressure(union, stacked))
    stacked = ClassicState.stack([state, model.initial(graph, rng)], n)
    assert stacked.pressure is None  # one copy without: counted again by the next step


# -- rumours ---------------------------------------------------------------------------


def test_maki_thompson_leaves_a_fifth_ignorant_in_a_well_mixed_population() -> None:
    theory = brentq(lambda x: x - np.exp(-2 * (1 - x)), 0.01, 0.9)  # 0.2032
    rng = np.random.default_rng(12)
    ignorant = [
        np.mean(run(MakiThompsonModel(seeds=1), WellMixed(20_000), 2000, rng).status == 0)
        for _ in range(4)
    ]
    assert abs(np.mean(ignorant) - theory) < 0.006


@pytest.mark.parametrize("r0", [1.5, 3.0])
def test_epidemic_final_size_solves_the_final_size_equation(r0: float) -> None:
    # 100 seeds out of 20,000: early extinction has probability < 1.5**-100.
    n, gamma, seeds = 20_000, 0.5, 100
    beta = r0 * gamma / n
    rng = np.random.default_rng(int(r0 * 10))
    final = [
        np.mean(run(SIREpidemicModel(beta, gamma, seeds), WellMixed(n), 10_000, rng).status > 0)
        for _ in range(4)
    ]
    r, z0 = -n * np.log1p(-beta) / gamma, seeds / n
    theory = brentq(lambda z: 1 - z - (1 - z0) * np.exp(-r * z), 1e-3, 1.0)
    assert abs(np.mean(final) - theory) < 0.015
    assert abs(r - r0) < 1e-3


def test_epidemic_offspring_matches_the_discrete_time_r0(transmission) -> None:
    # A star: only the hub spreads; its followers are told with beta / (beta + gamma - beta gamma).
    k, beta, gamma, copies = 20, 0.3, 0.4, 3000
    graph = graph_of((k + 1, [(i, 0) for i in range(1, k + 1)]))
    state = run_replicates(
        SIREpidemicModel(beta, gamma, seeds=[0]), graph, copies, 500, np.random.default_rng(1)
    )
    told = sizes(state, copies, k + 1) - 1
    assert_within_se(told.astype(float), k * beta / (beta + gamma - beta * gamma))


def test_epidemic_keeps_its_spreaders_and_resumes_from_a_copied_state(transmission) -> None:
    rng = np.random.default_rng(23)
    n = 2000
    graph = FollowGraph.from_edges(n, rng.integers(0, n, 16000), rng.integers(0, n, 16000))
    model = SIREpidemicModel(beta=0.1, gamma=0.3, seeds=10)
    state = model.initial(graph, rng)
    for t in range(1, 6):
        model.step(graph, state, t, rng)
        np.testing.assert_array_equal(
            np.sort(state.spreading), np.flatnonzero(state.status == Status.SPREADER)
        )
    assert len(state.spreading) > 10
    # a checkpoint rebuilds the state from its fields; the run goes on as if uninterrupted
    copy = ClassicState(**{k: None if v is None else v.copy() for k, v in state.__dict__.items()})
    rng_copy = np.random.default_rng(0)
    rng_copy.bit_generator.state = rng.bit_generator.state
    for t in range(6, 12):
        a, b = model.step(graph, state, t, rng), model.step(graph, copy, t, rng_copy)
        np.testing.assert_array_equal(a.agents, b.agents)
    np.testing.assert_array_equal(state.status, copy.status)
    # a state without the list (edited by hand, or from before it existed) finds it by a scan
    copy.spreading = None
    assert model.settled(graph, copy) == model.settled(graph, state)
    model.step(graph, copy, 12, rng)
    np.testing.assert_array_equal(
        np.sort(copy.spreading), np.flatnonzero(copy.status == Status.SPREADER)
    )
    # stacked states shift the list with the agents
    stacked = ClassicState.stack([state, copy], n)
    np.testing.assert_array_equal(
        np.sort(stacked.spreading), np.flatnonzero(stacked.status == Status.SPREADER)
    )


def test_maki_thompson_first_caller_informs_and_later_callers_are_stifled() -> None:
    # 2 follows 0 and 1, both spreaders whose only follower is 2: both call 2 in step 1.
    graph, copies = graph_of((3, [(2, 0), (2, 1)])), 2000
    model = MakiThompsonModel(seeds=[0, 1])
    states = [model.initial(graph, np.random.default_rng(0)) for _ in range(copies)]
    union = disjoint_copies(graph, copies)
    state = ClassicState.stack(states, graph.n)
    transition = model.step(union, state, 1, np.random.default_rng(6))
    status = state.status.reshape(copies, 3)
    parent = state.parent.reshape(copies, 3)[:, 2] % 3
    assert (status[:, 2] == Status.SPREADER).all()
    assert (np.sort(status[:, :2], axis=1) == [Status.SPREADER, Status.STIFLER]).all()
    np.testing.assert_array_equal(status[np.arange(copies), parent], Status.SPREADER)
    assert_within_se((parent == 0).astype(float), 0.5)
    assert transition.became(Status.SPREADER).sum() == copies
    assert (transition.parent[transition.became(Status.STIFLER)] == -1).all()


def test_maki_thompson_callers_reach_followers_on_a_graph() -> None:
    rng = np.random.default_rng(21)
    n = 2000
    graph = FollowGraph.from_edges(n, rng.integers(0, n, 12000), rng.integers(0, n, 12000))
    state = run(MakiThompsonModel(seeds=5), graph, 500, rng)
    child = np.flatnonzero(state.parent >= 0)
    assert len(child) > 50
    assert graph.has_edges(child, state.parent[child]).all()
    stuck = state.status == Status.SPREADER  # settled: spreaders left have no one to call
    assert (graph.in_degree()[stuck] == 0).all()
    assert not np.any((state.status == Status.STIFLER) & (graph.in_degree() == 0))


# -- voter -----------------------------------------------------------------------------


def mutual_regular(degree: int, n: int, seed: int) -> FollowGraph:
    u, v = np.array(nx.random_regular_graph(degree, n, seed=seed).edges()).T
    return FollowGraph.from_edges(n, np.concatenate([u, v]), np.concatenate([v, u]))


def test_voter_share_is_a_martingale_on_a_regular_graph(runs) -> None:
    n, copies = 60, 2000
    graph = mutual_regular(4, n, seed=1)
    state = run_replicates(VoterModel(0.3), graph, copies, 8, np.random.default_rng(2))
    share = state.status.reshape(copies, n).mean(axis=1)
    assert share.std() > 0.02  # it did move
    assert_within_se(share, 0.3)


def test_voter_consensus_is_absorbing_and_reached_with_the_initial_share(runs) -> None:
    n, copies = 10, 2000
    complete = graph_of((n, [(i, j) for i in range(n) for j in range(n) if i != j]))
    state = run_replicates(VoterModel(0.3), complete, copies, 2000, np.random.default_rng(3))
    share = state.status.reshape(copies, n).mean(axis=1)
    assert np.isin(share, [0.0, 1.0]).all()
    assert_within_se(share, 0.3)
    model = VoterModel(opinions=np.ones(n, np.int8))
    fixed = model.initial(complete, np.random.default_rng(0))
    assert model.settled(complete, fixed)
    assert len(model.step(complete, fixed, 1, np.random.default_rng(0))) == 0


@pytest.mark.parametrize("graph", [graph_of((2, [(0, 1), (1, 0)])), WellMixed(2)])
def test_synchronous_voter_reads_the_start_of_step_opinions(graph) -> None:
    # Two agents who follow each other swap opinions every step: each copies the other's
    # opinion from before the step (copying one after the other would end in consensus).
    model, rng = VoterModel(opinions=np.array([0, 1])), np.random.default_rng(0)
    state = model.initial(graph, rng)
    for t in range(1, 6):
        transition = model.step(graph, state, t, rng)
        np.testing.assert_array_equal(state.status, [t % 2, 1 - t % 2])
        np.testing.assert_array_equal(transition.parent, 1 - transition.agents)
    assert not model.settled(graph, state)


def test_voter_agents_copy_a_followee() -> None:
    graph = mutual_regular(3, 40, seed=5)
    model = VoterModel(0.5)
    state = model.initial(graph, np.random.default_rng(0))
    transition = model.step(graph, state, 1, np.random.default_rng(1))
    assert len(transition) > 0
    assert graph.has_edges(transition.agents, transition.parent).all()
    np.testing.assert_array_equal(transition.new, 1 - transition.old)


# -- Deffuant ---------------------------------------------------------------------------


def test_deffuant_wide_confidence_converges_to_the_initial_mean() -> None:
    rng = np.random.default_rng(13)
    model = DeffuantModel(epsilon=2.0, mu=0.5)
    start = model.initial(WellMixed(1000), rng)
    mean = start.opinion.mean()
    state = run(DeffuantModel(2.0, 0.5, opinions=start.opinion), WellMixed(1000), 3000, rng)
    assert state.opinion.std() < 1e-5
    assert abs(state.opinion.mean() - mean) < 1e-12


def test_deffuant_narrow_confidence_leaves_several_clusters() -> None:
    rng = np.random.default_rng(14)
    state = run(DeffuantModel(epsilon=0.2, mu=0.5), WellMixed(1000), 800, rng)
    x = np.sort(state.opinion)
    groups = np.split(x, np.flatnonzero(np.diff(x) > 0.01) + 1)
    big = [g for g in groups if len(g) >= 10]
    assert 3 <= len(big) <= 7  # about 2 / (2 epsilon) = 5 on [-1, 1]
    assert all(np.ptp(g) < 1e-3 for g in big)
    assert min(np.diff([g.mean() for g in big])) >= 0.2


def test_deffuant_pairs_are_a_matching_and_conserve_the_sum() -> None:
    rng = np.random.default_rng(15)
    n = 3000
    graph = FollowGraph.from_edges(n, rng.integers(0, n, 30000), rng.integers(0, n, 30000))
    model = DeffuantModel(epsilon=0.5, mu=0.3)
    state = model.initial(graph, rng)
    total = state.opinion.sum()
    for t in range(1, 20):
        transition = model.step(graph, state, t, rng)
        assert len(np.unique(transition.agents)) == len(transition.agents)
        assert np.all(np.abs(transition.old_opinion - state.opinion[transition.parent]) < 0.5)
    assert abs(state.opinion.sum() - total) < 1e-9


def deffuant_pair_chances(spec: tuple[int, list[tuple[int, int]]]) -> dict[tuple[int, int], float]:
    """Exact chance that each pair is matched: every agent proposes to a uniform followee,
    and a proposal is kept when it is the first appearance of both its agents in a
    uniformly random order of the proposals."""
    n, edges = spec
    followees = [[v for u, v in edges if u == a] for a in range(n)]
    chances: dict[tuple[int, int], float] = {}
    orders = list(itertools.permutations(range(n)))
    for partner in itertools.product(*followees):
        weight = np.prod([1 / len(f) for f in followees]) / len(orders)
        for order in orders:
            seen: set[int] = set()
            for a in order:
                b = partner[a]
                if a not in seen and b not in seen:
                    pair = (min(a, b), max(a, b))
                    chances[pair] = chances.get(pair, 0.0) + weight
                seen |= {a, b}
    return chances


def test_deffuant_matching_follows_the_first_appearance_rule() -> None:
    graph, copies = graph_of(DIGRAPH), 20_000
    union = disjoint_copies(graph, copies)
    model = DeffuantModel(epsilon=2.0, mu=1e-9)  # every kept pair moves
    state = model.initial(union, np.random.default_rng(0))
    transition = model.step(union, state, 1, np.random.default_rng(1))
    half = len(transition) // 2
    a, b = transition.agents[:half] % graph.n, transition.agents[half:] % graph.n
    pairs, counts = np.unique(np.sort(np.stack([a, b]), axis=0), axis=1, return_counts=True)
    seen = {(int(x), int(y)): c / copies for (x, y), c in zip(pairs.T, counts, strict=True)}
    exact = deffuant_pair_chances(DIGRAPH)
    assert set(seen) <= set(exact)
    for pair, chance in exact.items():
        se = np.sqrt(chance * (1 - chance) / copies)
        assert abs(seen.get(pair, 0.0) - chance) < 4 * se, (pair, seen.get(pair), chance)


def test_deffuant_matching_in_a_well_mixed_population_is_the_complete_graphs() -> None:
    n, steps = 4, 20_000
    complete = (n, [(i, j) for i in range(n) for j in range(n) if i != j])
    model, rng = DeffuantModel(epsilon=2.0, mu=1e-9), np.random.default_rng(2)
    seen: dict[tuple[int, int], int] = {}
    for _ in range(steps):
        state = model.initial(WellMixed(n), rng)
        transition = model.step(WellMixed(n), state, 1, rng)
        half = len(transition) // 2
        for a, b in zip(transition.agents[:half], transition.agents[half:], strict=True):
            pair = (min(a, b), max(a, b))
            seen[pair] = seen.get(pair, 0) + 1
    for pair, chance in deffuant_pair_chances(complete).items():
        se = np.sqrt(chance * (1 - chance) / steps)
        assert abs(seen.get(pair, 0) / steps - chance) < 4 * se, (pair, seen.get(pair), chance)


@pytest.mark.parametrize("activity", [1.0, 0.6])
def test_deffuant_and_voter_skip_agents_who_follow_nobody(activity: float) -> None:
    rng = np.random.default_rng(16)
    n = 400
    src, dst = rng.integers(0, n, 3000), rng.integers(0, n, 3000)
    lonely = (src % 7 == 0) | (src == n - 1)  # they follow nobody, the last agent among them
    graph = FollowGraph.from_edges(n, src[~lonely], dst[~lonely])
    quiet = np.flatnonzero(graph.out_degree() == 0)
    assert n - 1 in quiet
    model = DeffuantModel(epsilon=2.0, mu=0.3, activity=activity)
    state = model.initial(graph, rng)
    moved = np.zeros(n, bool)
    for t in range(1, 30):
        transition = model.step(graph, state, t, rng)
        half = len(transition) // 2
        assert len(np.unique(transition.agents)) == len(transition.agents)
        assert graph.has_edges(transition.agents[:half], transition.agents[half:]).all()
        moved[transition.agents[:half]] = True
    assert not moved[quiet].any()  # they never propose (but others may propose to them)
    voter = VoterModel(0.5, activity=activity)
    state = voter.initial(graph, rng)
    before = state.status.copy()
    for t in range(1, 10):
        transition = voter.step(graph, state, t, rng)
        assert graph.has_edges(transition.agents, transition.parent).all()
    np.testing.assert_array_equal(state.status[quiet], before[quiet])


# -- well-mixed populations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "measure"),
    [
        (IndependentCascadeModel(p=0.05, seeds=1), lambda status: np.mean(status > 0)),
        (LinearThresholdModel(0.0, 0.3, seeds=2), lambda status: np.mean(status > 0)),
        (MakiThompsonModel(seeds=1), lambda status: np.mean(status == 0)),
        (SIREpidemicModel(0.04, 0.5, seeds=1), lambda status: np.mean(status > 0)),
        (VoterModel(0.4), np.mean),
    ],
    ids=["ic", "lt", "maki_thompson", "epidemic", "voter"],
)
def test_well_mixed_matches_an_explicit_complete_graph(model, measure) -> None:
    n, runs = 30, 400
    complete = graph_of((n, [(i, j) for i in range(n) for j in range(n) if i != j]))
    rng = np.random.default_rng(31)
    mixed = np.array([measure(run(model, WellMixed(n), 500, rng).status) for _ in range(runs)])
    state = run_replicates(model, complete, runs, 500, rng)
    explicit = np.array([measure(row) for row in state.status.reshape(runs, n)])
    se = np.sqrt((mixed.var() + explicit.var()) / runs)
    assert abs(mixed.mean() - explicit.mean()) < 4 * se + 1e-9
    assert mixed.std() > 0


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "kind"),
    [
        ({"model": "independent_cascade", "p": 0.2}, IndependentCascadeModel),
        ({"model": "linear_threshold", "threshold_low": 0.1}, LinearThresholdModel),
        ({"model": "sir", "beta": 0.3, "gamma": 0.2}, SIREpidemicModel),
        ({"model": "sir", "mechanism": "epidemic", "beta": 0.1}, SIREpidemicModel),
        ({"model": "maki_thompson", "stifle": 0.5}, MakiThompsonModel),
        ({"model": "sir", "mechanism": "maki_thompson", "beta": 0.5}, MakiThompsonModel),
        ({"model": "voter", "initial_share": 0.2}, VoterModel),
        ({"model": "deffuant", "epsilon": 0.5}, DeffuantModel),
    ],
)
def test_from_config_builds_each_model(section: dict, kind: type) -> None:
    scenario = Scenario.from_dict({"behavior": section})
    model = from_config(scenario.behavior)
    assert isinstance(model, kind)
    for key, value in section.items():
        if key not in ("model", "mechanism"):
            assert getattr(model, key) == value


def test_from_config_rejects_the_social_behaviour() -> None:
    with pytest.raises(TypeError, match="SocialBehavior"):
        from_config(SocialBehavior())


def test_bad_seeds_and_thresholds_are_user_errors() -> None:
    with pytest.raises(UserError, match=r"behavior\.seeds = 20"):
        IndependentCascadeModel(seeds=20).initial(WellMixed(10), np.random.default_rng(0))
    with pytest.raises(UserError, match=r"\[0, 10\)"):
        IndependentCascadeModel(seeds=[3, 10]).initial(WellMixed(10), np.random.default_rng(0))
    with pytest.raises(ScenarioError, match="threshold_low"):
        Scenario.from_dict(
            {"behavior": {"model": "linear_threshold", "threshold_low": 0.8, "threshold_high": 0.2}}
        )
