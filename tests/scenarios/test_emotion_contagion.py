"""S^3: an event shifts emotions, the shift spreads beyond those hit, and it decays."""

from __future__ import annotations

from pathlib import Path

from scenario_replicates import replicate

from statcheck import paired_ci
from townsquare.run import Run

SHOCK = 10


def trajectory(run: Run) -> tuple[float, ...]:
    """Mean valence before the event, at its lowest after it, and at the end, per group."""
    emotions = run.emotions()
    hit = run.agents().set_index("agent")["leaning"] >= 0.3
    emotions["hit"] = hit.loc[emotions["agent"]].to_numpy()
    valence = emotions.pivot_table(index="step", columns="hit", values="valence")
    out = []
    for group in (True, False):
        series = valence[group]
        out += [series.loc[:SHOCK - 1].mean(), series.loc[SHOCK:].min(), series.iloc[-1]]
    population = run.metrics()["arousal_mean"]
    out += [population.loc[:SHOCK - 1].mean(), population.loc[SHOCK:].max(), population.iloc[-1]]
    return tuple(out)


def test_event_emotion_spreads_and_decays(tmp_path: Path) -> None:
    values = replicate("emotion-contagion", {"event": {}}, range(1, 7), trajectory, tmp_path,
                       base={"population.size": 1000, "snapshots.max_agents": 1000})["event"]
    hit_before, hit_low, hit_end, other_before, other_low, other_end = values[:, :6].T
    aro_before, aro_peak, aro_end = values[:, 6:].T
    assert paired_ci(hit_low, hit_before)[2] < -0.3  # the event itself
    assert paired_ci(other_low, other_before)[2] < 0  # contagion to those it did not hit
    assert paired_ci(aro_peak, aro_before)[1] > 0
    # decay: by the end every curve is back above (valence) or below (arousal) its extreme
    assert paired_ci(hit_end, hit_low)[1] > 0
    assert paired_ci(other_end, other_low)[1] > 0
    assert paired_ci(aro_end, aro_peak)[2] < 0
    assert paired_ci(hit_end, hit_before)[2] < 0  # not fully recovered within the run
