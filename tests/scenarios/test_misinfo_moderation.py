"""MOSAIC: every moderation strategy cuts the reach of false news versus none, at a cost.

Moderation errs as its parts do: fact checkers label some true items, and community
notes follow agents' flags, which land on true stories too (judgement is signal
detection with partisan doubt). So notes also cost true news some reach; the test
asserts that false news loses a larger share of its reach than true news does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scenario_replicates import replicate, summary_of

from statcheck import assert_mean_above, paired_ci
from townsquare import Scenario, Simulation
from townsquare.core.actions import Action
from townsquare.run import Run

STRATEGIES = ("none", "fact_check", "community_notes", "hybrid")


@pytest.mark.slow  # 4 arms x 10 seeds at the scenario's own size, ~1-2 min
def test_each_strategy_cuts_false_reach_more_than_true_reach(tmp_path: Path) -> None:
    arms = {s: {"platform.moderation.strategy": s} for s in STRATEGIES}
    values = replicate("misinfo-moderation", arms, range(1, 11),
                       summary_of("reach_false", "reach_true", "labels_on_true"), tmp_path)
    none = values["none"]
    for strategy in STRATEGIES[1:]:
        arm = values[strategy]
        mean, low, high = paired_ci(arm[:, 0], none[:, 0])
        assert high < 0, (strategy, mean, low, high)
        # relative to what each had, false news loses more reach than true news
        lost_false = 1 - arm[:, 0] / none[:, 0]
        lost_true = 1 - arm[:, 1] / none[:, 1]
        mean, low, high = paired_ci(lost_false, lost_true)
        assert low > 0, (strategy, mean, low, high)
    # notes come from flags within a step or two, fact checks after a fixed delay
    mean, low, high = paired_ci(values["community_notes"][:, 0], values["fact_check"][:, 0])
    assert high < 0, (mean, low, high)
    # and notes err: agents flag true stories too, so some notes land on them
    assert_mean_above(values["community_notes"][:, 2], 0.0)


def test_moderation_mistakes_are_recorded_in_the_run_database(tmp_path: Path) -> None:
    scenario = Scenario.load("misinfo-moderation").with_overrides({
        "platform.moderation.strategy": "hybrid", "population.size": 1500, "steps": 12,
        "output_dir": str(tmp_path)})
    run = Simulation(scenario).run()
    labels = run.labels()
    veracity = run.posts().set_index("post_id").loc[labels["post"], "veracity"].to_numpy()
    summary = run.summary()
    assert summary["labels_on_true"] == (veracity == 1).sum()  # false positives
    assert summary["labels_on_false"] == (veracity == 2).sum()
    assert summary["label_precision"] == pytest.approx(
        (veracity == 2).sum() / np.isin(veracity, [1, 2]).sum())
    # the agents' flags, which community notes follow, are scored the same way
    flags = run.reader.query("SELECT p.veracity FROM events e JOIN posts p "
                             f"ON e.post = p.post_id WHERE e.action = {int(Action.FLAG)}")
    assert summary["flags_on_true"] == (flags["veracity"] == 1).sum()
    assert summary["flags_on_false"] == (flags["veracity"] == 2).sum()
    assert summary["flags_on_true"] > 0  # readers mistake true stories for false ones


def _fact_check_mistakes(run: Run) -> tuple[float, float]:
    """Labels on true stories (summary) and those of them put there by claim matching."""
    labels = run.labels()
    posts = run.posts().set_index("post_id")
    matched = labels[labels["source"] == "fact_check_match"]["post"]
    return (float(run.summary()["labels_on_true"]),
            float((posts.loc[matched, "veracity"] == 1).sum()))


@pytest.mark.slow  # 2 arms x 10 seeds at the scenario's own size, ~1 min
def test_fact_checks_mislabel_true_stories_through_claim_matching(tmp_path: Path) -> None:
    arms = {"fact_check": {"platform.moderation.strategy": "fact_check"},
            "no matching": {"platform.moderation.strategy": "fact_check",
                            "platform.moderation.match_false_positive": 0.0}}
    values = replicate("misinfo-moderation", arms, range(1, 11), _fact_check_mistakes, tmp_path)
    shipped, knocked = values["fact_check"], values["no matching"]
    assert_mean_above(shipped[:, 0], 0.0)  # fact checks record labels on true stories
    assert_mean_above(shipped[:, 1], 0.0)  # and matching puts them there
    assert knocked[:, 1].sum() == 0  # the knock-out removes matching (a deterministic switch)
    mean, low, high = paired_ci(shipped[:, 0], knocked[:, 0])
    assert low > 0, (mean, low, high)  # labels on true stories fall without matching
