"""LLM agents as a :class:`~townsquare.core.behavior.Behavior`.

Per step, for the batch of active agents: reflect (every K steps), retrieve
memories, build one prompt per agent, send all requests concurrently, parse
and repair the answers, and let the fallback behaviour decide for every agent
whose request ultimately failed. Every call is accounted; every fallback is
counted by fault kind. Request seeds derive from (run seed, step, agent), so
with the response cache a rerun replays exactly, without requests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from townsquare.behavior.llm.body import BodyTemplate, encode_value
from townsquare.behavior.llm.client import (
    CallTag,
    ChatRequest,
    ChatResult,
    derive_seed,
    structured_request,
)
from townsquare.behavior.llm.config import LLMConfig, ModelEndpoint, model_for_agents
from townsquare.behavior.llm.embeddings import HashingEmbedder
from townsquare.behavior.llm.faults import REPAIR_HINTS, Fault, LLMFault
from townsquare.behavior.llm.http import HttpTransport
from townsquare.behavior.llm.interview import ainterview
from townsquare.behavior.llm.loop import rare_collections
from townsquare.behavior.llm.memory import MemoryKind, MemoryStore
from townsquare.behavior.llm.messages import messages, repair_messages
from townsquare.behavior.llm.records import CallRecord, call_columns, record_order, step_stats
from townsquare.behavior.llm.session import LLMSession
from townsquare.behavior.llm.wrappers import Accounting
from townsquare.behavior.merge import merge
from townsquare.core.actions import ActionBatch
from townsquare.core.behavior import Behavior, Decision, Observation
from townsquare.environments.social.llm import prompts
from townsquare.environments.social.llm.assemble import Memories, StepAnswers, join_memories
from townsquare.environments.social.llm.experience import action_memories, observation_memories
from townsquare.environments.social.llm.schema import (
    INSIGHTS_SCHEMA,
    Insight,
    ParsedAnswer,
    ParseFailure,
    answer_schema,
    parse_answer,
    parse_insights,
)
from townsquare.population.model import Population

_log = logging.getLogger(__name__)
QUERY_POSTS = 5  # the top of the feed that forms an agent's memory query
QUIET_FEED = "my feed is quiet"
EMBED_BATCH = 256  # memory texts embedded at once while answers are still coming in
DESCRIBE_BATCH = 128  # answers whose action memories are embedded together, mid-step
LAUNCH_BATCH = 32  # agents retrieved for at once; also the requests built ahead of free slots
# requests built between turns of the event loop: each turn (sending, taking in answers)
# costs CPU, so at a fast server one turn per request made the client ~15% slower; a
# few requests wait at most a few builds (< 1 ms) for theirs
YIELD_EVERY = 4
_TEMPLATE_TAG = CallTag(-1, -1, "decide")


@dataclass(frozen=True, slots=True)
class _Seen:
    """A step's observation memories, embedded ahead of being stored."""

    step: int
    by: np.ndarray
    texts: list[str]
    importance: np.ndarray
    vectors: np.ndarray | None


