"""Assemble a world from a scenario: population, network, environment, behaviour.

This is the one place that maps scenario choices to implementations, so the
engine stays free of environment- and behaviour-specific code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from townsquare.core.actions import Action
from townsquare.core.behavior import Behavior
from townsquare.core.environment import Environment
from townsquare.environments.social.heuristic import SocialHeuristic
from townsquare.environments.social.platform import SocialPlatform
from townsquare.network.build import build_network
from townsquare.population.model import Population, build_population
from townsquare.rng import RandomStreams
from townsquare.scenario import Scenario, SocialBehavior

if TYPE_CHECKING:
    from townsquare.behavior.hybrid import HybridBehavior


@dataclass
class World:
    """Everything a run advances: the environment and the behaviour deciding in it."""

    environment: Environment[Any, Any]  # the engine passes observations and decisions through
    behavior: Behavior[Any, Any] | None
    population_frame: pd.DataFrame
    edges: tuple[np.ndarray, np.ndarray]


def make_world(scenario: Scenario, streams: RandomStreams) -> World:
    """Build (and validate) everything a run needs, before anything is written."""
    population = build_population(scenario.population, streams["population"])
    graph = build_network(scenario.network, population.leaning, streams["network"])
    initial_edges = graph.edges()
    behavior_config = scenario.behavior
    if isinstance(behavior_config, SocialBehavior):
        environment: Environment[Any, Any] = SocialPlatform(scenario, population, graph, streams)
        enabled = {Action[name.upper()] for name in scenario.platform.actions} | {Action.IDLE}
        heuristic = SocialHeuristic(
            behavior_config, enabled, scenario.platform.moderation.label_effect
        )
        behavior: Behavior[Any, Any] | None = heuristic
        if scenario.llm is not None:
            hybrid = _with_language_model(scenario, population, heuristic, streams)
            behavior = hybrid
            surveys = getattr(environment, "surveys", None)
            if surveys is not None:  # LLM agents answer surveys in their own words
                surveys.model_agents = hybrid.is_llm
                surveys.model_answer = hybrid.interview
    else:
        from townsquare.environments.contagion.environment import ContagionEnvironment

        environment = ContagionEnvironment(scenario, population, graph, streams)
        behavior = None
    if scenario.environment is not None:  # issue #10: market, commons, election
        from townsquare.environments.build import compose

        try:
            environment, behavior = compose(scenario, population, graph, streams, environment,
                                            behavior)
        except BaseException:
            # the social minds hold connections, a loop thread, perhaps a local model server
            if behavior is not None and hasattr(behavior, "close"):
                behavior.close()
            raise
    frame = population.to_frame()
    is_llm = getattr(behavior, "is_llm", None)
    if is_llm is not None:
        frame["behavior"] = np.where(is_llm, "llm", "heuristic")
    return World(environment, behavior, frame, initial_edges)


def _with_language_model(
    scenario: Scenario, population: Population, heuristic: Behavior, streams: RandomStreams
) -> HybridBehavior:
    """LLM minds for the assigned agents, the heuristic for the rest and as the fallback."""
    from townsquare.behavior.hybrid import HybridBehavior, LanguageMinds
    from townsquare.behavior.llm.behavior import LLMBehavior
    from townsquare.behavior.llm.config import select_llm_agents

    if scenario.llm is None:
        raise ValueError("language-model agents need the scenario's [llm] table")
    is_llm = select_llm_agents(scenario.llm, population, streams["llm_assignment"])
    news_ids = [item.id for item in scenario.news]
    if scenario.distributed is not None and scenario.distributed.llm_shards:  # issue #7: Ray
        from townsquare.distributed.sharded_llm import ShardedLLM

        llm: LanguageMinds = ShardedLLM(
            scenario.llm, scenario.distributed, population, list(population.topics), news_ids,
            heuristic, scenario.seed, llm_agents=np.flatnonzero(is_llm))
    else:
        llm = LLMBehavior(scenario.llm, population, list(population.topics), news_ids,
                          heuristic, scenario.seed)
    return HybridBehavior(is_llm, llm, heuristic)
