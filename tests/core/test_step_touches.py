"""Step cost does not grow with history: a step touches the feed window, not every post.

Counted, not timed: the content store's touch counter (``townsquare.environments.social.touches``)
marks every post row that feeds, engagement, moderation and the store itself read
or write during a step, and any whole-column scan marks all of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from townsquare import Scenario, Simulation


def _touches_per_step(tmp_path: Path, steps: int = 100) -> list[dict[str, int]]:
    scenario = Scenario.load("default").with_overrides(
        {"population.size": 2000, "steps": steps, "seed": 5, "output_dir": str(tmp_path),
         "checkpoint_every": 0})
    sim = Simulation(scenario)
    content = sim.world.environment.content
    counter = content.track_touches()
    window = scenario.platform.feed.window
    rows: list[dict[str, int]] = []

    def record(step: int, metrics: dict[str, float]) -> None:
        posts = content.n
        first = int(np.searchsorted(content.step, step - window))  # first post in the window
        rows.append({"touched": counter.count(), "old": counter.count(below=first),
                     "window": posts - first, "history": posts, "scans": counter.full_scans})
        counter.reset()

    sim.run(on_step=record)
    return rows


def test_a_late_step_touches_no_more_posts_than_an_early_one(tmp_path: Path) -> None:
    rows = _touches_per_step(tmp_path)
    early, late = rows[10], rows[90]
    assert late["history"] > 8 * early["history"]  # the history did grow a lot
    assert all(r["scans"] == 0 for r in rows)  # no step scans a whole column
    # a step touches the window's posts plus at most one older story (root) per post
    assert all(r["touched"] <= r["window"] + r["old"] and r["old"] <= r["window"] for r in rows)
    # the posting rate itself drifts in this scenario (more posts per step later on), so
    # the counts are compared per post in the window: step 90 touches no more posts per
    # window post than step 10, up to the older roots a longer history offers (<= 15%)
    assert late["touched"] / late["window"] <= 1.15 * early["touched"] / early["window"]
    assert late["touched"] < 0.2 * late["history"]


def test_counting_is_off_by_default_and_counts_a_full_scan(tmp_path: Path) -> None:
    from townsquare.environments.social.content import ContentStore

    content = ContentStore()
    content.add(np.arange(5), np.zeros(5, np.int8), np.full(5, -1), np.zeros(5), np.zeros(5), 0)
    assert type(content.news) is np.ndarray  # plain views when not counting
    counter = content.track_touches()
    counter.reset()
    _ = content.author[np.array([1, 3])]
    assert counter.count() == 2 and counter.full_scans == 0
    _ = content.news >= 0
    assert counter.count() == 5 and counter.full_scans == 1


def test_community_notes_look_only_at_the_stories_flagged_this_step(tmp_path: Path) -> None:
    """Notes used to sum flags over every post each step (a whole-history scan)."""
    scenario = Scenario.load("misinfo-moderation").with_overrides(
        {"population.size": 2000, "steps": 25, "seed": 2, "output_dir": str(tmp_path),
         "checkpoint_every": 0, "platform.moderation.strategy": "community_notes",
         "platform.moderation.note_threshold": 2})
    sim = Simulation(scenario)
    counter = sim.world.environment.content.track_touches()
    scans: list[int] = []

    def record(step: int, metrics: dict[str, float]) -> None:
        scans.append(counter.full_scans)
        counter.reset()

    run = sim.run(on_step=record)
    notes = run.reader.query("SELECT COUNT(*) AS n FROM labels WHERE source = 'community_note'")
    assert notes["n"].iloc[0] > 0  # notes were attached
    assert scans[0] == 1 and not any(scans[1:])  # one count at the first step, then none
