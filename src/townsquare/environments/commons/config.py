"""Settings of the commons: ``[environment]`` with ``kind = "commons"`` in a scenario."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from townsquare.scenario_types import Positive, Probability, Section


class Beta(Section):
    """A Beta(a, b) distribution for a per-agent trait in [0, 1]."""

    a: Positive = Field(default=2.0, description="first shape parameter")
    b: Positive = Field(default=5.0, description="second shape parameter")


class CommonsConfig(Section):
    """A shared renewable resource harvested each step (GovSim, "Cooperate or Collapse").

    The stock regrows logistically; the sustainable catch leaves half the
    capacity (the maximum-yield stock), which is GovSim's threshold. Agents
    announce proposed catches in a discussion round, move toward the norm they
    hear, then harvest; nobody is told the sustainable catch (see
    :mod:`townsquare.environments.commons.heuristic`). The society collapses when the stock
    falls below
    ``collapse_level`` of capacity.
    """

    kind: Literal["commons"] = Field(description="selects this environment")
    capacity: Positive = Field(default=1000.0, description="carrying capacity K (e.g. tons)")
    initial_stock: Annotated[float, Field(gt=0, le=1)] = Field(
        default=1.0, description="starting stock as a share of capacity"
    )
    growth_rate: Annotated[float, Field(gt=0, le=3)] = Field(
        default=1.0, description="logistic growth rate r: stock x regrows by r x (1 - x / K)"
    )
    collapse_level: Annotated[float, Field(ge=0, lt=0.5)] = Field(
        default=0.05, description="share of capacity below which the resource has collapsed"
    )
    greed: Beta = Field(
        default_factory=Beta,
        description="how far each agent's intended catch goes beyond its sustainable share, "
        "toward its per-capita share of the whole stock (0: sustainable, 1: all of it)",
    )
    conformity: Probability = Field(
        default=0.5,
        description="how far an uninformed agent moves from its intention toward the norm (the "
        "mean proposal it hears), and its chance per warning heard to learn the replacement "
        "catch (no source; sensitivity in docs/scenarios.md)",
    )
    attention: Probability = Field(
        default=0.1,
        description="chance per round that an agent who sees the stock fall works out the "
        "replacement catch (what grew back after the last catch) and proposes at most that "
        "(no source; sensitivity in docs/scenarios.md)",
    )
    discussion: Literal["all", "followees"] = Field(
        default="all",
        description="whose announcements an agent hears: everyone's (a town hall) or only "
        "the accounts it follows",
    )
    tell_sustainable: bool = Field(
        default=True,
        description="LLM agents are told the sustainable share (GovSim's universalization hint)",
    )
    messages_shown: Annotated[int, Field(ge=0)] = Field(
        default=10, description="last round's discussion messages shown to an LLM agent"
    )
