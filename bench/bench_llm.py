"""LLM scheduling: throughput against a fixed-latency server, framework overhead, batching.

The fake OpenAI-compatible server (tests/llm/fake_server.py) runs in its own
process (bench/llm_server.py), so its CPU work does not share the GIL with the
client being measured. Every section calls ``LLMBehavior.decide`` on batches of
agents with feeds of 10-20 posts, memory on (hashing embeddings), reflection
off and, unless stated, the response cache off, so every decision is one real
HTTP request.

    python bench/bench_llm.py            # the full benchmark (~10 min on 2 cores)
    python bench/bench_llm.py --quick    # a short smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import start_server, stop_server  # noqa: E402

from townsquare.behavior.base import Decision, Feed, Observation  # noqa: E402
from townsquare.behavior.llm import LLMBehavior  # noqa: E402
from townsquare.behavior.llm.client import ChatClient, ChatRequest, ChatResult  # noqa: E402
from townsquare.behavior.llm.config import LLMConfig, MemoryConfig, ModelEndpoint  # noqa: E402
from townsquare.network.graph import FollowGraph  # noqa: E402
from townsquare.platform.actions import Action, ActionBatch  # noqa: E402
from townsquare.platform.content import ContentStore  # noqa: E402
from townsquare.population import AgentState, Population, sample_population  # noqa: E402
from townsquare.scenario import PopulationConfig  # noqa: E402

TOPICS = ["politics", "health", "climate"]
NEWS = ["rumour-water", "story-budget"]
POPULATION = 10_000
POSTS = 5_000
FEED = (10, 20)  # feed length range, inclusive
MODEL = "fake-model"
_WORDS = ("the council vote budget vaccine study hospital water supply election debate heat "
          "wave flood policy tax school doctors rumour share delete breaking report city "
          "mayor trial data climate storm prices clinic nurses bill protest").split()


# -- a world to observe ---------------------------------------------------------------------


@dataclass
class World:
    """Personas, state and posts; observations are drawn from it and never mutated."""

    population: Population
    state: AgentState
    content: ContentStore
    graph: FollowGraph

    def observe(self, step: int, agents: np.ndarray, seed: int = 0) -> Observation:
        """Feeds of 10-20 random posts for ``agents`` (deterministic in step and seed)."""
        rng = np.random.default_rng([seed, step, len(agents)])
        lengths = rng.integers(FEED[0], FEED[1] + 1, size=len(agents))
        indptr = np.zeros(len(agents) + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        posts = rng.integers(0, len(self.content), size=int(indptr[-1]))
        proof = rng.integers(0, 4, size=len(posts))
        feed = Feed(np.asarray(agents, np.int64), indptr, posts.astype(np.int64), proof)
        return Observation(step, feed, self.content, self.population, self.state, self.graph)


def make_world(n_agents: int = POPULATION, n_posts: int = POSTS, seed: int = 0) -> World:
    rng = np.random.default_rng(seed)
    population = sample_population(PopulationConfig(size=n_agents, topics=TOPICS), rng)
    state = AgentState.initial(population, len(NEWS), rng)
    content = ContentStore()
    lengths = rng.integers(8, 40, size=n_posts)
    texts = [" ".join(rng.choice(_WORDS, size=k)).capitalize() + "." for k in lengths]
    texts = [t if rng.random() > 0.1 else None for t in texts]  # some heuristic posts
    news = np.where(rng.random(n_posts) < 0.05, rng.integers(0, len(NEWS), n_posts), -1)
    content.add(
        author=rng.integers(0, n_agents, n_posts), kind=np.full(n_posts, Action.POST),
        parent=np.full(n_posts, -1), topic=rng.integers(0, len(TOPICS), n_posts),
        stance=rng.uniform(-1, 1, n_posts).astype(np.float32), step=0, text=texts,
        news=news, veracity=np.where(news >= 0, 2, 0),
    )
    content.count("likes", rng.integers(0, n_posts, 4 * n_posts))
    ring = np.arange(n_agents)
    graph = FollowGraph.from_edges(n_agents, ring, (ring + 1) % n_agents)
    return World(population, state, content, graph)


class IdleFallback:
    """Fallback for failed requests (there should be none): every agent idles."""

    def decide(self, obs: Observation, rng: np.random.Generator) -> Decision:
        return Decision.only(ActionBatch.build(obs.feed.agents, Action.IDLE))


# -- models under the wrapper stack -----------------------------------------------------------

_POST_ID = re.compile(rb'<post id=\\"(\d+)\\"')


def canned_answer(post: int) -> str:
    """A valid decision: like one post, update attitudes and emotion."""
    return json.dumps({
        "actions": [{"type": "like", "post": post, "reason": "it caught my eye"}],
        "attitude": {t: 0.1 for t in TOPICS}, "emotion": {"valence": 0.2, "arousal": 0.3},
    })


def mock_transport() -> httpx.MockTransport:
    """An in-process transport answering every chat request with a canned completion."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": MODEL}]})
        body = request.content
        match = _POST_ID.search(body)
        content = canned_answer(int(match.group(1)) if match else 0)
        return httpx.Response(200, json={
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": len(body) // 4, "completion_tokens": len(content) // 4},
        })

    return httpx.MockTransport(handle)


