"""Build the commons and its harvesters from ``[environment] kind = "commons"``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from townsquare.environments.commons.config import CommonsConfig
from townsquare.environments.commons.environment import CommonsEnvironment
from townsquare.environments.commons.heuristic import HeuristicHarvesters
from townsquare.environments.commons.llm import LLMHarvesters
from townsquare.errors import UserError

if TYPE_CHECKING:
    from townsquare.world import WorldParts


def build(config: CommonsConfig, parts: WorldParts) -> tuple[CommonsEnvironment, Any]:
    """The commons replaces the platform: harvesters talk and fish, nothing else.

    With ``[llm]``, the agents the LLM layer drives talk and fish through a model.
    """
    scenario = parts.scenario
    platform_only = [name for name in ("news", "interventions", "surveys")
                     if getattr(scenario, name)]
    if platform_only:
        raise UserError(f"environment.kind = 'commons' has no social platform; remove "
                        f"{', '.join(platform_only)} from the scenario")
    environment = CommonsEnvironment(config, scenario, parts.population, parts.graph,
                                     parts.streams)
    harvesters: Any = HeuristicHarvesters(config)
    if scenario.llm is not None:
        harvesters = LLMHarvesters(scenario.llm, parts.population, config, parts.llm_agents,
                                   harvesters, scenario.seed)
    parts.social.close()  # the platform's own model client is not used here
    return environment, harvesters
