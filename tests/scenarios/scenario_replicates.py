"""Replicated runs of a built-in scenario under several arms (intervals: ``statcheck``).

Every arm runs with the same seeds (common random numbers), so arm differences
are paired per seed and their t-interval is narrow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from townsquare.engine import Simulation
from townsquare.run import Run
from townsquare.scenario import Scenario

# Tests need neither checkpoints nor per-agent snapshots unless they say so.
FAST: dict[str, Any] = {"checkpoint_every": 0, "snapshots.max_agents": 0}


def replicate(
    name: str,
    arms: Mapping[str, Mapping[str, Any]],
    seeds: Iterable[int],
    measure: Callable[[Run], float | tuple[float, ...]],
    out: Path,
    base: Mapping[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """``measure`` of each arm's run per seed: arm -> array (seeds, values...)."""
    scenario = Scenario.load(name).with_overrides({**FAST, **(base or {})})
    results: dict[str, np.ndarray] = {}
    for arm, overrides in arms.items():
        values = []
        for seed in seeds:
            run_scenario = scenario.with_overrides({**overrides, "seed": seed})
            run_dir = out / f"{name}-{arm}-{seed}"
            values.append(measure(Simulation(run_scenario, run_dir=run_dir).run()))
        results[arm] = np.asarray(values, dtype=np.float64)
    return results


def summary_of(*keys: str) -> Callable[[Run], tuple[float, ...]]:
    """A measure reading summary values."""

    def measure(run: Run) -> tuple[float, ...]:
        summary = run.summary()
        return tuple(float(summary[k]) for k in keys)

    return measure
