"""Interventions as first-class, schedulable objects on the social platform.

Each configured intervention (``townsquare.schedules``) fires when its
schedule is due, selects its targets (agents or stories), acts, and reports
how many units it touched; units times the configured cost is its cost. One
row per firing lands in the run's ``interventions`` table, so cost and effect
can be compared. Dispatch is one table from config class to action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from townsquare.arrays import unique_ints
from townsquare.core.actions import Action, ActionBatch
from townsquare.environments.social.content import Label, Veracity
from townsquare.population.model import ROLES
from townsquare.schedules import (
    AgentTarget,
    ContentTarget,
    DebunkIntervention,
    DownrankIntervention,
    FeedChangeIntervention,
    InjectPostIntervention,
    Intervention,
    LabelIntervention,
    PrebunkIntervention,
    RemoveIntervention,
    ShockIntervention,
    SuspendIntervention,
)

if TYPE_CHECKING:
    from townsquare.environments.social.platform import SocialPlatform

INFLAMMATORY_AROUSAL = 0.6
INFLAMMATORY_STANCE = 0.7


def select_agents(target: AgentTarget, platform: SocialPlatform,
                  rng: np.random.Generator) -> np.ndarray:
    """Agent ids matching every filter of ``target``, then the random ``share`` of them."""
    pop, n = platform.population, platform.n_agents
    keep = np.ones(n, bool)
    if target.agents:
        keep &= np.isin(np.arange(n), np.asarray(target.agents, np.int64))
    if target.role is not None:
        keep &= pop.role == ROLES.index(target.role)
    keep &= (pop.leaning >= target.leaning_min) & (pop.leaning <= target.leaning_max)
    if target.sharers_of is not None:
        keep &= platform.sharers(target.sharers_of)
    if target.min_flags_received:
        content = platform.content
        flags = np.bincount(content.author, weights=content.flags, minlength=n)
        keep &= flags >= target.min_flags_received
    chosen = np.flatnonzero(keep)
    if target.top is not None and len(chosen) > target.top:
        followers = platform.graph.in_degree()[chosen]
        chosen = np.sort(chosen[np.argsort(-followers, kind="stable")[: target.top]])
    if target.share < 1.0:
        chosen = chosen[rng.random(len(chosen)) < target.share]
    return chosen


def select_stories(target: ContentTarget, platform: SocialPlatform) -> np.ndarray:
    """Root post ids of the stories matching ``target`` (any of its conditions)."""
    content = platform.content
    if len(content) == 0:
        return np.empty(0, np.int64)
    match = np.zeros(len(content), bool)
    news_ids = [platform.news_index[name] for name in target.news]
    if target.veracity is not None:
        code = {"true": Veracity.TRUE, "false": Veracity.FALSE,
                "unverified": Veracity.UNVERIFIED}[target.veracity]
        news_ids += list(np.flatnonzero(platform.news_veracity == code))
    if news_ids:
        match |= np.isin(content.news, np.asarray(news_ids))
    if target.min_flags:
        flags = np.bincount(content.root, weights=content.flags, minlength=len(content))
        match |= flags[content.root] >= target.min_flags
    if target.inflammatory:
        match |= (content.arousal >= INFLAMMATORY_AROUSAL) & (
            np.abs(content.stance) >= INFLAMMATORY_STANCE)
    return unique_ints(content.root[match])


def _label(item: LabelIntervention, platform: SocialPlatform, step: int,
           rng: np.random.Generator) -> int:
    label = Label.COMMUNITY_NOTE if item.note else Label.FACT_CHECK
    return platform.label_stories(select_stories(item.content, platform), label, item.name, step)


def _remove(item: RemoveIntervention, platform: SocialPlatform, step: int,
            rng: np.random.Generator) -> int:
    roots = select_stories(item.content, platform)
    return platform.label_stories(roots, Label.REMOVED, item.name, step)


def _downrank(item: DownrankIntervention, platform: SocialPlatform, step: int,
              rng: np.random.Generator) -> int:
    roots = select_stories(item.content, platform)
    boost = platform.content.column("boost")
    fresh = roots[boost[roots] > item.factor]
    boost[fresh] = item.factor
    return len(fresh)


def _suspend(item: SuspendIntervention, platform: SocialPlatform, step: int,
             rng: np.random.Generator) -> int:
    agents = select_agents(item.target, platform, rng)
    fresh = agents[~platform.state.suspended[agents]]
    platform.state.suspended[fresh] = True
    return len(fresh)


def _prebunk(item: PrebunkIntervention, platform: SocialPlatform, step: int,
             rng: np.random.Generator) -> int:
    agents = select_agents(item.target, platform, rng)
    _inoculate(platform, agents, item.strength)
    return len(agents)


def _inoculate(platform: SocialPlatform, agents: np.ndarray, strength: float) -> None:
    protection = platform.state.inoculation
    protection[agents] = 1.0 - (1.0 - protection[agents]) * (1.0 - strength)


def _debunk(item: DebunkIntervention, platform: SocialPlatform, step: int,
            rng: np.random.Generator) -> int:
    agents = select_agents(item.target, platform, rng)
    k = platform.news_index[item.news]
    platform.state.belief[agents, k] *= 1.0 - item.strength
    if item.memory:
        _inoculate(platform, agents, item.memory)
    return len(agents)


def _feed_change(item: FeedChangeIntervention, platform: SocialPlatform, step: int,
                 rng: np.random.Generator) -> int:
    changes = {key: value for key, value in (("mix", item.mix), ("length", item.length),
                                            ("out_of_network", item.out_of_network))
               if value is not None}
    platform.feed_config = platform.feed_config.model_copy(update=changes)
    return 1


def _inject_post(item: InjectPostIntervention, platform: SocialPlatform, step: int,
                 rng: np.random.Generator) -> int:
    author = item.author if item.author is not None else int(np.argmax(platform.graph.in_degree()))
    news = platform.news_index[item.news] if item.news is not None else -1
    batch = ActionBatch.build(
        np.array([author]), Action.POST, topic=platform.topic_index[item.topic],
        stance=item.stance, text=[item.text], news=news,
    )
    veracity = int(platform.news_veracity[news]) if news >= 0 else None
    platform.inject(step, batch, veracity)
    return 1


def _shock(item: ShockIntervention, platform: SocialPlatform, step: int,
           rng: np.random.Generator) -> int:
    agents = select_agents(item.target, platform, rng)
    state = platform.state
    state.valence[agents] = np.clip(state.valence[agents] + item.valence, -1, 1)
    state.arousal[agents] = np.clip(state.arousal[agents] + item.arousal, 0, 1)
    if item.topic is not None and item.attitude_shift:
        t = platform.topic_index[item.topic]
        state.attitude[agents, t] = np.clip(state.attitude[agents, t] + item.attitude_shift, -1, 1)
    return 1


Handler = Callable[..., int]
HANDLERS: dict[type, Handler] = {
    LabelIntervention: _label,
    RemoveIntervention: _remove,
    DownrankIntervention: _downrank,
    SuspendIntervention: _suspend,
    PrebunkIntervention: _prebunk,
    DebunkIntervention: _debunk,
    FeedChangeIntervention: _feed_change,
    InjectPostIntervention: _inject_post,
    ShockIntervention: _shock,
}


class InterventionSchedule:
    """Fires the scenario's interventions when due and keeps their cost counters."""

    def __init__(self, interventions: list[Intervention]) -> None:
        self.items = interventions
        self.names = [item.name or f"{item.kind}_{i}" for i, item in enumerate(interventions)]
        self.cost = dict.fromkeys(self.names, 0.0)
        self.units = dict.fromkeys(self.names, 0)

    def apply(self, step: int, platform: SocialPlatform,
              rng: np.random.Generator) -> dict[str, list]:
        """Fire what is due at ``step``; return the rows for the interventions table."""
        rows: dict[str, list] = {"name": [], "kind": [], "units": [], "cost": []}
        for item, name in zip(self.items, self.names, strict=True):
            if not item.when.due(step):
                continue
            units = HANDLERS[type(item)](item, platform, step, rng)
            if units == 0:
                continue
            cost = units * item.cost
            self.units[name] += units
            self.cost[name] += cost
            for key, value in (("name", name), ("kind", item.kind), ("units", units),
                               ("cost", cost)):
                rows[key].append(value)
        return rows

    @property
    def total_cost(self) -> float:
        return float(sum(self.cost.values()))

    def get_state(self) -> dict[str, dict]:
        return {"cost": dict(self.cost), "units": dict(self.units)}

    def set_state(self, state: dict[str, dict]) -> None:
        self.cost = dict(state["cost"])
        self.units = dict(state["units"])
