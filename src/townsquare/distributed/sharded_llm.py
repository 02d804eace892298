"""LLM agents of one run sharded over Ray actors, each with its own model servers.

:class:`ShardedLLM` stands where a :class:`~townsquare.environments.social.llm.behavior.LLMBehavior`
stands (inside the hybrid behaviour) and gives the same decisions. Each LLM
agent belongs to one shard for the whole run; each shard is a Ray actor
(:class:`~townsquare.distributed.mind.LLMShard`) with its own endpoint list,
its agents' memories and its own HTTP connections, so throughput grows with
the number of model servers. Per step:

1. the step's posts (every column, the texts the feeds show) and agent state
   are put in the object store once; each shard gets its agents' feeds;
2. the shards ``ask`` concurrently: reflect, retrieve, prompt, request, parse;
3. the driver assembles one decision from all answers in the order of the
   observation and lets the fallback behaviour decide, with the step's
   random stream, for agents whose call failed, exactly as LLMBehavior does;
4. the shards ``settle``: they remember their rows of the decision and hand
   back their call records.

Nothing in a request depends on the shard: prompts are built from the
agent's own persona, memories and feed, and request seeds derive from (run
seed, step, agent). So with deterministic servers (or a response cache)
the event log is the one of the local backend.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import Any

import numpy as np

from townsquare.behavior.llm.config import LLMConfig
from townsquare.behavior.llm.records import CallRecord, call_columns, record_order, step_stats
from townsquare.behavior.merge import merge
from townsquare.core.actions import ActionBatch
from townsquare.core.behavior import Behavior, Decision, Observation
from townsquare.distributed.cluster import connect, disconnect, fetch, require_ray
from townsquare.distributed.config import DistributedConfig
from townsquare.distributed.mind import Asked, LLMShard, Settled
from townsquare.distributed.shards import assign_shards, shard_configs, slim_content, texts_of
from townsquare.environments.social.llm.assemble import answers_to_decision
from townsquare.environments.social.llm.schema import ParsedAnswer
from townsquare.errors import UserError
from townsquare.population.model import Population


class ShardedLLM:
    """LLM minds split over one Ray actor per ``distributed.llm_shards`` entry.

    ``llm_agents`` are the ids of the LLM-driven agents (dealt evenly over
    the shards). Same interface as LLMBehavior where the hybrid behaviour
    uses it: decide, last_step_stats, drain_records, check_reachable,
    interview, get_state/set_state, close.
    """

    def __init__(
        self,
        config: LLMConfig,
        distributed: DistributedConfig,
        population: Population,
        topics: list[str],
        news_ids: list[str],
        fallback: Behavior,
        run_seed: int,
        *,
        llm_agents: np.ndarray | None = None,
    ) -> None:
        if not distributed.llm_shards:
            raise UserError("distributed.llm_shards is empty: there is nothing to shard over")
        self.config = config  # environment overrides applied when the scenario was loaded
        self.population = population
        self.topics = list(topics)
        self.news_ids = list(news_ids)
        self.fallback = fallback
        configs = shard_configs(self.config, distributed.llm_shards)
        self.shard_of = assign_shards(population.n, len(configs), llm_agents)
        self._main_topic = np.argmax(population.interests, axis=1).astype(np.int64)
        self._stats: dict[str, Any] = step_stats(-1)
        self._calls: list[CallRecord] = []
        self._closed = False
        self._actors: list[Any] = []
        self._ray = require_ray()
        self._started = connect(distributed.ray_address)
        try:
            shared_population = self._ray.put(population)
            actor = self._ray.remote(LLMShard)
            self._actors = [actor.remote() for _ in configs]
            starts = [a.start.remote(c, shared_population, self.topics, self.news_ids,
                                     int(run_seed)) for a, c in zip(self._actors, configs,
                                                                    strict=True)]
            for i, started in enumerate(starts):
                try:
                    fetch(started)
                except UserError as exc:  # e.g. that shard's server is down: say which shard
                    raise _in_shard(exc, i) from None
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        names = [m.name for m in self.config.models]
        return f"ShardedLLM(shards={len(self._actors)}, models={names})"

    @property
    def n_shards(self) -> int:
        return len(self._actors)

    # -- the Behavior contract ----------------------------------------------------------

    def decide(self, obs: Observation, rng: np.random.Generator) -> Decision:
        agents = np.asarray(obs.feed.agents, dtype=np.int64)
        step = int(obs.step)
        rows = self._rows_by_shard(agents)
        # prompts show the feed's posts and an excerpt of the post each quote or comment
        # answers, so the shards get the texts of both
        parents = obs.content.parent[obs.feed.posts]
        read = np.union1d(obs.feed.posts, parents[parents >= 0])
        shared = self._ray.put((slim_content(obs.content, read), obs.state))
        asked: list[Asked] = fetch([
            actor.ask.remote(step, obs.feed.subset(r), shared)
            for actor, r in zip(self._actors, rows, strict=True)
        ])
        if not len(agents):
            self._stats = step_stats(step)
            return Decision.only(ActionBatch.empty())
        answers: list[ParsedAnswer | None] = [None] * len(agents)
        faults: list[str | None] = [None] * len(agents)
        for r, part in zip(rows, asked, strict=True):
            for i, answer, fault in zip(r.tolist(), part.answers, part.faults, strict=True):
                answers[i], faults[i] = answer, fault
        decision, fallback_kinds, dropped = assemble(
            obs, answers, faults, self.topics, self.news_ids, self._main_topic, self.fallback, rng)
        settled = self._settle(obs, decision.actions)
        records = sorted(chain.from_iterable(s.records for s in settled), key=record_order)
        self._calls.extend(records)
        self._stats = step_stats(step, records, fallback_kinds, dropped,
                                 sum(a.reflections for a in asked),
                                 sum(s.embedding_faults for s in settled),
                                 decisions=len(agents))
        return decision

    def _rows_by_shard(self, agents: np.ndarray) -> list[np.ndarray]:
        """Per shard, the rows of ``agents`` it decides (in observation order)."""
        shard = self.shard_of[agents]
        return [np.flatnonzero(shard == k) for k in range(self.n_shards)]

    def _settle(self, obs: Observation, actions: ActionBatch) -> list[Settled]:
        posts = actions.post[actions.post >= 0]
        unseen = texts_of(obs.content, np.setdiff1d(posts, obs.feed.posts))  # usually empty
        owner = self.shard_of[actions.agent]
        return fetch([actor.settle.remote(actions.select(owner == k), unseen)
                      for k, actor in enumerate(self._actors)])

    # -- accounting and records ---------------------------------------------------------

    def last_step_stats(self) -> dict[str, Any]:
        """Requests, cache hits, tokens, cost, latency p50/p95, faults and fallbacks by kind."""
        return dict(self._stats)

    def drain_records(self) -> dict[str, dict[str, list]]:
        """Rows for the ``llm_calls`` and ``memories`` tables since the last drain.

        Calls are in the local backend's order; memories are grouped by shard.
        """
        calls, self._calls = self._calls, []
        parts = fetch([actor.drain_memories.remote() for actor in self._actors])
        memories = {name: list(chain.from_iterable(p[name] for p in parts)) for name in parts[0]}
        return {"llm_calls": call_columns(calls), "memories": memories}

    def check_reachable(self) -> None:
        """Raise EndpointUnreachableError unless every shard's endpoints answer now."""
        fetch([actor.check_reachable.remote() for actor in self._actors])

    def interview(self, agent: int, question: str) -> str:
        """Ask one agent a question; its shard answers from its memories."""
        if not 0 <= agent < self.population.n:
            raise UserError(f"agent {agent} does not exist (ids 0..{self.population.n - 1})")
        return fetch(self._actors[int(self.shard_of[agent])].interview.remote(agent, question))

    # -- checkpoints --------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """Every shard's memories, gathered from the actors."""
        return {"shards": fetch([actor.get_state.remote() for actor in self._actors])}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore the shards; a local LLMBehavior's state is given to every shard.

        (Each shard only ever reads its own agents' memories, so a full copy
        per shard resumes a local checkpoint exactly.)
        """
        shards = state.get("shards")
        if shards is None:
            shards = [state] * self.n_shards
        elif len(shards) != self.n_shards:
            raise UserError(f"the checkpoint holds {len(shards)} LLM shards but "
                            f"distributed.llm_shards lists {self.n_shards}; resume with as many")
        fetch([actor.set_state.remote(s) for actor, s in zip(self._actors, shards, strict=True)])

    def close(self) -> None:
        """Close the shards' connections and caches, stop the actors (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._actors:
                self._ray.wait([actor.close.remote() for actor in self._actors], timeout=30,
                               num_returns=len(self._actors))
        finally:
            for actor in self._actors:
                self._ray.kill(actor)
            disconnect(self._started)


