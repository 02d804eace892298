"""MOSAIC: every moderation strategy reduces the reach of false news versus none."""

from __future__ import annotations

from pathlib import Path

from scenario_replicates import replicate, summary_of

from statcheck import paired_ci

STRATEGIES = ("none", "fact_check", "community_notes", "hybrid")


def test_each_strategy_reduces_false_reach_but_not_true_reach(tmp_path: Path) -> None:
    arms = {s: {"platform.moderation.strategy": s} for s in STRATEGIES}
    values = replicate("misinfo-moderation", arms, range(1, 7),
                       summary_of("reach_false", "reach_true"), tmp_path,
                       base={"population.size": 1500, "steps": 20})
    none = values["none"]
    for strategy in STRATEGIES[1:]:
        mean, low, high = paired_ci(values[strategy][:, 0], none[:, 0])
        assert high < 0, (strategy, mean, low, high)
        # true items are never labelled, so their reach does not fall
        mean, low, high = paired_ci(values[strategy][:, 1], none[:, 1])
        assert low > -0.02 * 1500, (strategy, mean, low, high)
    # notes come from flags within a step or two, fact checks after a fixed delay
    mean, low, high = paired_ci(values["community_notes"][:, 0], values["fact_check"][:, 0])
    assert high < 0, (mean, low, high)
