"""Build the environment and behaviour a scenario's ``[environment]`` table asks for.

The one place that maps an environment config to its classes (the world
calls :func:`compose` after building the social platform and behaviour as for
any scenario). With ``[llm]``, the agents the LLM layer drives decide their
trades, catches or votes through a model too; everyone else, and every
agent whose request fails, uses the heuristic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from townsquare.behavior.composite import ComposedBehavior
from townsquare.core.behavior import Behavior
from townsquare.core.environment import Environment
from townsquare.environments.market.config import CommonsConfig, ElectionConfig, MarketConfig
from townsquare.environments.social.platform import SocialPlatform
from townsquare.errors import UserError
from townsquare.network.graph import FollowGraph
from townsquare.population.model import Population
from townsquare.rng import RandomStreams
from townsquare.scenario import Scenario

Built = tuple[Environment[Any, Any], Behavior[Any, Any]]  # the composed environment's own types


def compose(
    scenario: Scenario, population: Population, graph: FollowGraph, streams: RandomStreams,
    platform: Environment, social: Behavior | None,
) -> Built:
    """The scenario's environment and behaviour, given the social platform and behaviour."""
    config = scenario.environment
    if not isinstance(platform, SocialPlatform) or social is None:
        raise UserError(f"environment.kind = '{getattr(config, 'kind', '?')}' needs the social "
                        "agents: set behavior.model = 'social' (the default)")
    builder = _BUILDERS[type(config)]
    return builder(config, scenario, population, graph, streams, platform, social)


def _market(config: MarketConfig, scenario: Scenario, population: Population,
            graph: FollowGraph, streams: RandomStreams, platform: SocialPlatform,
            social: Behavior) -> Built:
    from townsquare.environments.market.environment import MarketEnvironment
    from townsquare.environments.market.heuristic import HeuristicTraders

    environment = MarketEnvironment(config, scenario, platform, streams)
    traders: Any = HeuristicTraders(config)
    if scenario.llm is not None:
        from townsquare.environments.market.llm import LLMTraders

        traders = LLMTraders(scenario.llm, population, config, _llm_mask(social), traders,
                             scenario.seed)
    return environment, ComposedBehavior(social, traders)


def _commons(config: CommonsConfig, scenario: Scenario, population: Population,
             graph: FollowGraph, streams: RandomStreams, platform: SocialPlatform,
             social: Behavior) -> Built:
    from townsquare.environments.commons.environment import CommonsEnvironment
    from townsquare.environments.commons.heuristic import HeuristicHarvesters

    platform_only = [name for name in ("news", "interventions", "surveys")
                     if getattr(scenario, name)]
    if platform_only:
        raise UserError(f"environment.kind = 'commons' has no social platform; remove "
                        f"{', '.join(platform_only)} from the scenario")
    environment = CommonsEnvironment(config, scenario, population, graph, streams)
    harvesters: Any = HeuristicHarvesters(config)
    if scenario.llm is not None:
        from townsquare.environments.commons.llm import LLMHarvesters

        harvesters = LLMHarvesters(scenario.llm, population, config, _llm_mask(social),
                                   harvesters, scenario.seed)
    if hasattr(social, "close"):  # the platform's own model client is not used here
        social.close()
    return environment, harvesters


def _election(config: ElectionConfig, scenario: Scenario, population: Population,
              graph: FollowGraph, streams: RandomStreams, platform: SocialPlatform,
              social: Behavior) -> Built:
    from townsquare.environments.election.environment import ElectionEnvironment
    from townsquare.environments.election.heuristic import HeuristicVoters

    environment = ElectionEnvironment(config, scenario, platform, streams)
    voters: Any = HeuristicVoters()
    if scenario.llm is not None:
        from townsquare.environments.election.llm import LLMVoters

        voters = LLMVoters(scenario.llm, population, config, _llm_mask(social), voters,
                           scenario.seed)
    return environment, ComposedBehavior(social, voters)


def _llm_mask(social: Behavior) -> np.ndarray:
    """Which agents the LLM layer drives (the assignment the social behaviour made)."""
    return np.asarray(social.is_llm, bool)  # type: ignore[attr-defined]


_BUILDERS: dict[type, Callable[..., Built]] = {
    MarketConfig: _market,
    CommonsConfig: _commons,
    ElectionConfig: _election,
}
