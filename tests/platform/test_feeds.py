"""Feeds: followed accounts' posts, one per story, social proof counted, top-k by recommender."""

from __future__ import annotations

import numpy as np

from townsquare.core.actions import Action
from townsquare.environments.social.config import FeedConfig
from townsquare.environments.social.content import ContentStore, Label
from townsquare.environments.social.feeds import build_feeds
from townsquare.network.graph import FollowGraph
from townsquare.population.config import PopulationConfig
from townsquare.population.model import sample_population


def small_world():
    # 0 follows 1, 2, 3; 4 follows 0
    graph = FollowGraph.from_edges(5, np.array([0, 0, 0, 4]), np.array([1, 2, 3, 0]))
    content = ContentStore()
    pop = sample_population(PopulationConfig(size=5, topics=["a", "b"]),
                            np.random.default_rng(0))
    # step 0: agent 1 posts story A (post 0), agent 3 posts story B (post 1)
    content.add(np.array([1, 3]), np.full(2, Action.POST), np.array([-1, -1]),
                np.array([0, 1]), np.array([0.5, -0.5]), step=0)
    # step 1: agent 2 reposts A (post 2), agent 0 posts C (post 3)
    content.add(np.array([2, 0]), np.array([Action.REPOST, Action.POST]), np.array([0, -1]),
                np.array([0, 0]), np.array([0.5, 0.1]), step=1)
    return graph, content, pop


def test_feed_shows_followed_posts_once_per_story_with_social_proof() -> None:
    graph, content, pop = small_world()
    feed = build_feeds(FeedConfig(length=10), graph, np.array([0, 4]), content, pop, 2,
                       np.random.default_rng(0))
    proof = feed.social_proof[feed.indptr[0]:feed.indptr[1]]
    seen0 = dict(zip(feed.of(0).tolist(), proof.tolist(), strict=True))
    # story A reached agent 0 twice (post 0 by 1, repost 2 by 2): newest post kept, proof 2
    assert seen0 == {2: 2, 1: 1}
    # agent 4 follows only agent 0: sees 0's own post, never its own posts
    assert feed.of(1).tolist() == [3]


def test_chronological_ranking_and_length_cap() -> None:
    graph, content, pop = small_world()
    feed = build_feeds(FeedConfig(length=1, mix={"chronological": 1.0}), graph,
                       np.array([0]), content, pop, 2, np.random.default_rng(0))
    assert feed.of(0).tolist() == [2]  # newest first


def test_window_and_removal_hide_posts() -> None:
    graph, content, pop = small_world()
    feed = build_feeds(FeedConfig(window=1), graph, np.array([0]), content, pop, 2,
                       np.random.default_rng(0))
    assert feed.of(0).tolist() == [2]  # step-0 post of story B is out of the window
    content.column("label")[0] = Label.REMOVED  # removing a root hides its reposts too
    feed = build_feeds(FeedConfig(length=10), graph, np.array([0]), content, pop, 2,
                       np.random.default_rng(0))
    assert feed.of(0).tolist() == [1]


def test_out_of_network_candidates_reach_non_followers() -> None:
    graph, content, pop = small_world()
    content.count("likes", np.array([1] * 50))
    feed = build_feeds(FeedConfig(out_of_network=3, mix={"popularity": 1.0}), graph,
                       np.array([2]), content, pop, 2, np.random.default_rng(0))
    assert 1 in feed.of(0).tolist()  # agent 2 follows nobody but sees the popular post
