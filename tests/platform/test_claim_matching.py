"""Fact-check claim matching on a hand-made content store.

A labelled item's rating spreads to posts that matching wrongly ties to it:
originals and quotes of *other* stories on the same topic, each with chance
``match_false_positive * (1 - |stance difference| / 2)``. Reposts, comments,
other topics and the rated item's own posts are never matched this way.
"""

from __future__ import annotations

import numpy as np
import pytest

from statcheck import mean_ci
from townsquare.core.actions import Action
from townsquare.environments.social.config import ModerationConfig
from townsquare.environments.social.content import ContentStore, Label, Veracity
from townsquare.environments.social.moderation import Moderator, match_claims

HEALTH, POLITICS = 0, 1


def _store() -> ContentStore:
    """Item 0 (false, health, stance 0.5), item 1 (true, health, stance -0.5),
    item 2 (true, politics, stance 0.5); each seeded once, then shared around."""
    c = ContentStore()
    seeds = c.add(np.array([0, 1, 2]), np.full(3, Action.POST), np.full(3, -1),
                  np.array([HEALTH, HEALTH, POLITICS]), np.array([0.5, -0.5, 0.5]), 0,
                  news=np.array([0, 1, 2]),
                  veracity=np.array([Veracity.FALSE, Veracity.TRUE, Veracity.TRUE]))
    kinds = [Action.QUOTE, Action.REPOST, Action.COMMENT]
    for parent in seeds:
        c.add(np.array([5, 6, 7]), np.array(kinds), np.full(3, parent), np.zeros(3, int),
              np.full(3, c.stance[parent]), 1)
    return c


def test_only_same_topic_originals_and_quotes_of_other_stories_are_matched() -> None:
    c = _store()
    matched = match_claims(c, np.array([0]), 0, 1.0, np.random.default_rng(0))
    # similarity 1 - |0.5 - (-0.5)| / 2 = 0.5 at chance 1: each candidate has an even chance,
    # so draw until both candidates have been seen and none outside them ever is
    seen: set[int] = set()
    rng = np.random.default_rng(1)
    for _ in range(200):
        seen |= set(match_claims(c, np.array([0]), 0, 1.0, rng).tolist())
    item1_own_text = {1, int(np.flatnonzero((c.news == 1) & (c.kind == Action.QUOTE))[0])}
    assert seen == item1_own_text
    assert set(matched.tolist()) <= item1_own_text
    assert len(match_claims(c, np.array([0]), 0, 0.0, rng)) == 0  # knocked out
    assert len(match_claims(c, np.array([0]), len(c), 1.0, rng)) == 0  # all screened


def test_match_rate_is_chance_times_stance_similarity() -> None:
    c = ContentStore()
    c.add(np.array([0, 1]), np.full(2, Action.POST), np.full(2, -1), np.zeros(2, int),
          np.array([0.6, 0.2]), 0, news=np.array([0, 1]),
          veracity=np.array([Veracity.FALSE, Veracity.TRUE]))
    n = 20_000
    c.add(np.arange(n), np.full(n, Action.QUOTE), np.full(n, 1), np.zeros(n, int),
          np.full(n, 0.2), 1)
    matched = match_claims(c, np.array([0]), 2, 0.3, np.random.default_rng(7))
    hits = np.zeros(n)
    hits[matched - 2] = 1
    expected = 0.3 * (1 - abs(0.6 - 0.2) / 2)
    mean, low, high = mean_ci(hits, level=0.999)
    assert low < expected < high, (mean, low, high, expected)