class _Arrivals:
    """Rows of a step's requests in the order their outcomes came in."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.assembled = 0  # rows[:assembled] are assembled (see LLMBehavior._describe)
        self.changed = asyncio.Event()  # set when an outcome comes in

    def note(self, row: int) -> None:
        self.rows.append(row)
        self.changed.set()

    def waiting(self) -> int:
        """Outcomes in but not yet assembled."""
        return len(self.rows) - self.assembled

    def take(self) -> list[int]:
        """The rows not yet assembled (from now on counted as assembled)."""
        rows, self.assembled = self.rows[self.assembled :], len(self.rows)
        return rows


@dataclass(slots=True)
class Outcome:
    """One agent's answer to a step's request, or the fault that left it without one."""

    answer: ParsedAnswer | None
    fault: Fault | None
    record: CallRecord | None
    text: str = ""  # the unusable answer, shown back to the model in a repair re-ask
    transport: bool = False  # failed in transport (already retried), not in content
    detail: str = ""  # what went wrong, in the server's or the parser's words


class LLMBehavior:
    """Agents whose decisions come from an OpenAI-compatible chat model."""

    def __init__(
        self,
        config: LLMConfig,
        population: Population,
        topics: list[str],
        news_ids: list[str],
        fallback: Behavior,
        run_seed: int,
        *,
        transport: HttpTransport | None = None,
        check: bool = True,
    ) -> None:
        self._session = LLMSession(config, transport=transport, check=check)
        self.population = population
        self.topics = list(topics)
        self.news_ids = list(news_ids)
        self.fallback = fallback
        self.run_seed = int(run_seed)
        cfg = self.config
        self._cache = self._session.cache
        self._stacks: list[Accounting] = self._session.stacks
        self._loop = self._session.loop
        self._embedder = (
            HashingEmbedder(cfg.memory.embedding_dim)
            if cfg.models[0].embeddings == "hashing" else self._stacks[0]
        )
        self._profile = prompts.Profile(cfg.compact, cfg.memory.retrieve_k,
                                        cfg.memory.short_term, cfg.max_actions)
        self._memory = MemoryStore(cfg.memory)
        self._main_topic = np.argmax(population.interests, axis=1).astype(np.int64)
        self._last_reflection = np.zeros(population.n, dtype=np.int32)
        self._systems: dict[int, str] = {}
        self._system_bodies: dict[int, tuple[str, bytes]] = {}  # the same, and as JSON
        self._templates: dict[tuple, tuple[ModelEndpoint, BodyTemplate]] = {}
        self._pending: list[CallRecord] = []
        self._stats: dict[str, Any] = step_stats(-1)
        self._step = 0
        self._closed = False
        self._embedding_faults = 0
        self._seen: _Seen | None = None
        self._described: dict[str, np.ndarray] = {}  # action memory text -> its embedding
        self._answers: StepAnswers | None = None  # the step's answers, assembled as they come
        self._remembering: concurrent.futures.Future[None] | None = None

    @property
    def config(self) -> LLMConfig:
        """The settings in use: environment overrides applied, output modes negotiated."""
        return self._session.config

    def __repr__(self) -> str:
        names = [m.name for m in self.config.models]
        return f"LLMBehavior(models={names}, cache={self._cache!r})"

    # -- the Behavior contract ----------------------------------------------------------

    def decide(self, obs: Observation, rng: np.random.Generator) -> Decision:
        self._settle()
        agents = np.asarray(obs.feed.agents, dtype=np.int64)
        self._step = step = int(obs.step)
        if not len(agents):
            self._stats = step_stats(step)
            return Decision.only(ActionBatch.empty())
        outcomes, reflections = self._ask_step(obs)
        ok = np.array([o.answer is not None for o in outcomes], dtype=bool)
        rows, failed = np.flatnonzero(ok), np.flatnonzero(~ok)
        answered, self._answers = self._answers, None
        if answered is None:  # _ask_step starts a StepAnswers for every non-empty step
            raise RuntimeError("LLMBehavior: the step's answers were never collected")
        rest = rows[~answered.covered[rows]]  # answers not yet assembled mid-step
        if len(rest):
            answered.add(rest, [outcomes[i].answer for i in rest.tolist()])
        decision, did = answered.combine()
        if len(failed):
            backup = self.fallback.decide(obs.subset(failed), rng)
            decision = merge(obs, decision, backup)
            did = join_memories([did, action_memories(backup.actions, obs.content, self.topics)])
        decision.fallbacks = len(failed)

        fallback_kinds: Counter[str] = Counter()
        details: dict[str, str] = {}
        for i in failed.tolist():
            outcome = outcomes[i]
            kind = (outcome.fault or Fault.EMPTY).value
            fallback_kinds[kind] += 1
            details.setdefault(kind, outcome.detail)
            if outcome.record is not None:
                outcome.record.fallback = True
        records = self._drain_calls()
        dropped = sum(o.answer.dropped for o in outcomes if o.answer is not None)
        self._stats = step_stats(step, records, fallback_kinds, dropped, reflections,
                                 self._embedding_faults, decisions=len(agents), details=details)
        self._embedding_faults = 0
        self._remember_meanwhile(obs, did)
        return decision

    # -- a step in two halves (one shard of distributed agents) ------------------------

    def ask(self, obs: Observation) -> tuple[list[Outcome], int]:
        """Every agent's outcome of ``obs`` and the reflections made, without a decision.

        The caller assembles the decision (a driver, from every shard's answers)
        and then calls :meth:`remember` with the actions taken.
        """
        self._step = int(obs.step)
        if not len(obs.feed.agents):
            return [], 0
        outcomes = self._ask_step(obs)
        self._answers = None
        return outcomes

    def remember(self, obs: Observation, actions: ActionBatch) -> None:
        """Store what the agents of ``obs`` saw and, as ``actions`` says, did."""
        self._loop.run(self._remember(obs, actions))

    def hand_over_calls(self) -> list[CallRecord]:
        """The model calls since the last drain, handed over (not kept for the records)."""
        records = self._drain_calls()
        self._pending.clear()
        return records

    def take_embedding_faults(self) -> int:
        """Failed embedding calls since the last take."""
        faults, self._embedding_faults = self._embedding_faults, 0
        return faults

    # -- accounting and records ---------------------------------------------------------

    @property
    def memory(self) -> MemoryStore:
        """The agents' memory streams, with the latest step's memories stored."""
        self._settle()
        return self._memory

    def last_step_stats(self) -> dict[str, Any]:
        """Requests, cache hits, tokens, cost, latency p50/p95, faults and fallbacks by kind."""
        self._settle()
        return dict(self._stats)

    def drain_records(self) -> dict[str, dict[str, list]]:
        """Rows for the ``llm_calls`` and ``memories`` tables since the last drain.

        Includes calls made after the step's decisions (a survey's interviews
        during the step), which would otherwise be lost at a run's last step.
        """
        self._settle()
        self._drain_calls()
        calls, self._pending = self._pending, []
        return {"llm_calls": call_columns(calls), "memories": self._memory.drain()}

    def check_reachable(self) -> None:
        """Raise EndpointUnreachableError unless every endpoint answers now."""
        self._session.check_reachable()

    def interview(self, agent: int, question: str) -> str:
        """Ask one agent a question, answered from its persona and memories.

        Reading memories here does not mark them as accessed, so interviews
        during a run do not change what happens next.
        """
        self._settle()
        return self._loop.run(self._interview(int(agent), question))

    # -- checkpoints --------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        self._settle()
        return {"memory": self._memory.get_state(),
                "last_reflection": self._last_reflection.copy()}

    def set_state(self, state: dict[str, Any]) -> None:
        self._settle()
        self._memory.set_state(state["memory"])
        self._last_reflection = np.asarray(state["last_reflection"], dtype=np.int32).copy()

    def close(self) -> None:
        """Close HTTP connections, the cache and the event loop (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._settle()
        finally:
            self._session.close()

    def __enter__(self) -> LLMBehavior:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the async part (runs on the behaviour's loop) ------------------------------------

    def _ask_step(self, obs: Observation) -> tuple[list[Outcome], int]:
        """Every agent's outcome (:meth:`_ask_all`), the garbage collector running rarely
        meanwhile: the step's many short-lived objects are collected later."""
        with rare_collections():
            return self._loop.run(self._ask_all(obs))

    async def _ask_all(self, obs: Observation) -> tuple[list[Outcome], int]:
        """Every agent's outcome, requests built just in time.

        At most the models' concurrency plus one chunk of requests wait for a
        slot: building the rest (retrieval a chunk at a time, then prompts)
        happens as slots free up, so it never delays handling the answers in
        flight, and requests go out while later ones are still being built.
        """
        step, feed = int(obs.step), obs.feed
        agents = np.asarray(feed.agents, dtype=np.int64)
        reflections = await self._reflect(agents, step)
        recall = bool(self._memory.count(agents).any())
        blocks: dict[int, str] = {}  # each post's prompt block, rendered when first needed
        which = model_for_agents(self.config, self.population, agents).tolist()
        ahead = asyncio.Semaphore(sum(m.concurrency for m in self.config.models) + LAUNCH_BATCH)
        tasks: list[asyncio.Future[Outcome]] = []
        arrivals = _Arrivals()
        self._described = {}
        self._answers = StepAnswers(obs, self.topics, self.news_ids, self._main_topic)
        seen: asyncio.Future[_Seen] | None = None
        try:
            for lo in range(0, len(agents), LAUNCH_BATCH):
                if arrivals.waiting() >= DESCRIBE_BATCH:
                    await self._describe(obs, tasks, arrivals)
                rows = np.arange(lo, min(lo + LAUNCH_BATCH, len(agents)))
                shown = feed.posts[feed.indptr[lo] : feed.indptr[rows[-1] + 1]]
                unseen = [p for p in np.unique(shown).tolist() if p not in blocks]
                blocks.update(prompts.render_posts(obs.content, np.asarray(unseen, np.int64),
                                                   self.topics, self.news_ids,
                                                   self._profile.post_chars,
                                                   self._profile.counts))
                memories = await self._retrieve(obs, rows) if recall else [[]] * len(rows)
                for i, memory in zip(rows.tolist(), memories, strict=True):
                    await ahead.acquire()
                    posts = feed.of(i)[: self._profile.feed_posts].tolist()
                    request = self._decide_request(obs, i, posts, memory, blocks, which[i])
                    task = asyncio.ensure_future(self._ask_one(
                        self._stacks[which[i]], request, set(posts), int(agents[i])))
                    task.add_done_callback(lambda _: ahead.release())
                    task.add_done_callback(functools.partial(lambda row, _: arrivals.note(row), i))
                    tasks.append(task)
                    # send them, and handle answers that came in, before building more
                    if len(tasks) % YIELD_EVERY == 0:
                        await asyncio.sleep(0)
            # the last requests are in flight: meanwhile, make room for the step's memories,
            # note what the agents saw and assemble the answers that keep coming in
            per_agent = self.config.memory.observe_k + self.config.max_actions  # at most
            self._memory.reserve(len(agents) * per_agent)
            seen = asyncio.ensure_future(self._observations(obs))
            batch = max(1, DESCRIBE_BATCH // 4)  # smaller: the loop has less to do now
            while len(arrivals.rows) < len(tasks):
                arrivals.changed.clear()
                await arrivals.changed.wait()
                if arrivals.waiting() >= batch and len(arrivals.rows) < len(tasks):
                    await self._describe(obs, tasks, arrivals)
            self._seen = await seen
        except BaseException:
            for pending in tasks:
                pending.cancel()
            if seen is not None:
                seen.cancel()
            raise
        return [task.result() for task in tasks], reflections  # all done (gather is slow)

    def _decide_request(
        self, obs: Observation, i: int, posts: list[int], memories: list[str],
        blocks: dict[int, str], model: int,
    ) -> ChatRequest:
        """The request of agent ``obs.feed.agents[i]``: its prefix, state, memories, feed."""
        step, feed, state = int(obs.step), obs.feed, obs.state
        agent = int(feed.agents[i])
        proof = feed.social_proof[feed.indptr[i] : feed.indptr[i] + len(posts)].tolist()
        attitude = dict(zip(self.topics, state.attitude[agent].tolist(), strict=True))
        user = prompts.decide_user(
            step,
            prompts.state_line(attitude, float(state.valence[agent]), float(state.arousal[agent])),
            memories, [blocks[p] for p in posts], proof, self._profile.memory_chars,
        )
        system, seed, tag = self._system(agent), derive_seed(self.run_seed, step, agent), \
            CallTag(step, agent, "decide")
        request = self._build_decide(model, system, user, seed, posts, tag)
        template = self._template(model, bool(posts))
        # a text the encoder refuses is left to the request, which raises where it always did
        with contextlib.suppress(UnicodeEncodeError):
            if template.usable:
                request.encoded_as(template.body(request, self._system_json(agent, system),
                                                 user, seed, posts))
        return request

    def _build_decide(self, model: int, system: str, user: str, seed: Any, posts: list[Any],
                      tag: CallTag = _TEMPLATE_TAG) -> ChatRequest:
        """A decision request from what varies per agent (see :class:`BodyTemplate`)."""
        return structured_request(
            self.config.models[model], messages(system, user), "social_media_decision",
            answer_schema(self.topics, self._profile.max_actions, posts,
                          self._profile.text_chars, self._profile.reason_chars, self.news_ids,
                          coarse=self._profile.compact),
            seed, tag,
        )

    def _template(self, model: int, posts: bool) -> BodyTemplate:
        """The body template of decision requests to ``model`` (with a feed, or without)."""
        endpoint = self.config.models[model]
        key = (model, posts, tuple(self.topics), tuple(self.news_ids))  # all the schema uses
        found = self._templates.get(key)
        if found is None or found[0] is not endpoint:  # made anew if the settings changed
            template = BodyTemplate(functools.partial(self._build_decide, model), posts)
            found = self._templates[key] = (endpoint, template)
        return found[1]

    def _system_json(self, agent: int, system: str) -> bytes:
        """The agent's system message as JSON, encoded once (it is the same at every step)."""
        found = self._system_bodies.get(agent)
        if found is None or found[0] is not system:
            found = self._system_bodies[agent] = (system, encode_value(system))
        return found[1]

    async def _ask_one(
        self, model: Accounting, request: ChatRequest, feed: set[int], agent: int
    ) -> Outcome:
        outcome = await self._attempt(model, request, feed, agent)
        if outcome.answer is not None or outcome.transport or not self.config.repair:
            return outcome
        if outcome.fault is None:  # _attempt names the fault of every unusable answer
            raise RuntimeError("LLMBehavior: an unusable answer without a fault")
        repair = dataclasses.replace(
            request,
            messages=repair_messages(request.messages, outcome.text,
                                             REPAIR_HINTS[outcome.fault]),
            seed=derive_seed(self.run_seed, request.tag.step, agent, "repair"),
            tag=CallTag(request.tag.step, agent, "repair"),
        )
        return await self._attempt(model, repair, feed, agent)

    async def _attempt(
        self, model: Accounting, request: ChatRequest, feed: set[int], agent: int
    ) -> Outcome:
        try:
            result = await model.complete(request)
        except LLMFault as fault:
            return Outcome(None, fault.kind, fault.record, transport=True, detail=str(fault))
        parsed = self._parse(result, feed, agent)
        if isinstance(parsed, ParsedAnswer):
            return Outcome(parsed, None, result.record)
        if result.record is not None:
            result.record.fault = parsed.fault.value
        return Outcome(None, parsed.fault, result.record, result.text, detail=parsed.message)

    def _parse(self, result: ChatResult, feed: set[int], agent: int) -> ParsedAnswer | ParseFailure:
        parsed = parse_answer(
            result.text, feed, self.topics,
            main_topic=self.topics[int(self._main_topic[agent])],
            news_ids=self.news_ids, n_agents=self.population.n,
            max_actions=self._profile.max_actions,
            truncated=result.finish_reason == "length",
        )
        if isinstance(parsed, ParseFailure) and result.refusal:
            return ParseFailure(Fault.REFUSAL, "the model refused to answer")
        return parsed

    async def _retrieve(self, obs: Observation, rows: np.ndarray) -> list[list[str]]:
        """Memories for the agents ``obs.feed.agents[rows]``, queried by the top of their feeds."""
        agents = np.asarray(obs.feed.agents[rows], dtype=np.int64)
        queries = await self._feed_queries(obs, rows)
        if queries is None:
            return [[] for _ in range(len(agents))]
        return self._memory.retrieve(agents, queries, int(obs.step), self._profile.memories,
                                     self._profile.short_term)

    async def _feed_queries(self, obs: Observation, rows: np.ndarray) -> np.ndarray | None:
        """Per agent, the sum of the embeddings of the top of its feed (the retrieval query).

        Feeds overlap, so each distinct post is embedded once (and the hashing
        embedder caches it across steps); an empty feed asks about a quiet feed.
        """
        content, feed = obs.content, obs.feed
        tops = [feed.of(i)[:QUERY_POSTS] for i in rows.tolist()]
        posts, which = np.unique(np.concatenate(tops), return_inverse=True)
        texts = [content.text_of(p) for p in posts.tolist()]
        vectors = await self._embed([*texts, QUIET_FEED])
        if vectors is None:
            return None
        vectors[:-1][[not t for t in texts]] = 0.0  # posts without text say nothing
        lengths = [len(top) for top in tops]
        picks = sp.csr_array((np.ones(len(which), np.float32), which, np.cumsum([0, *lengths])),
                             shape=(len(tops), len(vectors)))
        queries = picks @ vectors
        quiet = ~queries.any(axis=1)
        queries[quiet] = vectors[-1]
        return queries

    async def _reflect(self, agents: np.ndarray, step: int) -> int:
        every = self.config.memory.reflect_every
        if every <= 0:
            return 0
        due = agents[(step - self._last_reflection[agents] >= every)
                     & (self._memory.count(agents) > 0)]
        if not len(due):
            return 0
        self._last_reflection[due] = step
        statements = self._memory.recent(due, self.config.memory.reflect_window)
        which = model_for_agents(self.config, self.population, due)
        tasks = []
        for i, agent in enumerate(due.tolist()):
            main = self.topics[int(self._main_topic[agent])]
            request = structured_request(
                self.config.models[which[i]],
                prompts.reflection_messages(self._persona(agent), main, statements[i]),
                "reflection_insights", INSIGHTS_SCHEMA,
                derive_seed(self.run_seed, step, agent, "reflect"), CallTag(step, agent, "reflect"),
            )
            tasks.append(self._reflect_one(self._stacks[which[i]], request))
        results = await asyncio.gather(*tasks)
        owners, texts, importance = [], [], []
        for agent, insights in zip(due.tolist(), results, strict=True):
            for insight in insights:
                owners.append(agent)
                texts.append(insight.text)
                importance.append(insight.importance)
        vectors = await self._embed(texts, keep=True) if texts else None
        if vectors is not None:
            self._memory.add(np.asarray(owners), step, MemoryKind.REFLECTION,
                            np.asarray(importance, np.float32), texts, vectors)
        return len(texts)

    async def _reflect_one(self, model: Accounting, request: ChatRequest) -> list[Insight]:
        try:
            result = await model.complete(request)
        except LLMFault:
            return []
        parsed = parse_insights(result.text)
        if isinstance(parsed, ParseFailure):
            if result.record is not None:
                result.record.fault = parsed.fault.value
            return []
        return parsed

    async def _describe(
        self, obs: Observation, tasks: list[asyncio.Future[Outcome]], arrivals: _Arrivals
    ) -> None:
        """Assemble the answers that are in, and embed their action memories ahead of storing.

        The memory writes look the embeddings up (:attr:`_described`) and embed
        only what is missing (fallback agents, or all of it if this failed).
        """
        rows = arrivals.take()
        done = [(row, tasks[row]) for row in rows]
        answers = [(row, answer) for row, task in done
                   if not task.cancelled() and task.exception() is None
                   and (answer := task.result().answer) is not None]
        if not answers or self._answers is None:
            return
        picked = np.array([row for row, _ in answers], dtype=np.int64)
        texts = self._answers.add(picked, [answer for _, answer in answers])
        try:
            vectors = await self._embedder.embed(texts) if texts else None
        except LLMFault:
            return  # the memory writes embed them (and count the fault)
        if vectors is not None:
            self._described.update(zip(texts, vectors, strict=True))

    async def _observations(self, obs: Observation) -> _Seen:
        """The observation memories of this step's agents, embedded (not yet stored).

        Written and embedded for a slice of agents at a time (about
        ``EMBED_BATCH`` texts), yielding in between: answers keep coming in.
        """
        k = self.config.memory.observe_k
        n = len(obs.feed.agents)
        width = max(1, EMBED_BATCH // max(k, 1))
        by, texts, importance, vectors = [], [], [], []
        failed = False
        for lo in range(0, n, width):
            part = observation_memories(obs.subset(np.arange(lo, min(lo + width, n))),
                                        self.topics, k)
            by.append(part[0])
            texts += part[1]
            importance.append(part[2])
            if part[1] and not failed:
                embedded = await self._embed(part[1], keep=True)
                if embedded is None:
                    failed = True
                else:
                    vectors.append(embedded)
            await asyncio.sleep(0)
        return _Seen(int(obs.step), np.concatenate(by) if by else np.empty(0, np.int64), texts,
                     np.concatenate(importance) if importance else np.empty(0, np.float32),
                     None if failed or not vectors else np.concatenate(vectors))

    def _remember_meanwhile(self, obs: Observation, did: Memories) -> None:
        """Store this step's memories on the loop while the engine applies the step.

        What the agents did (``did``) is described before the platform changes;
        the embedding and storing finish in the background and every reader of
        the memories (the next step, records, checkpoints, interviews) waits for
        them (:meth:`_settle`).
        """
        self._remembering = self._loop.submit(self._store_memories(obs, did))

    def _settle(self) -> None:
        """Wait for the memories of the latest step to be stored (raise what failed there)."""
        pending, self._remembering = self._remembering, None
        if pending is None:
            return
        pending.result()
        if self._embedding_faults:  # the step's stats were taken before its memories
            self._stats["embedding_faults"] = (
                int(self._stats.get("embedding_faults", 0)) + self._embedding_faults)
            self._embedding_faults = 0

    async def _remember(self, obs: Observation, actions: ActionBatch) -> None:
        """Store what the agents saw (embedded while their answers came in) and did."""
        await self._store_memories(obs, action_memories(actions, obs.content, self.topics))

    async def _store_memories(self, obs: Observation, did_memories: Memories) -> None:
        seen, self._seen = self._seen, None
        if seen is None or seen.step != int(obs.step):
            seen = await self._observations(obs)
        did_by, did, did_imp = did_memories
        described, self._described = self._described, {}
        missing = [text for text in did if text not in described]
        if missing:
            vectors = await self._embed(missing, keep=True)
            if vectors is not None:
                described.update(zip(missing, vectors, strict=True))
        did_vectors = None
        if did and all(text in described for text in did):
            did_vectors = np.stack([described[text] for text in did])
        texts = seen.texts + did
        if not texts or (seen.texts and seen.vectors is None) or (did and did_vectors is None):
            return  # nothing to store, or no embedding dimension known yet
        parts = [v for v in (seen.vectors, did_vectors) if v is not None]
        kinds = np.concatenate([np.full(len(seen.texts), MemoryKind.OBSERVATION, np.int8),
                                np.full(len(did), MemoryKind.ACTION, np.int8)])
        self._memory.add(np.concatenate([seen.by, did_by]), int(obs.step), kinds,
                        np.concatenate([seen.importance, did_imp]), texts,
                        np.concatenate(parts))

    async def _interview(self, agent: int, question: str) -> str:
        vectors = await self._embed([question])
        memories = [] if vectors is None else self._memory.retrieve(
            np.array([agent]), vectors, self._step, touch=False)[0]
        which = int(model_for_agents(self.config, self.population, np.array([agent]))[0])
        return await ainterview(
            self._stacks[which], self.config.models[which], self._persona(agent), memories,
            question, seed=derive_seed(self.run_seed, self._step, agent, "interview"),
            tag=CallTag(self._step, agent, "interview"),
        )

    async def _embed(self, texts: list[str], keep: bool = False) -> np.ndarray | None:
        """Embeddings, or (if the endpoint fails) zero vectors when ``keep`` else ``None``.

        A failed embedding call must not stop a run: queries then retrieve
        nothing, and new memories are kept without relevance signal.
        """
        try:
            return await self._embedder.embed(texts)
        except LLMFault as fault:
            self._embedding_faults += 1
            _log.warning("embedding request failed (%s); continuing without it", fault.kind)
            dim = self._memory.dim
            return np.zeros((len(texts), dim), np.float32) if keep and dim else None

    # -- helpers --------------------------------------------------------------------------

    def _persona(self, agent: int) -> str:
        return self.population.persona_text(agent)

    def _system(self, agent: int) -> str:
        """The agent's stable prompt prefix, built once."""
        system = self._systems.get(agent)
        if system is None:
            main = self.topics[int(self._main_topic[agent])]
            system = prompts.decide_system(self._persona(agent), main, self.topics,
                                           self._profile.max_actions, self._profile.compact)
            self._systems[agent] = system
        return system

    def _drain_calls(self) -> list[CallRecord]:
        records = [r for stack in self._stacks for r in stack.drain()]
        records.sort(key=record_order)
        self._pending.extend(records)
        return records


