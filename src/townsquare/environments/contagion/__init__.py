"""The classic diffusion and opinion models (cascades, thresholds, SIR, rumours, voter,
Deffuant) as an environment whose agents follow fixed rules.

Each model registers its ``[behavior]`` config and factory here; the models
themselves (compiled step loops) load when a run builds one.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from townsquare.core.registry import register_classic_model
from townsquare.environments.contagion.config import (
    Deffuant,
    IndependentCascade,
    LinearThreshold,
    MakiThompson,
    SIREpidemic,
    Voter,
)


def _models() -> ModuleType:
    """The models module (numba kernels): imported when a run needs a model, not to validate."""
    from townsquare.environments.contagion import models

    return models


def _cascade(c: IndependentCascade) -> Any:
    return _models().IndependentCascadeModel(c.p, c.seeds)


def _threshold(c: LinearThreshold) -> Any:
    return _models().LinearThresholdModel(c.threshold_low, c.threshold_high, c.seeds)


def _sir(c: SIREpidemic) -> Any:
    return _models().SIREpidemicModel(c.beta, c.gamma, c.seeds)


def _rumour(c: MakiThompson) -> Any:
    return _models().MakiThompsonModel(c.beta, c.gamma, c.stifle, c.seeds)


def _voter(c: Voter) -> Any:
    return _models().VoterModel(c.initial_share, c.activity)


def _deffuant(c: Deffuant) -> Any:
    return _models().DeffuantModel(c.epsilon, c.mu, c.activity)


# status codes: see models.Status (0 inactive/ignorant, 1 active/spreader, 2 stifler)
register_classic_model("independent_cascade", IndependentCascade, _cascade,
                       statuses=("inactive", "active"), adopted=1)
register_classic_model("linear_threshold", LinearThreshold, _threshold,
                       statuses=("inactive", "active"), adopted=1)
register_classic_model("sir", SIREpidemic, _sir,
                       statuses=("susceptible", "infected", "recovered"), adopted=1)
register_classic_model("maki_thompson", MakiThompson, _rumour,
                       statuses=("ignorant", "spreader", "stifler"), adopted=1)
register_classic_model("voter", Voter, _voter, statuses=("opinion_0", "opinion_1"))
register_classic_model("deffuant", Deffuant, _deffuant)
