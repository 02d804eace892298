"""The Behavior contract: decide actions for a batch of active agents at once.

Behaviours only decide. They read an :class:`Observation` (the active agents,
their feeds, the posts those feeds show, the agents' persona and state) and
return a :class:`Decision`: the actions taken plus the agents' updated
attitudes and emotions. The environment applies them; the store records them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from typing_extensions import TypeVar  # TypeVar defaults (PEP 696) before Python 3.13

from townsquare.core.actions import ActionBatch
from townsquare.core.metric import Metric

if TYPE_CHECKING:
    from townsquare.environments.social.content import ContentStore
    from townsquare.network.graph import FollowGraph
    from townsquare.population.model import AgentState, Population


@dataclass
class Feed:
    """Feeds of a batch of agents as one CSR structure.

    The feed of ``agents[i]`` is ``posts[indptr[i]:indptr[i+1]]`` in ranked
    order; ``social_proof`` counts the followed accounts that shared each post.
    """

    agents: np.ndarray
    indptr: np.ndarray
    posts: np.ndarray
    social_proof: np.ndarray

    def __len__(self) -> int:
        return len(self.agents)

    @property
    def owner(self) -> np.ndarray:
        """For each feed entry, the index (into ``agents``) of the agent who sees it."""
        return np.repeat(np.arange(len(self.agents)), np.diff(self.indptr))

    def of(self, i: int) -> np.ndarray:
        return self.posts[self.indptr[i] : self.indptr[i + 1]]

    def subset(self, rows: np.ndarray) -> Feed:
        """The feeds of ``agents[rows]`` only, in the given order."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, stops = self.indptr[rows], self.indptr[rows + 1]
        lengths = stops - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        take = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return Feed(self.agents[rows], indptr, self.posts[take], self.social_proof[take])


@dataclass
class Observation:
    """Everything a behaviour may read to decide one step for a batch of agents."""

    step: int
    feed: Feed
    content: ContentStore
    population: Population
    state: AgentState
    graph: FollowGraph

    def subset(self, rows: np.ndarray) -> Observation:
        """The same observation restricted to ``feed.agents[rows]``."""
        return Observation(
            self.step, self.feed.subset(rows), self.content, self.population, self.state,
            self.graph,
        )


@dataclass
class Decision:
    """Actions plus state updates for the agents of one batch.

    ``attitude`` rows (agents x topics) and ``valence``/``arousal`` are the new
    values for the agents in ``updated``; rows not listed keep their state.
    ``fallbacks`` counts agents whose decision came from a fallback behaviour.
    """

    actions: ActionBatch
    updated: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    attitude: np.ndarray | None = None
    valence: np.ndarray | None = None
    arousal: np.ndarray | None = None
    belief: np.ndarray | None = None
    fallbacks: int = 0

    @classmethod
    def only(cls, actions: ActionBatch) -> Decision:
        return cls(actions=actions)


ObservationIn = TypeVar("ObservationIn", contravariant=True, default=Observation)
DecisionOut = TypeVar("DecisionOut", covariant=True, default=Decision)


Report = tuple[dict[str, dict[str, list]], list[Metric]]
"""What a behaviour adds to a step's record: table name -> columns, and typed metrics."""


class Behavior(Protocol[ObservationIn, DecisionOut]):
    """Anything that decides a batch of agents' actions from their observation.

    Plain ``Behavior`` is a social-platform behaviour (:class:`Observation` in,
    :class:`Decision` out); other environments' behaviours are
    ``Behavior[TheirObservation, TheirDecision]``. The engine calls every method
    of the lifecycle below, each step, in this order: ``before_step``, ``decide``,
    ``step_report``, ``after_step``; ``get_state``/``set_state`` at checkpoints
    and resumes; ``close`` once at the end. :class:`BaseBehavior` gives no-op
    defaults for all but ``decide``.
    """

    @property
    def is_llm(self) -> np.ndarray | None:
        """Which agents a language model drives (None: none of them)."""
        ...

    def decide(self, obs: ObservationIn, rng: np.random.Generator) -> DecisionOut: ...

    def before_step(self, step: int) -> None:
        """Before ``step`` happens; may raise RunStopped (budget spent, server down)."""
        ...

    def after_step(self, step: int) -> None:
        """After ``step`` is recorded; may raise RunStopped (too many fallbacks)."""
        ...

    def step_report(self) -> Report:
        """Tables and metrics of the step just decided (LLM calls, their latency)."""
        ...

    def interview(self, agent: int, question: str) -> str:
        """An answer in the agent's own words (agents in ``is_llm`` only)."""
        ...

    def get_state(self) -> dict[str, Any]: ...

    def set_state(self, state: dict[str, Any]) -> None: ...

    def close(self) -> None:
        """Release connections, threads and model servers."""
        ...


class BaseBehavior:
    """No-op lifecycle for a behaviour: subclass, implement ``decide``, override the rest
    only where there is something to do."""

    is_llm: np.ndarray | None = None

    def decide(self, obs: Any, rng: np.random.Generator) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement decide")

    def before_step(self, step: int) -> None:
        return None

    def after_step(self, step: int) -> None:
        return None

    def step_report(self) -> Report:
        return {}, []

    def interview(self, agent: int, question: str) -> str:
        raise NotImplementedError(f"{type(self).__name__} has no model mind to interview")

    def get_state(self) -> dict[str, Any]:
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        return None

    def close(self) -> None:
        return None
