"""Assemble a world from a scenario: population, network, environment, behaviour.

This is the one place that maps scenario choices to implementations, so the
engine stays free of environment- and behaviour-specific code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from townsquare.behavior.hybrid import HybridBehavior, LanguageMinds
from townsquare.behavior.llm.config import select_llm_agents
from townsquare.core.actions import Action
from townsquare.core.behavior import Behavior
from townsquare.core.environment import Environment
from townsquare.core.registry import ENVIRONMENTS
from townsquare.distributed.sharded_llm import ShardedLLM
from townsquare.environments.contagion.environment import ContagionEnvironment
from townsquare.environments.social.config import SocialBehavior
from townsquare.environments.social.heuristic import SocialHeuristic
from townsquare.environments.social.llm.behavior import LLMBehavior
from townsquare.environments.social.platform import SocialPlatform
from townsquare.errors import UserError
from townsquare.network.build import build_network
from townsquare.network.graph import FollowGraph
from townsquare.population.model import Population, build_population
from townsquare.rng import RandomStreams
from townsquare.scenario import Scenario


@dataclass
class World:
    """Everything a run advances: the environment and the behaviour deciding in it."""

    environment: Environment[Any, Any]  # the engine passes observations and decisions through
    behavior: Behavior[Any, Any] | None
    population_frame: pd.DataFrame
    edges: tuple[np.ndarray, np.ndarray]


@dataclass
class WorldParts:
    """What an environment's builder (a registered ``build(config, parts)``) may use."""

    scenario: Scenario
    population: Population
    graph: FollowGraph
    streams: RandomStreams
    platform: SocialPlatform
    social: Behavior
    llm_agents: np.ndarray
    """Which agents the LLM layer drives (all False without ``[llm]``)."""


def make_world(scenario: Scenario, streams: RandomStreams) -> World:
    """Build (and validate) everything a run needs, before anything is written."""
    population = build_population(scenario.population, streams["population"])
    graph = build_network(scenario.network, population.leaning, streams["network"])
    initial_edges = graph.edges()
    behavior_config = scenario.behavior
    behavior: Behavior[Any, Any] | None
    if isinstance(behavior_config, SocialBehavior):
        platform = SocialPlatform(scenario, population, graph, streams)
        environment: Environment[Any, Any] = platform
        enabled = {Action[name.upper()] for name in scenario.platform.actions} | {Action.IDLE}
        behavior = SocialHeuristic(
            behavior_config, enabled, scenario.platform.moderation.label_effect
        )
        if scenario.llm is not None:
            hybrid = _with_language_model(scenario, population, behavior, streams)
            behavior = hybrid
            # LLM agents answer surveys in their own words
            platform.surveys.answer_with_model(hybrid.is_llm, hybrid.interview)
    else:
        environment = ContagionEnvironment(scenario, population, graph, streams)
        behavior = None
    if scenario.environment is not None:
        environment, behavior = _environment(scenario, population, graph, streams, environment,
                                             behavior)
    frame = population.to_frame()
    if behavior is not None and behavior.is_llm is not None:
        frame["behavior"] = np.where(behavior.is_llm, "llm", "heuristic")
    return World(environment, behavior, frame, initial_edges)


def _environment(
    scenario: Scenario, population: Population, graph: FollowGraph, streams: RandomStreams,
    platform: Environment[Any, Any], social: Behavior[Any, Any] | None,
) -> tuple[Environment[Any, Any], Behavior[Any, Any]]:
    """The registered environment of ``[environment] kind``, on the social platform."""
    config = scenario.environment
    assert config is not None
    if not isinstance(platform, SocialPlatform) or social is None:
        raise UserError(f"environment.kind = '{config.kind}' needs the social agents: set "
                        "behavior.model = 'social' (the default)")
    llm_agents = (np.zeros(population.n, bool) if social.is_llm is None
                  else np.asarray(social.is_llm, bool))
    parts = WorldParts(scenario, population, graph, streams, platform, social, llm_agents)
    try:
        return ENVIRONMENTS[config.kind].build(config, parts)
    except BaseException:
        social.close()  # the social minds hold connections, a loop thread, a model server
        raise


def _with_language_model(
    scenario: Scenario, population: Population, heuristic: Behavior, streams: RandomStreams
) -> HybridBehavior:
    """LLM minds for the assigned agents, the heuristic for the rest and as the fallback."""
    if scenario.llm is None:
        raise ValueError("language-model agents need the scenario's [llm] table")
    is_llm = select_llm_agents(scenario.llm, population, streams["llm_assignment"])
    news_ids = [item.id for item in scenario.news]
    if scenario.distributed is not None and scenario.distributed.llm_shards:  # Ray actors
        llm: LanguageMinds = ShardedLLM(
            scenario.llm, scenario.distributed, population, list(population.topics), news_ids,
            heuristic, scenario.seed, llm_agents=np.flatnonzero(is_llm))
    else:
        llm = LLMBehavior(scenario.llm, population, list(population.topics), news_ids,
                          heuristic, scenario.seed)
    return HybridBehavior(is_llm, llm, heuristic)
