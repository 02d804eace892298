"""Small value types shared by the scenario sections (kept apart to avoid import cycles)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Stance = Annotated[float, Field(ge=-1.0, le=1.0)]
PositiveInt = Annotated[int, Field(ge=1)]
Recommender = Literal["chronological", "popularity", "engagement", "interest", "random"]


class Role(StrEnum):
    """FUSE's four agent roles."""

    SPREADER = "spreader"
    COMMENTATOR = "commentator"
    VERIFIER = "verifier"
    BYSTANDER = "bystander"

# out-of-network candidates drawn per active agent and step: larger only exhausts memory
MAX_OUT_OF_NETWORK = 10_000
