"""Build the election and its voters from ``[environment] kind = "election"``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from townsquare.behavior.composite import ComposedBehavior
from townsquare.environments.election.config import ElectionConfig
from townsquare.environments.election.environment import ElectionEnvironment
from townsquare.environments.election.heuristic import HeuristicVoters
from townsquare.environments.election.llm import LLMVoters

if TYPE_CHECKING:
    from townsquare.world import WorldParts


def build(config: ElectionConfig,
          parts: WorldParts) -> tuple[ElectionEnvironment, ComposedBehavior]:
    """The election on the social platform; voters answer polls and vote beside the feed.

    With ``[llm]``, the agents the LLM layer drives vote through a model too.
    """
    scenario = parts.scenario
    environment = ElectionEnvironment(config, scenario, parts.platform, parts.streams)
    voters: Any = HeuristicVoters()
    if scenario.llm is not None:
        voters = LLMVoters(scenario.llm, parts.population, config, parts.llm_agents, voters,
                           scenario.seed)
    return environment, ComposedBehavior(parts.social, voters)
