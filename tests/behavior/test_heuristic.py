"""The social heuristic: its rules move engagement, attitudes and beliefs the documented way."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from townsquare.core.actions import Action
from townsquare.core.behavior import Feed, Observation
from townsquare.environments.social.config import SocialBehavior
from townsquare.environments.social.content import ContentStore, Label, Veracity
from townsquare.environments.social.heuristic import SocialHeuristic, biased_assimilation
from townsquare.network.graph import FollowGraph
from townsquare.population.config import PopulationConfig
from townsquare.population.model import ROLES, AgentState, sample_population
from townsquare.scenario_types import Role

N = 4000


def world(role: Role = Role.BYSTANDER, stance: float = 0.5, veracity=Veracity.TRUE,
          attitude: float = 0.5, news: int = 0):
    pop = sample_population(PopulationConfig(size=N + 1, topics=["t"]), np.random.default_rng(0))
    pop.role[:] = ROLES.index(role)
    pop.susceptibility[:] = 0.5
    state = AgentState.initial(pop, 1, np.random.default_rng(1))
    state.attitude[:] = attitude
    content = ContentStore()
    content.add(np.array([N]), np.array([Action.POST]), np.array([-1]), np.array([0]),
                np.array([stance]), step=0, news=np.array([news]),
                veracity=np.array([veracity]))
    agents = np.arange(N)
    feed = Feed(agents, np.arange(N + 1), np.zeros(N, np.int64), np.ones(N, np.int64))
    graph = FollowGraph.from_edges(N + 1, agents, np.full(N, N))
    return Observation(1, feed, content, pop, state, graph)


def engaged_share(obs: Observation, params: SocialBehavior | None = None) -> float:
    decision = SocialHeuristic(params or SocialBehavior()).decide(obs, np.random.default_rng(5))
    acts = decision.actions
    hits = np.isin(acts.action, [Action.LIKE, Action.REPOST, Action.QUOTE, Action.COMMENT])
    return hits.sum() / N


def test_aligned_posts_are_engaged_more_than_opposed_ones() -> None:
    aligned = engaged_share(world(stance=0.5, attitude=0.5))
    opposed = engaged_share(world(stance=-0.9, attitude=0.9))
    assert aligned > 2 * opposed


def test_labels_reduce_engagement() -> None:
    plain = world()
    labelled = world()
    labelled.content.column("label")[0] = Label.FACT_CHECK
    assert engaged_share(labelled) < 0.6 * engaged_share(plain)


def flag_share(obs: Observation, params: SocialBehavior | None = None, seed: int = 2) -> float:
    decision = SocialHeuristic(params or SocialBehavior()).decide(obs, np.random.default_rng(seed))
    return float((decision.actions.action == Action.FLAG).sum() / N)


def within(share: float, expected: float, k: float = 4.0) -> bool:
    """``share`` of N Bernoulli draws is within k standard errors of ``expected``."""
    return abs(share - expected) < k * np.sqrt(expected * (1 - expected) / N)


@pytest.mark.parametrize(("veracity", "attitude", "d_prime"), [
    (Veracity.FALSE, 0.5, 2.5),  # agrees with the post: criterion 1.5 + 0.5
    (Veracity.FALSE, -0.5, 2.5),  # half agrees: criterion 1.5
    (Veracity.TRUE, 0.5, 0.0),  # false positives on a true item
    (Veracity.TRUE, -0.5, 0.0),  # more of them where the reader disagrees
])
def test_verifiers_flag_at_the_signal_detection_rate(veracity: Veracity, attitude: float,
                                                     d_prime: float) -> None:
    params = SocialBehavior(verifier_discernment=2.5, doubt_threshold=1.5, partisan_doubt=0.5)
    obs = world(role=Role.VERIFIER, veracity=veracity, stance=0.5, attitude=attitude)
    alignment = 1 - abs(attitude - 0.5) / 2
    criterion = 1.5 - 0.5 * (1 - 2 * alignment)
    expected = float(stats.norm.sf(criterion - d_prime))
    share = flag_share(obs, params)
    assert within(share, expected), (share, expected)


def test_true_items_draw_flags_and_labels_add_doubt() -> None:
    plain = flag_share(world(role=Role.VERIFIER, veracity=Veracity.TRUE))
    labelled = world(role=Role.VERIFIER, veracity=Veracity.TRUE)
    labelled.content.column("label")[0] = Label.COMMUNITY_NOTE
    assert plain > 0  # judgement errs: true news is flagged too
    assert within(flag_share(labelled), float(stats.norm.sf(2.0 - 1.0)))  # label evidence 1
    assert flag_share(world(role=Role.VERIFIER, news=-1, veracity=Veracity.UNVERIFIED)) == 0


def test_prebunking_raises_discernment() -> None:
    obs = world(role=Role.VERIFIER, veracity=Veracity.FALSE)
    obs.state.inoculation[:] = 1.0
    params = SocialBehavior(verifier_discernment=1.0, inoculation_discernment=1.0)
    assert within(flag_share(obs, params), float(stats.norm.sf(2.0 - 2.0)))


def test_doubting_a_false_item_lowers_belief_in_it() -> None:
    obs = world(role=Role.VERIFIER, veracity=Veracity.FALSE)
    obs.state.belief[:] = 0.5
    decision = SocialHeuristic(SocialBehavior()).decide(obs, np.random.default_rng(2))
    assert decision.belief[:, 0].mean() < 0.5


def test_novelty_is_distance_from_what_the_reader_expects() -> None:
    """A post far from the reader's expectation is engaged more, other things equal."""
    params = SocialBehavior(novelty_weight=2.0, stance_weight=0.0)
    familiar, surprising = world(stance=0.5), world(stance=0.5)
    familiar.state.expectation[:] = 0.5
    surprising.state.expectation[:] = -0.5  # the reader has seen the other side only
    assert engaged_share(surprising, params) > 1.5 * engaged_share(familiar, params)
    off = SocialBehavior(novelty_weight=0.0, stance_weight=0.0)
    assert engaged_share(surprising, off) == engaged_share(familiar, off)


