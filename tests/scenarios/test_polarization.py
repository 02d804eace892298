"""AgentSociety: echo chambers polarize over time; cross-cutting exposure polarizes less.

Attitudes follow biased assimilation (Dandekar, Goel & Lee 2013): agreeing posts
weigh more than disagreeing ones. With plain averaging (b = 0) the echo chamber
depolarizes instead, which the last test checks, so the finding is carried by
the assimilation bias, a measured human tendency, not by a switch on the outcome.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scenario_replicates import replicate, summary_of

from statcheck import paired_ci
from townsquare.run import Run

CROSS = {"network.homophily": 0.5, "platform.feed.out_of_network": 5,
         "platform.feed.mix": {"random": 1.0}}


def variance_start_end(run: Run) -> tuple[float, float]:
    variance = run.metrics()["attitude_var"].to_numpy()
    return float(variance[0]), float(variance[-1])


def test_cross_cutting_exposure_lowers_polarization(tmp_path: Path) -> None:
    values = replicate("polarization", {"homophilous": {}, "cross_cutting": CROSS}, range(1, 7),
                       summary_of("attitude_variance", "bimodality"), tmp_path)
    for column, name in enumerate(("attitude_variance", "bimodality")):
        mean, low, high = paired_ci(values["cross_cutting"][:, column],
                                    values["homophilous"][:, column])
        assert high < 0, (name, mean, low, high)


def test_echo_chambers_polarize_over_time_only_with_biased_assimilation(tmp_path: Path) -> None:
    arms = {"biased": {}, "averaging": {"behavior.assimilation_bias": 0.0}}
    values = replicate("polarization", arms, range(1, 7), variance_start_end, tmp_path)
    growth = {arm: v[:, 1] - v[:, 0] for arm, v in values.items()}
    assert paired_ci(growth["biased"], np.zeros(6))[1] > 0  # the echo chamber polarizes
    assert paired_ci(growth["averaging"], np.zeros(6))[2] < 0  # plain averaging: it does not
