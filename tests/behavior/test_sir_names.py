"""`model = "sir"` is the SIR epidemic a user expects; the rumour model has its own name.

Issue 21: `sir` used to run Maki–Thompson rumour dynamics by default (final size 0.0012
where NDlib's SIR gave 0.318 on the same graph). The epidemic's final size is checked here
against percolation theory through the whole scenario path, not only the model class.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from townsquare import Scenario, Simulation
from townsquare.environments.contagion.models import (
    MakiThompsonModel,
    SIREpidemicModel,
    from_config,
)
from townsquare.errors import ScenarioError

N, MEAN_DEGREE, BETA, GAMMA, SEEDS = 5000, 4.0, 0.2, 0.3, 10


def scenario(model: str, seed: int, out: Path, **extra: object) -> Scenario:
    return Scenario.from_dict({
        "name": f"{model}-check", "seed": seed, "steps": 300, "output_dir": str(out),
        "population": {"size": N},
        "network": {"kind": "erdos_renyi", "mean_degree": MEAN_DEGREE, "reciprocity": 1.0},
        "behavior": {"model": model, "beta": BETA, "gamma": GAMMA, "seeds": SEEDS, **extra},
    })


def epidemic_final_size() -> float:
    """Share ever infected on a large Erdős–Rényi graph: 1 - z = (1 - z0) exp(-c T z).

    A spreader tells a given neighbour with T = beta / (beta + gamma - beta gamma) over its
    geometric spreading time; infections of one agent come from distinct neighbours, so its
    chance of escaping depends on T alone (Kenah & Robins 2007).
    """
    t = BETA / (BETA + GAMMA - BETA * GAMMA)
    z0 = SEEDS / N
    return brentq(lambda z: 1 - z - (1 - z0) * np.exp(-MEAN_DEGREE * t * z), 1e-3, 1.0)


def test_sir_runs_the_epidemic_with_the_final_size_of_theory(tmp_path: Path) -> None:
    finals = np.array([Simulation(scenario("sir", seed, tmp_path)).run().summary()["final_size"]
                       for seed in range(8)])
    se = finals.std(ddof=1) / np.sqrt(len(finals))
    theory = epidemic_final_size()  # 0.7409
    assert abs(finals.mean() - theory) < 3 * se + 1e-3, (finals, theory)


def test_the_rumour_model_is_called_by_its_name_and_differs(tmp_path: Path) -> None:
    rumour = scenario("maki_thompson", 0, tmp_path)
    assert isinstance(from_config(rumour.behavior), MakiThompsonModel)
    assert isinstance(from_config(scenario("sir", 0, tmp_path).behavior), SIREpidemicModel)
    final = Simulation(rumour).run().summary()["final_size"]
    assert final < 0.1 * epidemic_final_size()  # the comparison the old default trapped


def test_sir_with_a_rumour_field_is_refused_with_a_message() -> None:
    text = '[behavior]\nmodel = "sir"\nbeta = 0.5\nstifle = 0.8\n'
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(text, source="study.toml")
    message = str(caught.value)
    assert "study.toml" in message and "behavior" in message
    assert 'model = "maki_thompson"' in message


def test_the_old_explicit_spelling_still_means_the_rumour(tmp_path: Path) -> None:
    # runs stored before the rename say model = "sir", mechanism = "maki_thompson"
    old = Scenario.from_toml('[behavior]\nmodel = "sir"\nmechanism = "maki_thompson"\n'
                             'beta = 0.7\nstifle = 0.5\n')
    assert old.behavior.model == "maki_thompson"
    assert (old.behavior.beta, old.behavior.stifle) == (0.7, 0.5)
    assert Scenario.from_toml(old.to_toml()).behavior == old.behavior
    epidemic = Scenario.from_toml('[behavior]\nmodel = "sir"\nmechanism = "epidemic"\n')
    assert isinstance(from_config(epidemic.behavior), SIREpidemicModel)