def test_exposure_raises_belief_in_unlabelled_news() -> None:
    decision = SocialHeuristic(SocialBehavior()).decide(world(), np.random.default_rng(3))
    assert decision.belief[:, 0].mean() > 0.02
    assert decision.belief.max() <= 1


def test_bounded_confidence_moves_only_close_attitudes() -> None:
    params = SocialBehavior(confidence=0.3, convergence=0.5)
    close = SocialHeuristic(params).decide(world(stance=0.5, attitude=0.3),
                                           np.random.default_rng(4))
    assert np.allclose(close.attitude[:, 0], 0.3 + 0.5 * 0.2, atol=1e-5)
    far = SocialHeuristic(params).decide(world(stance=0.9, attitude=0.3),
                                         np.random.default_rng(4))
    assert np.allclose(far.attitude[:, 0], 0.3)


def test_spreaders_repost_and_bystanders_like() -> None:
    def kinds(role: Role) -> np.ndarray:
        d = SocialHeuristic(SocialBehavior(engage_rate=0.3)).decide(
            world(role=role), np.random.default_rng(6))
        return d.actions.action

    spread, watch = kinds(Role.SPREADER), kinds(Role.BYSTANDER)
    assert (spread == Action.REPOST).sum() > (spread == Action.LIKE).sum()
    assert (watch == Action.LIKE).sum() > 3 * (watch == Action.REPOST).sum()


def test_disabled_actions_never_appear() -> None:
    behavior = SocialHeuristic(SocialBehavior(engage_rate=0.5), enabled={Action.LIKE})
    decision = behavior.decide(world(), np.random.default_rng(7))
    assert set(np.unique(decision.actions.action)) <= {int(Action.LIKE)}


