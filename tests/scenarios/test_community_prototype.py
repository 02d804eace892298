"""Social Simulacra: the prototyped community produces uncivil replies; a moderator cuts them."""

from __future__ import annotations

from pathlib import Path

from scenario_replicates import paired_ci, replicate, summary_of


def test_moderator_reduces_uncivil_share(tmp_path: Path) -> None:
    arms = {"unmoderated": {"interventions": []}, "moderated": {}}
    values = replicate("community-prototype", arms, range(1, 11),
                       summary_of("uncivil_share", "intervention_cost"), tmp_path)
    assert (values["unmoderated"][:, 0] > 0.02).all()  # the prototype does show incivility
    assert (values["moderated"][:, 1] > 0).all()  # and the moderator does suspend someone
    mean, low, high = paired_ci(values["moderated"][:, 0], values["unmoderated"][:, 0])
    assert high < 0, (mean, low, high)
