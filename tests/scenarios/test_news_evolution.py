"""FUSE: retold versions drift further from the true story with every retelling."""

from __future__ import annotations

from pathlib import Path

from scenario_replicates import paired_ci, replicate, summary_of

KEYS = ("deviation_story_g1", "deviation_story_g2", "deviation_story_g3", "versions_story",
        "deviation_story")


def test_deviation_grows_with_generation_and_scale_free_networks_retell_more(
    tmp_path: Path,
) -> None:
    arms = {"clustered": {}, "scale_free": {"network.kind": "barabasi_albert"}}
    values = replicate("news-evolution", arms, range(1, 7), summary_of(*KEYS), tmp_path)
    for arm, v in values.items():
        g1, g2, g3 = v[:, 0], v[:, 1], v[:, 2]
        assert paired_ci(g2, g1)[1] > 0, arm
        assert paired_ci(g3, g2)[1] > 0, arm
    # Same number of ties, but hubs pass the story on to more retellers.
    mean, low, high = paired_ci(values["scale_free"][:, 3], values["clustered"][:, 3])
    assert low > 0, (mean, low, high)
