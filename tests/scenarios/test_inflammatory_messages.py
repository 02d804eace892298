"""AgentSociety: removing inflammatory posts and suspending spreaders both curb their reach."""

from __future__ import annotations

from pathlib import Path

from scenario_replicates import replicate, summary_of

from statcheck import paired_ci

ARMS = {
    "none": {},
    "removal": {"interventions": [{"kind": "remove", "content": {"inflammatory": True},
                                   "when": {"start": 2, "every": 1}}]},
    "suspension": {"interventions": [{"kind": "suspend",
                                      "target": {"sharers_of": "outrage", "share": 0.5},
                                      "when": {"start": 2, "every": 2}}]},
}


def test_removal_and_suspension_reduce_inflammatory_reach(tmp_path: Path) -> None:
    values = replicate("inflammatory-messages", ARMS, range(1, 7),
                       summary_of("reach_outrage", "sharers_outrage"), tmp_path)
    for arm in ("removal", "suspension"):
        for column, name in enumerate(("reach", "sharers")):
            mean, low, high = paired_ci(values[arm][:, column], values["none"][:, column])
            assert high < 0, (arm, name, mean, low, high)


def test_removal_works_through_the_definition_of_inflammatory(tmp_path: Path) -> None:
    """docs/scenarios.md: removal's effect is mechanical — the same message written in
    arousal 0.5 is not inflammatory, and removal then saves far less reach."""
    calm = [{"id": "outrage", "topic": "politics", "stance": 0.9, "arousal": 0.5,
             "veracity": "unverified", "text": "Take to the streets tonight.", "step": 0,
             "seeders": 10, "seeder_role": "spreader"}]
    arms = {"none": {}, "removal": ARMS["removal"], "calm none": {"news": calm},
            "calm removal": {**ARMS["removal"], "news": calm}}
    reach = replicate("inflammatory-messages", arms, range(1, 6), summary_of("reach_outrage"),
                      tmp_path, base={"population.size": 1000})
    saved = reach["none"][:, 0] - reach["removal"][:, 0]
    saved_calm = reach["calm none"][:, 0] - reach["calm removal"][:, 0]
    mean, low, high = paired_ci(saved, saved_calm)
    assert low > 0, (mean, low, high)
    assert paired_ci(0.25 * saved, saved_calm)[1] > 0  # under a quarter of it
