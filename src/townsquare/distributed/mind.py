"""One shard of LLM agents, as it lives in a Ray actor.

:class:`ShardMind` is an :class:`~townsquare.environments.social.llm.behavior.LLMBehavior`
whose step is cut in two around the one part that needs every shard's
answers: ``ask`` (reflect, retrieve memories, build prompts, send requests,
parse; all per agent) and ``settle`` (remember what the agents saw and did,
hand back the call records). Between the two, the driver turns the answers
of all shards into one decision, in the local backend's agent order, and
lets the heuristic decide for agents whose model call failed (see
:mod:`townsquare.distributed.sharded_llm`).

:class:`LLMShard` is the actor: it owns a ShardMind built with the shard's
own endpoint list, hence the memories of its agents and its own HTTP
connections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from townsquare.behavior.llm.config import LLMConfig
from townsquare.behavior.llm.faults import Fault
from townsquare.behavior.llm.records import CallRecord
from townsquare.core.actions import ActionBatch
from townsquare.core.behavior import Decision, Feed, Observation
from townsquare.distributed.cluster import portable_errors
from townsquare.distributed.shards import add_texts
from townsquare.environments.social.content import ContentStore
from townsquare.environments.social.llm.behavior import LLMBehavior, Outcome
from townsquare.environments.social.llm.schema import ParsedAnswer
from townsquare.population.model import AgentState, Population


@dataclass(slots=True)
class Asked:
    """A shard's answers for its agents of a step, in the order of its feed."""

    answers: list[ParsedAnswer | None]  # None: the call failed, the agent falls back
    faults: list[str | None]  # the Fault kind of each failed agent (None where answered)
    reflections: int


@dataclass(slots=True)
class Settled:
    """What a shard reports once the step's decision is known."""

    records: list[CallRecord]  # the step's model calls, fallbacks marked
    embedding_faults: int


class _DriverFallback:
    """Placeholder: in a shard, fallbacks are decided by the driver, never here."""

    def decide(self, obs: Observation, rng: np.random.Generator) -> Decision:
        raise RuntimeError("a shard never decides fallbacks; the driver does")


class ShardMind(LLMBehavior):
    """An LLMBehavior for one shard's agents, stepped as ``ask_shard`` then ``settle``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.observation: Observation | None = None  # the step between ask and settle
        self._outcomes: list[Outcome] = []

    def ask_shard(self, obs: Observation) -> Asked:
        """The answers of ``obs.feed.agents`` (all of them this shard's agents)."""
        self.observation = obs
        self._outcomes, reflections = self.ask(obs)  # the driver assembles the decision
        return Asked(
            [o.answer for o in self._outcomes],
            [None if o.answer is not None else (o.fault or Fault.EMPTY).value
             for o in self._outcomes],
            reflections,
        )

    def settle(self, actions: ActionBatch) -> Settled:
        """Remember the step (``actions``: this shard's rows of the decision); drain records."""
        obs = self.observation
        if obs is None or not len(obs.feed.agents):
            return Settled([], 0)
        self.remember(obs, actions)
        for outcome in self._outcomes:
            if outcome.answer is None and outcome.record is not None:
                outcome.record.fallback = True
        # the driver keeps the records
        return Settled(self.hand_over_calls(), self.take_embedding_faults())


class LLMShard:
    """A Ray actor holding one shard (made remote with ``ray.remote(LLMShard)``).

    Methods run one at a time, in call order, so a shard's memories change
    exactly as they would in one local LLMBehavior.
    """

    def __init__(self) -> None:
        self.mind: ShardMind | None = None
        self.population: Population | None = None

    @portable_errors
    def start(self, config: LLMConfig, population: Population, topics: list[str],
              news_ids: list[str], run_seed: int) -> None:
        """Build the shard's minds and check its endpoints answer."""
        self.population = population
        self.mind = ShardMind(config, population, topics, news_ids, _DriverFallback(), run_seed)

    def ask(self, step: int, feed: Feed, shared: tuple[ContentStore, AgentState]) -> Asked:
        content, state = shared
        # The graph stays with the driver: minds never read it (the fallback, which may,
        # runs on the driver).
        obs = Observation(step, feed, content, self.population, state, None)  # type: ignore[arg-type]
        return self._mind.ask_shard(obs)

    def settle(self, actions: ActionBatch, texts: dict[int, str]) -> Settled:
        obs = self._mind.observation
        if obs is not None and texts:
            add_texts(obs.content, texts)
        return self._mind.settle(actions)

    def drain_memories(self) -> dict[str, list]:
        return self._mind.memory.drain()

    @portable_errors
    def check_reachable(self) -> None:
        self._mind.check_reachable()

    @portable_errors
    def interview(self, agent: int, question: str) -> str:
        return self._mind.interview(agent, question)

    def get_state(self) -> dict[str, Any]:
        return self._mind.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        self._mind.set_state(state)

    def close(self) -> None:
        if self.mind is not None:
            self.mind.close()

    @property
    def _mind(self) -> ShardMind:
        if self.mind is None:
            raise RuntimeError("LLMShard.start() was not called")
        return self.mind
