"""FPS: early debunks beat late ones; more frequent debunks work better at a rising cost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scenario_replicates import replicate, summary_of

from statcheck import paired_ci

SEEDS = range(1, 7)
BASE = {"population.size": 1000, "steps": 24}


def debunk(start: int, every: int, until: int | None = None) -> dict[str, object]:
    when = {"start": start, "every": every} | ({"until": until} if until is not None else {})
    return {"interventions": [{"kind": "debunk", "news": "fake", "when": when, "strength": 0.5,
                               "memory": 0.3, "target": {"share": 0.5}}]}


def test_early_debunks_beat_late_ones_at_the_same_cost(tmp_path: Path) -> None:
    arms = {"early": debunk(2, 4, until=10), "late": debunk(14, 4, until=22)}
    values = replicate("fake-news-attitudes", arms, SEEDS,
                       summary_of("avg_believers_fake", "intervention_cost"), tmp_path, BASE)
    early, late = values["early"], values["late"]
    assert np.allclose(early[:, 1], late[:, 1], rtol=0.1)  # three debunks each
    mean, low, high = paired_ci(early[:, 0], late[:, 0])
    assert high < 0, (mean, low, high)


@pytest.mark.slow  # 4 arms x 10 seeds, ~17 s
def test_frequency_trades_cost_against_effect(tmp_path: Path) -> None:
    arms = {"none": {"interventions": []}} | {f"every{k}": debunk(2, k) for k in (2, 4, 8)}
    values = replicate("fake-news-attitudes", arms, SEEDS,
                       summary_of("avg_believers_fake", "intervention_cost"), tmp_path, BASE)
    believers = {arm: v[:, 0] for arm, v in values.items()}
    cost = {arm: v[:, 1] for arm, v in values.items()}
    for often, rarely in (("every2", "every4"), ("every4", "every8"), ("every8", "none")):
        assert paired_ci(believers[often], believers[rarely])[2] < 0, (often, rarely)
        assert paired_ci(cost[often], cost[rarely])[1] > 0, (often, rarely)
    # diminishing returns: believers removed per unit of cost fall as debunks get frequent
    per_cost = {arm: (believers["none"] - believers[arm]) / cost[arm]
                for arm in ("every2", "every4", "every8")}
    assert paired_ci(per_cost["every2"], per_cost["every4"])[2] < 0
    assert paired_ci(per_cost["every4"], per_cost["every8"])[2] < 0