class StubModel:
    """A :class:`ChatModel` without HTTP: the canned answer, and the prompts it was sent."""

    def __init__(self, keep_prompts: bool = False) -> None:
        self.keep_prompts = keep_prompts
        self.prompts: list[tuple[int, int, str, str]] = []  # (step, agent, system, user)

    async def complete(self, request: ChatRequest) -> ChatResult:
        system, user = request.messages[0]["content"], request.messages[-1]["content"]
        if self.keep_prompts:
            self.prompts.append((request.tag.step, request.tag.agent, system, user))
        match = _POST_ID.search(user.replace('"', '\\"').encode())
        return ChatResult(content=canned_answer(int(match.group(1)) if match else 0),
                          finish_reason="stop", prompt_tokens=100, completion_tokens=30)

    async def embed(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError("the benchmark uses hashing embeddings")

    async def aclose(self) -> None:
        return None


class InSlot:
    """Times each request inside its concurrency slot (HTTP only, no queueing)."""

    def __init__(self, inner: ChatClient) -> None:
        self.inner = inner
        self.latencies_ms: list[float] = []

    async def complete(self, request: ChatRequest) -> ChatResult:
        start = time.perf_counter()
        try:
            return await self.inner.complete(request)
        finally:
            self.latencies_ms.append((time.perf_counter() - start) * 1000.0)

    async def embed(self, texts: list[str]) -> np.ndarray:
        return await self.inner.embed(texts)

    async def aclose(self) -> None:
        await self.inner.aclose()


def replace_client(behavior: LLMBehavior, make: Callable[[ChatClient], object]) -> object:
    """Swap the ChatClient at the bottom of the first model's stack for ``make(client)``."""
    model = behavior._stacks[0]
    while not isinstance(model.inner, ChatClient):
        model = model.inner
    model.inner = make(model.inner)
    return model.inner


def make_behavior(
    world: World, base_url: str, concurrency: int, *, cache_path: Path | None = None,
    transport: httpx.AsyncBaseTransport | None = None, check: bool = True,
) -> LLMBehavior:
    endpoint = ModelEndpoint(base_url=base_url, model=MODEL, api_key_env=None,
                             concurrency=concurrency, timeout_s=120.0, max_retries=1)
    config = LLMConfig(models=[endpoint], memory=MemoryConfig(reflect_every=0),
                       cache=cache_path is not None, cache_path=cache_path)
    return LLMBehavior(config, world.population, TOPICS, NEWS, IdleFallback(), run_seed=7,
                       transport=transport, check=check)


# -- measuring ----------------------------------------------------------------------------


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of another process (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measure:
    """Decisions, wall and CPU time of a series of decide() calls."""

    decisions: int = 0
    requests: int = 0
    fallbacks: int = 0
    cache_hits: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    server_cpu_s: float | None = None
    steps: list[float] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.decisions / self.wall_s

    @property
    def wall_ms(self) -> float:
        return 1000.0 * self.wall_s / self.decisions

    @property
    def cpu_ms(self) -> float:
        return 1000.0 * self.cpu_s / self.decisions


@contextmanager
def server(latency_s: float) -> Iterator[tuple[str, int]]:
    process, base_url = start_server(latency_s)
    try:
        yield base_url, process.pid
    finally:
        stop_server(process)


def run_steps(
    behavior: LLMBehavior, world: World, agents: int, steps: range, server_pid: int | None = None,
) -> Measure:
    """decide() for ``agents`` agents at each step; totals over the steps."""
    m = Measure()
    server0 = process_cpu_s(server_pid) if server_pid else None
    rng = np.random.default_rng(0)
    for step in steps:
        who = np.random.default_rng(step).choice(POPULATION, size=agents, replace=False)
        obs = world.observe(step, np.sort(who))
        wall, cpu = time.perf_counter(), time.process_time()
        decision = behavior.decide(obs, rng)
        m.steps.append(time.perf_counter() - wall)
        m.wall_s += m.steps[-1]
        m.cpu_s += time.process_time() - cpu
        stats = behavior.last_step_stats()
        behavior.drain_records()
        m.decisions += agents
        m.requests += stats["requests"]
        m.cache_hits += stats["cache_hits"]
        m.fallbacks += decision.fallbacks
    if server_pid:
        m.server_cpu_s = process_cpu_s(server_pid) - server0  # type: ignore[operator]
    return m
