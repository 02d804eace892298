"""FUSE: retold versions drift further from the true story with each retelling and over time."""

from __future__ import annotations

from pathlib import Path

from scenario_replicates import replicate

from statcheck import paired_ci
from townsquare.run import Run


def drift(run: Run) -> tuple[float, ...]:
    """Deviation by generation at the end, and of all versions so far at steps 8 and 29."""
    metrics = run.metrics()
    final = metrics.iloc[-1]
    return (final["deviation_story_g1"], final["deviation_story_g2"],
            final["deviation_story_g3"], metrics.loc[8, "deviation_story"],
            final["deviation_story"])


def test_deviation_grows_with_each_retelling_and_over_time(tmp_path: Path) -> None:
    values = replicate("news-evolution", {"clustered": {}}, range(1, 11), drift,
                       tmp_path)["clustered"]
    g1, g2, g3, early, late = values.T
    assert paired_ci(g2, g1)[1] > 0
    assert paired_ci(g3, g2)[1] > 0
    assert paired_ci(late, early)[1] > 0
