"""GABM: the friendship paradox holds on the grown network, and weak ties drive it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scenario_replicates import replicate, summary_of

from statcheck import paired_ci
from townsquare.measure.network_stats import friendship_paradox
from townsquare.run import Run


def test_paradox_holds_and_is_stronger_on_weak_ties(tmp_path: Path) -> None:
    keys = ("friendship_paradox_share", "paradox_weak_ties", "paradox_strong_ties")
    values = replicate("friendship-paradox", {"grown": {}}, range(1, 7), summary_of(*keys),
                       tmp_path)["grown"]
    share, weak, strong = values.T
    assert paired_ci(share, np.full(len(share), 0.5))[1] > 0  # most agents are outnumbered
    mean, low, high = paired_ci(weak, strong)
    assert low > 0, (mean, low, high)


def _rise(run: Run) -> float:
    """The paradox on the grown graph minus on the initial one (the run's first edges)."""
    edges = run.edges()
    initial = friendship_paradox(edges["src"], edges["dst"], len(run.agents()),
                                 directed=True)["fraction_paradox"]
    return float(run.summary()["friendship_paradox_share"] - initial)


def test_the_rise_of_the_paradox_comes_from_popularity_driven_follows(tmp_path: Path) -> None:
    """docs/scenarios.md: the paradox rises as the network grows, and the rise is carried by
    popularity_weight (homophily follows of original authors alone do not raise it)."""
    rise = replicate("friendship-paradox",
                     {"shipped": {}, "no popularity": {"behavior.popularity_weight": 0.0}},
                     range(1, 6), _rise, tmp_path, base={"population.size": 1000})
    assert paired_ci(rise["shipped"], np.zeros(5))[1] > 0  # the paradox rises
    assert paired_ci(rise["shipped"], rise["no popularity"])[1] > 0  # popularity carries it
    assert abs(rise["no popularity"].mean()) < 0.01  # and without it, barely moves


def test_homophily_follows_of_original_authors_add_ties(tmp_path: Path) -> None:
    """With a feed of followees only, following a repost's author is a no-op; following its
    original author is not (the oddity of identical knock-outs, docs/scenarios.md)."""
    base = {"population.size": 1000, "behavior.popularity_weight": 0.0}
    arms = {"original": {}, "reposter": {"behavior.follow_original_author": False}}
    edges = replicate("friendship-paradox", arms, range(1, 5), summary_of("follow_edges"),
                      tmp_path, base=base)
    initial = replicate("friendship-paradox", {"none": {"behavior.follow_rate": 0.0}},
                        range(1, 5), summary_of("follow_edges"), tmp_path, base=base)["none"]
    assert np.array_equal(edges["reposter"], initial)  # every follow was already a tie
    assert paired_ci(edges["original"][:, 0], initial[:, 0])[1] > 0