def test_moderator_labels_matched_posts_and_scores_them_by_their_own_story() -> None:
    c = _store()
    veracity = np.array([Veracity.FALSE, Veracity.TRUE, Veracity.TRUE], np.int8)
    config = ModerationConfig(strategy="fact_check", fact_check_coverage=1.0,
                              fact_check_sensitivity=1.0, fact_check_false_positive=0.0,
                              fact_check_delay=0, match_false_positive=1.0)
    hits = []
    for seed in range(40):
        store = _store()
        moderator = Moderator(config, veracity, np.zeros(3, np.int64),
                              np.random.default_rng(seed))
        record = moderator.moderate(store, 0)
        sources = np.array(record.source)
        matched = np.array(record.post)[sources == "fact_check_match"]
        assert set(np.array(record.post)[sources == "fact_check"].tolist()) == {0}
        assert np.all(store.news[matched] == 1)  # the other health story only
        assert np.all(store.label[matched] == Label.FACT_CHECK)
        assert moderator.verdicts["on_true"] == len(matched)
        assert moderator.verdicts["on_false"] == 1
        # posts added later are screened once, against every labelled item
        new = store.add(np.array([9]), np.array([Action.QUOTE]), np.array([1]),
                        np.zeros(1, int), np.array([-0.5]), 1)
        later = moderator.moderate(store, 1)
        assert set(later.post) <= set(new.tolist())
        assert moderator.moderate(store, 2).post == []
        hits.append(len(matched))
    assert mean_ci(hits)[1] > 0
    assert c.label.sum() == 0  # the shared fixture was never touched


def test_no_false_positives_from_matching_when_knocked_out() -> None:
    veracity = np.array([Veracity.FALSE, Veracity.TRUE, Veracity.TRUE], np.int8)
    config = ModerationConfig(strategy="fact_check", fact_check_coverage=1.0,
                              fact_check_sensitivity=1.0, fact_check_false_positive=0.0,
                              fact_check_delay=0, match_false_positive=0.0)
    store = _store()
    moderator = Moderator(config, veracity, np.zeros(3, np.int64), np.random.default_rng(0))
    moderator.moderate(store, 0)
    assert moderator.verdicts["on_true"] == 0
    assert moderator.verdicts["missed_false"] == 0


@pytest.mark.parametrize("coverage", [0.0, 1.0])
def test_misses_count_false_items_left_unlabelled_once_due(coverage: float) -> None:
    veracity = np.array([Veracity.FALSE, Veracity.TRUE, Veracity.TRUE], np.int8)
    config = ModerationConfig(strategy="fact_check", fact_check_coverage=coverage,
                              fact_check_sensitivity=1.0, fact_check_delay=2)
    moderator = Moderator(config, veracity, np.zeros(3, np.int64), np.random.default_rng(0))
    store = _store()
    moderator.moderate(store, 1)
    assert moderator.verdicts["missed_false"] == 0  # not due yet
    moderator.moderate(store, 2)
    assert moderator.verdicts["missed_false"] == (1 if coverage == 0.0 else 0)


def test_restored_moderator_screens_only_posts_it_has_not_screened() -> None:
    """A checkpoint keeps the screening cursor: no post is screened twice after resume."""
    veracity = np.array([Veracity.FALSE, Veracity.TRUE, Veracity.TRUE], np.int8)
    config = ModerationConfig(strategy="fact_check", fact_check_coverage=1.0,
                              fact_check_sensitivity=1.0, fact_check_false_positive=0.0,
                              fact_check_delay=0, match_false_positive=1.0)
    store = _store()
    first = Moderator(config, veracity, np.zeros(3, np.int64), np.random.default_rng(3))
    first.moderate(store, 0)
    restored = Moderator(config, veracity, np.zeros(3, np.int64), np.random.default_rng(99))
    restored.set_state(first.get_state())
    restored.rng.bit_generator.state = first.rng.bit_generator.state
    twin = ContentStore.from_state(store.get_state())
    for content in (store, twin):
        content.add(np.array([9]), np.array([Action.QUOTE]), np.array([1]), np.zeros(1, int),
                    np.array([-0.5]), 1)
    a, b = first.moderate(store, 1), restored.moderate(twin, 1)
    assert (a.post, a.source) == (b.post, b.source)
    assert set(b.post) <= {len(twin) - 1}
    # one draw per screened post: re-screening old posts would consume more of the stream
    assert first.rng.bit_generator.state == restored.rng.bit_generator.state
