"""Build the market and its traders from ``[environment] kind = "market"``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from townsquare.behavior.composite import ComposedBehavior
from townsquare.environments.market.config import MarketConfig
from townsquare.environments.market.environment import MarketEnvironment
from townsquare.environments.market.heuristic import HeuristicTraders
from townsquare.environments.market.llm import LLMTraders

if TYPE_CHECKING:
    from townsquare.world import WorldParts


def build(config: MarketConfig, parts: WorldParts) -> tuple[MarketEnvironment, ComposedBehavior]:
    """The market on the social platform; traders decide beside the social behaviour.

    With ``[llm]``, the agents the LLM layer drives trade through a model too.
    """
    scenario = parts.scenario
    environment = MarketEnvironment(config, scenario, parts.platform, parts.streams)
    traders: Any = HeuristicTraders(config)
    if scenario.llm is not None:
        traders = LLMTraders(scenario.llm, parts.population, config, parts.llm_agents, traders,
                             scenario.seed)
    return environment, ComposedBehavior(parts.social, traders)
