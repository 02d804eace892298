"""Value types and the base class shared by every scenario section, wherever it is defined."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from townsquare.core.registry import RECOMMENDERS

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Stance = Annotated[float, Field(ge=-1.0, le=1.0)]
PositiveInt = Annotated[int, Field(ge=1)]


def _registered_recommender(name: str) -> str:
    if name not in RECOMMENDERS:
        raise ValueError(f"unknown recommender '{name}' (known: {', '.join(RECOMMENDERS)})")
    return name


Recommender = Annotated[str, AfterValidator(_registered_recommender), RECOMMENDERS]
"""A recommender's name: one registered with ``register_recommender`` (core/registry.py)."""


class Role(StrEnum):
    """FUSE's four agent roles."""

    SPREADER = "spreader"
    COMMENTATOR = "commentator"
    VERIFIER = "verifier"
    BYSTANDER = "bystander"


ROLES: list[Role] = list(Role)
"""The roles in code order (a role's index is its stored code)."""


# out-of-network candidates drawn per active agent and step: larger only exhausts memory
MAX_OUT_OF_NETWORK = 10_000
# posts in one agent's feed per step: larger only exhausts memory
MAX_FEED_LENGTH = 10_000

Name = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
