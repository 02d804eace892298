"""AgentSociety: cross-cutting exposure leaves attitudes less polarized than homophilous."""

from __future__ import annotations

from pathlib import Path

from scenario_replicates import replicate, summary_of

from statcheck import paired_ci

CROSS = {"network.homophily": 0.5, "platform.feed.out_of_network": 5,
         "platform.feed.mix": {"random": 1.0}}


def test_cross_cutting_exposure_lowers_polarization(tmp_path: Path) -> None:
    values = replicate("polarization", {"homophilous": {}, "cross_cutting": CROSS}, range(1, 7),
                       summary_of("attitude_variance", "bimodality"), tmp_path)
    for column, name in enumerate(("attitude_variance", "bimodality")):
        mean, low, high = paired_ci(values["cross_cutting"][:, column],
                                    values["homophilous"][:, column])
        assert high < 0, (name, mean, low, high)
