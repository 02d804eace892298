"""MOSAIC: every moderation strategy reduces the reach of false news versus none."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_replicates import paired_ci, replicate, summary_of

SEEDS = range(1, 7)


@pytest.mark.parametrize("strategy", ["fact_check", "community_notes", "hybrid"])
def test_moderation_reduces_false_reach(strategy: str, tmp_path: Path) -> None:
    arms = {s: {"platform.moderation.strategy": s} for s in ("none", strategy)}
    values = replicate("misinfo-moderation", arms, SEEDS, summary_of("reach_false", "reach_true"),
                       tmp_path, base={"population.size": 2000})
    mean, low, high = paired_ci(values[strategy][:, 0], values["none"][:, 0])
    assert high < 0, (strategy, mean, low, high)
    # true news is not moderated: its reach does not fall (it gains the attention freed)
    mean, low, high = paired_ci(values[strategy][:, 1], values["none"][:, 1])
    assert low > -50, (mean, low, high)
