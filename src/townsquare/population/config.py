"""Who the agents are: ``[population]`` in a scenario (sampled personas or a file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, model_validator

from townsquare.scenario_types import PositiveInt, Probability, Role, Section, Stance


class BetaDist(Section):
    """A Beta(a, b) distribution for a quantity in [0, 1]."""

    a: Annotated[float, Field(gt=0)] = Field(default=2.0, description="first shape parameter")
    b: Annotated[float, Field(gt=0)] = Field(default=5.0, description="second shape parameter")

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)


class Archetype(Section):
    """A kind of community member (Social Simulacra): a share of agents with one persona."""

    name: str = Field(min_length=1, description="short name, stored per agent")
    share: Annotated[float, Field(gt=0)] = Field(description="weight (normalised over archetypes)")
    description: str = Field(default="", description="persona text given to LLM agents")
    leaning: Stance = Field(default=0.0, description="centre of the members' leaning")
    leaning_spread: Annotated[float, Field(gt=0, le=2)] = Field(
        default=0.15, description="standard deviation of leaning around the centre"
    )
    activity: BetaDist | None = Field(
        default=None, description="activity distribution (default: population.activity)"
    )
    susceptibility: BetaDist | None = Field(
        default=None, description="susceptibility distribution (default: population's)"
    )
    role: Role | None = Field(default=None, description="fixed role (default: population.roles)")
    arousal: BetaDist | None = Field(
        default=None,
        description="resting arousal (temperament): the members start there and relax back "
        "to it (default: start from Beta(2, 6), relax to 0.2)",
    )


class PopulationConfig(Section):
    """Who the agents are: sampled from distributions or loaded from a file."""

    size: PositiveInt = Field(default=10_000, description="number of agents")
    source: Path | None = Field(
        default=None,
        description="CSV or Parquet file of personas (columns: docs/personas.md); overrides "
        "sampling",
    )
    topics: list[str] = Field(
        default_factory=lambda: ["politics", "health", "science", "entertainment"],
        min_length=1,
        description="topics agents hold attitudes and interests about",
    )
    age_groups: dict[str, Probability] = Field(
        default_factory=lambda: {"18-29": 0.22, "30-49": 0.34, "50-64": 0.26, "65+": 0.18},
        description="age group -> weight (normalised)",
    )
    leaning_polarization: Probability = Field(
        default=0.3, description="0 = unimodal centred leaning, 1 = two opposed camps"
    )
    leaning_spread: Annotated[float, Field(gt=0, le=2)] = Field(
        default=0.35, description="standard deviation of leaning around each camp"
    )
    activity: BetaDist = Field(
        default_factory=lambda: BetaDist(a=1.5, b=8.0),
        description="chance an agent is active in a step, Beta-distributed",
    )
    susceptibility: BetaDist = Field(
        default_factory=lambda: BetaDist(a=2.0, b=4.0),
        description="1 - skepticism: how easily shared items are believed",
    )
    interest_concentration: Annotated[float, Field(gt=0)] = Field(
        default=0.6, description="Dirichlet concentration of interests over topics"
    )
    roles: dict[Role, Probability] = Field(
        default_factory=lambda: {
            Role.SPREADER: 0.1,
            Role.COMMENTATOR: 0.2,
            Role.VERIFIER: 0.1,
            Role.BYSTANDER: 0.6,
        },
        description="FUSE role -> weight (normalised)",
    )
    community: str = Field(
        default="", description="what the community is for and its rules (for LLM agents)"
    )
    archetypes: list[Archetype] = Field(
        default_factory=list,
        description="member kinds; when given, each agent is drawn from one (Social Simulacra)",
    )

    @model_validator(mode="after")
    def _weights_sum_positive(self) -> Self:
        for name in ("age_groups", "roles"):
            weights = getattr(self, name)
            if not weights or sum(weights.values()) <= 0:
                raise ValueError(f"{name} needs at least one positive weight")
        names = [a.name for a in self.archetypes]
        if len(set(names)) < len(names):
            raise ValueError(f"archetype names must be unique, got {names}")
        return self