def test_biased_assimilation_without_bias_is_averaging() -> None:
    attitude = np.array([[0.2, -0.6]])
    reader, topic = np.array([0, 0, 0]), np.array([0, 0, 1])
    stance = np.array([1.0, 0.0, -1.0])
    got = biased_assimilation(attitude, reader, topic, stance, bias=0.0, self_weight=2.0)
    p = (attitude + 1) / 2
    want_p = [(2 * p[0, 0] + 1.0 + 0.5) / (2 + 2), (2 * p[0, 1] + 0.0) / (2 + 1)]  # DeGroot
    assert np.allclose(got, 2 * np.array([want_p]) - 1)


@pytest.mark.parametrize(("bias", "direction"), [(0.5, -1), (1.0, 0), (2.0, 1)])
def test_balanced_evidence_polarizes_only_when_bias_exceeds_one(bias: float,
                                                               direction: int) -> None:
    """Dandekar et al. (2013): with b > 1, even-handed feeds push readers outward."""
    attitude = np.array([[0.4], [-0.4]])
    reader, topic = np.array([0, 0, 1, 1]), np.zeros(4, np.int64)
    stance = np.array([1.0, -1.0, 1.0, -1.0])  # both readers see one post of each side
    got = biased_assimilation(attitude, reader, topic, stance, bias=bias, self_weight=5.0)
    assert np.allclose(got[0], -got[1])  # symmetric
    assert np.sign(np.round(abs(got[0, 0]) - 0.4, 12)) == direction


def test_biased_assimilation_keeps_extremes_and_unread_topics() -> None:
    attitude = np.array([[1.0, 0.3]])
    got = biased_assimilation(attitude, np.array([0]), np.array([0]), np.array([-1.0]),
                              bias=2.0, self_weight=1.0)
    assert np.allclose(got, attitude)  # a fully committed reader discounts all dissent


def test_the_attitude_rule_is_chosen_by_the_scenario() -> None:
    params = SocialBehavior(attitude_rule="biased_assimilation", assimilation_bias=0.0,
                            self_weight=1.0)
    decision = SocialHeuristic(params).decide(world(stance=0.9, attitude=0.3),
                                              np.random.default_rng(4))
    assert np.allclose(decision.attitude[:, 0], 2 * ((0.65 + 0.95) / 2) - 1)  # averaging


def test_labels_on_some_posts_make_the_unlabelled_ones_look_vetted() -> None:
    """The implied truth effect: the criterion on an unlabelled post rises with the share
    of labelled posts in the reader's feed (here one of two)."""
    obs = world(role=Role.VERIFIER, veracity=Veracity.FALSE, stance=0.5, attitude=0.5)
    content = obs.content
    content.add(np.array([N]), np.array([Action.POST]), np.array([-1]), np.array([0]),
                np.array([0.5]), step=0, news=np.array([0]), veracity=np.array([Veracity.FALSE]))
    content.column("label")[0] = Label.FACT_CHECK
    agents = np.arange(N)
    feed = Feed(agents, np.arange(0, 2 * N + 1, 2), np.tile([0, 1], N), np.ones(2 * N, np.int64))
    obs = Observation(1, feed, content, obs.population, obs.state, obs.graph)

    def flagged_unlabelled(implied: float) -> float:
        params = SocialBehavior(verifier_discernment=2.5, implied_truth=implied)
        acts = SocialHeuristic(params).decide(obs, np.random.default_rng(8)).actions
        return float(((acts.action == Action.FLAG) & (acts.post == 1)).sum() / N)

    # criterion 1.5 + 0.5 (the reader agrees) + implied * 0.5 (half the feed labelled)
    assert within(flagged_unlabelled(0.0), float(stats.norm.sf(2.0 - 2.5)))
    assert within(flagged_unlabelled(2.0), float(stats.norm.sf(3.0 - 2.5)))
