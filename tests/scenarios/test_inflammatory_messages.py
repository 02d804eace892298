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
