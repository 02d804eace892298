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
from typing import Any, Protocol

import numpy as np

from townsquare.core.behavior import Behavior, Decision, Observation

Report = tuple[dict[str, dict[str, list]], dict[str, float]]


class Part(Protocol):
    """An environment's own decider (traders, voters); ``decide`` reads the whole observation."""

    def decide(self, obs: Any, rng: np.random.Generator) -> Any: ...


@dataclass
class ComposedDecision:
    """What the social behaviour and the environment's decider chose in one step."""

    social: Decision | None
    part: Any
    fallbacks: int = 0


class ComposedBehavior:
    """Social behaviour on ``obs.social`` plus ``part`` on the whole observation."""

    def __init__(self, social: Behavior, part: Part) -> None:
        self.social = social
        self.part = part

    @property
    def is_llm(self) -> np.ndarray | None:
        return getattr(self.social, "is_llm", None)

    def decide(self, obs: Any, rng: np.random.Generator) -> ComposedDecision:
        social_obs: Observation = obs.social
        social = self.social.decide(social_obs, rng)
        part = self.part.decide(obs, rng)
        return ComposedDecision(social, part, social.fallbacks + getattr(part, "fallbacks", 0))

    def before_step(self, step: int) -> None:
        for member in (self.social, self.part):
            ready = getattr(member, "before_step", None)
            if ready is not None:
                ready(step)

    def after_step(self, step: int) -> None:
        for member in (self.social, self.part):
            done = getattr(member, "after_step", None)
            if done is not None:
                done(step)

    def step_report(self) -> Report:
        reports = [member.step_report() for member in (self.social, self.part)
                   if hasattr(member, "step_report")]
        return merge_reports(reports)

    def interview(self, agent: int, question: str) -> str:
        return self.social.interview(agent, question)  # type: ignore[attr-defined]

    def get_state(self) -> dict[str, Any]:
        return {name: member.get_state() if hasattr(member, "get_state") else {}
                for name, member in (("social", self.social), ("part", self.part))}

    def set_state(self, state: dict[str, Any]) -> None:
        for name, member in (("social", self.social), ("part", self.part)):
            if hasattr(member, "set_state"):
                member.set_state(state[name])

    def close(self) -> None:
        for member in (self.social, self.part):
            if hasattr(member, "close"):
                member.close()


def merge_reports(reports: list[Report]) -> Report:
    """Concatenate tables of the same name; add metrics (latency percentiles: the larger)."""
    tables: dict[str, dict[str, list]] = {}
    metrics: dict[str, float] = {}
    for part_tables, part_metrics in reports:
        for name, columns in part_tables.items():
            if name not in tables:
                tables[name] = {key: list(values) for key, values in columns.items()}
                continue
            for key, values in columns.items():
                tables[name][key] = list(tables[name][key]) + list(values)
        for key, value in part_metrics.items():
            if key not in metrics:
                metrics[key] = value
            elif "latency" in key:
                metrics[key] = max(metrics[key], value)
            else:
                metrics[key] += value
    return tables, metrics