def assemble(
    obs: Observation,
    answers: list[ParsedAnswer | None],
    faults: list[str | None],
    topics: list[str],
    news_ids: list[str],
    main_topic: np.ndarray,
    fallback: Behavior,
    rng: np.random.Generator,
) -> tuple[Decision, Counter[str], int]:
    """(decision, fallbacks by fault kind, dropped actions) from every agent's answer.

    Built as :meth:`LLMBehavior.decide` builds it: the answered agents in
    observation order, then the fallback's decision for the others (with
    the same random stream), so the action rows come in the same order.
    """
    agents = np.asarray(obs.feed.agents, dtype=np.int64)
    ok = np.array([a is not None for a in answers], dtype=bool)
    rows, failed = np.flatnonzero(ok), np.flatnonzero(~ok)
    answered = [a for a in answers if a is not None]  # the answers of ``rows``, in order
    decision = answers_to_decision(obs, rows, answered, topics, news_ids, main_topic[agents[rows]])
    if len(failed):
        decision = merge(obs, decision, fallback.decide(obs.subset(failed), rng))
    decision.fallbacks = len(failed)
    kinds = Counter(str(faults[i]) for i in failed.tolist())
    dropped = sum(answer.dropped for answer in answered)
    return decision, kinds, dropped


def _in_shard(exc: UserError, shard: int) -> UserError:
    """``exc`` (same type where possible) with the shard's setting named first."""
    message = f"distributed.llm_shards[{shard}]: {exc}"
    try:
        return type(exc)(message)
    except TypeError:
        return UserError(message)
