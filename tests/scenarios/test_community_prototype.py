"""Social Simulacra: the prototyped community produces uncivil replies; a moderator cuts them."""

from __future__ import annotations

from pathlib import Path

from scenario_replicates import replicate, summary_of

from statcheck import assert_mean_above, paired_ci


def test_moderator_reduces_uncivil_share(tmp_path: Path) -> None:
    arms = {"unmoderated": {"interventions": []}, "moderated": {}}
    values = replicate("community-prototype", arms, range(1, 11),
                       summary_of("uncivil_share", "intervention_cost"), tmp_path)
    assert_mean_above(values["unmoderated"][:, 0], 0.02)  # the prototype shows incivility
    assert_mean_above(values["moderated"][:, 1], 0.0)  # and the moderator suspends someone
    mean, low, high = paired_ci(values["moderated"][:, 0], values["unmoderated"][:, 0])
    assert high < 0, (mean, low, high)
