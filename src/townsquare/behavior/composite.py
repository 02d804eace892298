"""One Behavior made of the social behaviour and an environment's own deciders.

A market or an election wraps the social platform, so each step an agent
both acts on the platform (the unchanged social behaviour: heuristic, LLM or
a hybrid) and in the environment (trades, votes). :class:`ComposedBehavior`
runs both on the same observation and merges what the engine asks of a
behaviour: the decision's fallbacks, the per-step report of model calls,
the checkpoint state, readiness before a step, interviews and closing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from townsquare.core.behavior import BaseBehavior, Behavior, Decision, Observation, Report
from townsquare.core.metric import combine


@dataclass
class ComposedDecision:
    """What the social behaviour and the environment's decider chose in one step."""

    social: Decision | None
    part: Any
    fallbacks: int = 0


class ComposedBehavior(BaseBehavior):
    """Social behaviour on ``obs.social`` plus ``part`` (an environment's own decider:
    traders, voters) on the whole observation."""

    def __init__(self, social: Behavior, part: Behavior[Any, Any]) -> None:
        self.social = social
        self.part = part
        self.is_llm = social.is_llm

    def decide(self, obs: Any, rng: np.random.Generator) -> ComposedDecision:
        social_obs: Observation = obs.social
        social = self.social.decide(social_obs, rng)
        part = self.part.decide(obs, rng)
        return ComposedDecision(social, part, social.fallbacks + part.fallbacks)

    def before_step(self, step: int) -> None:
        for member in (self.social, self.part):
            member.before_step(step)

    def after_step(self, step: int) -> None:
        for member in (self.social, self.part):
            member.after_step(step)

    def step_report(self) -> Report:
        return merge_reports([member.step_report() for member in (self.social, self.part)])

    def interview(self, agent: int, question: str) -> str:
        return self.social.interview(agent, question)

    def get_state(self) -> dict[str, Any]:
        return {name: member.get_state()
                for name, member in (("social", self.social), ("part", self.part))}

    def set_state(self, state: dict[str, Any]) -> None:
        for name, member in (("social", self.social), ("part", self.part)):
            member.set_state(state[name])

    def close(self) -> None:
        for member in (self.social, self.part):
            member.close()


def merge_reports(reports: list[Report]) -> Report:
    """Concatenate tables of the same name; combine metrics by their aggregation."""
    tables: dict[str, dict[str, list]] = {}
    for part_tables, _ in reports:
        for name, columns in part_tables.items():
            if name not in tables:
                tables[name] = {key: list(values) for key, values in columns.items()}
                continue
            for key, values in columns.items():
                tables[name][key] = list(tables[name][key]) + list(values)
    return tables, combine(*(metrics for _, metrics in reports))
