"""default: with no veracity bonus, which news spreads further follows from the content.

The true report agrees with more readers than the false rumour, so it reaches
further; the rumour's novelty and alarm narrow the gap as their weights grow
(docs/scenarios.md, "default", from bench/knockouts.py).
"""

from __future__ import annotations

from pathlib import Path

from scenario_replicates import replicate, summary_of

from statcheck import assert_mean_below, paired_ci

BASE = {"population.size": 2000, "steps": 20}


def test_agreement_not_veracity_decides_which_news_reaches_further(tmp_path: Path) -> None:
    arms = {"shipped": {}, "alarm counts more": {"behavior.arousal_appeal": 3.0},
            "agreement off": {"behavior.stance_weight": 0.0}}
    values = replicate("default", arms, range(1, 9), summary_of("reach_rumour", "reach_report"),
                       tmp_path, BASE)
    gap = {arm: v[:, 0] - v[:, 1] for arm, v in values.items()}  # false - true, per seed
    assert_mean_below(gap["shipped"], 0.0)  # the report reaches further
    # the rumour's alarm narrows the gap, and without agreement most of it goes
    assert paired_ci(gap["alarm counts more"], gap["shipped"])[1] > 0
    assert paired_ci(gap["agreement off"], gap["shipped"])[1] > 0
