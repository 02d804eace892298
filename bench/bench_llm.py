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
import gc
import itertools
import json
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import start_server, stop_server
from townsquare.behavior.llm.client import ChatClient, ChatRequest, ChatResult
from townsquare.behavior.llm.config import LLMConfig, MemoryConfig, ModelEndpoint
from townsquare.behavior.llm.http import HttpReply, HttpTransport
from townsquare.core.actions import Action, ActionBatch
from townsquare.core.behavior import Decision, Feed, Observation
from townsquare.environments.social.content import ContentStore
from townsquare.environments.social.llm.behavior import LLMBehavior
from townsquare.network.graph import FollowGraph
from townsquare.population.config import PopulationConfig
from townsquare.population.model import AgentState, Population, sample_population

TOPICS = ["politics", "health", "climate"]
NEWS = ["rumour-water", "story-budget"]
POPULATION = 10_000
POSTS = 5_000
FEED = (10, 20)  # feed length range, inclusive
MODEL = "fake-model"
_WORDS = ["the", "council", "vote", "budget", "vaccine", "study", "hospital", "water", "supply",
          "election", "debate", "heat", "wave", "flood", "policy", "tax", "school", "doctors",
          "rumour", "share", "delete", "breaking", "report", "city", "mayor", "trial", "data",
          "climate", "storm", "prices", "clinic", "nurses", "bill", "protest"]


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


class MockTransport:
    """An in-process transport answering every chat request with a canned completion."""

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None
    ) -> HttpReply:
        if url.endswith("/models"):
            return HttpReply(200, json.dumps({"data": [{"id": MODEL}]}).encode())
        body = content or b""
        match = _POST_ID.search(body)
        answer = canned_answer(int(match.group(1)) if match else 0)
        return HttpReply(200, json.dumps({
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": len(body) // 4, "completion_tokens": len(answer) // 4},
        }).encode())

    async def aclose(self) -> None:
        return None


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
    transport: HttpTransport | None = None, check: bool = True,
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


def run_queue_wait_s(pid: int) -> float | None:
    """Seconds the threads of a process spent runnable but waiting for a CPU (schedstat)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return sum(int((t / "schedstat").read_text().split()[1]) for t in tasks) / 1e9
    except (OSError, IndexError, ValueError):
        return None


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
    client_wait_s: float | None = None  # runnable but not running: CPU taken by others
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.decisions / self.wall_s

    @property
    def wall_ms(self) -> float:
        return 1000.0 * self.wall_s / self.decisions

    @property
    def cpu_ms(self) -> float:
        return 1000.0 * self.cpu_s / self.decisions

    @property
    def cpu_share(self) -> float:
        """Client CPU seconds per wall second (1.0 = one core busy: CPU-bound under the GIL)."""
        return self.cpu_s / self.wall_s

    def starved(self) -> str:
        """Share of the wall time the client's threads waited for a CPU (other processes')."""
        return "n/a" if self.client_wait_s is None else f"{self.client_wait_s / self.wall_s:.0%}"

    def server_ms(self) -> str:
        if self.server_cpu_s is None or not self.requests:
            return "n/a"
        return f"{1000.0 * self.server_cpu_s / self.requests:.2f}"

    def latency(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


@contextmanager
def server(latency_s: float) -> Iterator[tuple[str, int]]:
    """A fake server process answering after ``latency_s``; yields (base URL, pid)."""
    process, base_url = start_server(latency_s)
    try:
        yield base_url, process.pid
    finally:
        stop_server(process)


def agents_for(step: int, n: int) -> np.ndarray:
    """``n`` distinct agents of the population, a different draw at each step."""
    return np.sort(np.random.default_rng([99, step]).choice(POPULATION, size=n, replace=False))


def run_steps(
    behavior: LLMBehavior, world: World, n: int, steps: range, server_pid: int | None = None,
    same_agents: bool = False,
) -> Measure:
    """decide() for ``n`` agents at each of ``steps``; totals over the steps."""
    m = Measure()
    slot = _in_slot(behavior)
    if slot is not None:
        slot.latencies_ms.clear()
    server0 = process_cpu_s(server_pid) if server_pid else None
    wait0 = run_queue_wait_s(os.getpid())
    rng = np.random.default_rng(0)
    steps = list(steps)
    obs = world.observe(steps[0], agents_for(0 if same_agents else steps[0], n))
    for k in range(len(steps)):
        wall, cpu = time.perf_counter(), time.process_time()
        decision = behavior.decide(obs, rng)
        m.wall_s += time.perf_counter() - wall
        m.cpu_s += time.process_time() - cpu
        # the engine's own work of the step (here: building the next observation) runs
        # while the behaviour stores its memories; the wait for them after it is timed
        following = steps[k + 1] if k + 1 < len(steps) else steps[k] + 1
        obs = world.observe(following, agents_for(0 if same_agents else following, n))
        wall, cpu = time.perf_counter(), time.process_time()
        stats = behavior.last_step_stats()
        behavior.drain_records()
        m.wall_s += time.perf_counter() - wall
        m.cpu_s += time.process_time() - cpu
        m.decisions += n
        m.requests += stats["requests"]
        m.cache_hits += stats["cache_hits"]
        m.fallbacks += decision.fallbacks
    wait1 = run_queue_wait_s(os.getpid())
    if wait0 is not None and wait1 is not None:
        m.client_wait_s = wait1 - wait0
    if server0 is not None:
        m.server_cpu_s = process_cpu_s(server_pid) - server0  # type: ignore[arg-type, operator]
    if slot is not None:
        m.latencies_ms = list(slot.latencies_ms)
    return m


def _in_slot(behavior: LLMBehavior) -> InSlot | None:
    model = behavior._stacks[0]
    while hasattr(model, "inner"):
        if isinstance(model, InSlot):
            return model
        model = model.inner
    return None


def http_behavior(world: World, base_url: str, concurrency: int, **kw: object) -> LLMBehavior:
    """A behaviour against ``base_url`` whose requests are timed in their slot, warmed up.

    The warm-up step (one wave of ``concurrency`` agents, step 1000) opens the
    keep-alive connections, so measured steps do not pay for TCP connects.
    """
    behavior = make_behavior(world, base_url, concurrency, **kw)  # type: ignore[arg-type]
    replace_client(behavior, InSlot)
    run_steps(behavior, world, concurrency, range(1000, 1001))
    return behavior


def cpu_reference_ms() -> float:
    """CPU time of a fixed pure-Python loop: shows how fast this (shared) machine runs now."""
    start = time.process_time()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return 1000.0 * (time.process_time() - start)


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# -- phases of the framework (instrumented by wrapping the layer's functions) ---------------------

RETRIEVE = "memory retrieval (hashing embeddings of the queries)"
SEEN = "observation memories (embedded while the last answers arrive)"
REMEMBER = "memory writes (embedding actions, storing; beside the engine's step)"
SETTLE = "waiting for the memory writes after the engine's step"
PHASES = {
    "prompt build": [("prompts", "render_posts"), ("prompts", "decide_user"),
                     ("prompts", "state_line"), ("behavior", "messages"),
                     ("behavior", "structured_request"), ("LLMBehavior", "_system")],
    "request JSON + sha256 key": [("ChatRequest", "key")],
    "answer parse + validation": [("behavior", "parse_answer")],
    "assemble decision": [("assemble", "answers_to_decision"), ("StepAnswers", "combine"),
                          ("behavior", "merge")],
    RETRIEVE: [("LLMBehavior", "_retrieve")],
    SEEN: [("LLMBehavior", "_observations")],
    REMEMBER: [("LLMBehavior", "_store_memories")],
    SETTLE: [("LLMBehavior", "_settle")],
    "call records + step stats": [("behavior", "step_stats"), ("behavior", "call_columns")],
}


@contextmanager
def phases() -> Iterator[dict[str, float]]:
    """Seconds spent in each phase of :data:`PHASES` while the block runs."""
    from townsquare.environments.social.llm import assemble, prompts
    from townsquare.environments.social.llm import behavior as module

    owners = {"prompts": prompts, "behavior": module, "LLMBehavior": LLMBehavior,
              "ChatRequest": ChatRequest, "assemble": assemble,
              "StepAnswers": assemble.StepAnswers}
    spent = dict.fromkeys(PHASES, 0.0)
    saved = []
    for phase, names in PHASES.items():
        for owner_name, name in names:
            owner = owners[owner_name]
            original = getattr(owner, name)
            saved.append((owner, name, original))
            setattr(owner, name, _timed(original, phase, spent))
    try:
        yield spent
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def _timed(fn: Callable, phase: str, spent: dict[str, float]) -> Callable:
    if asyncio.iscoroutinefunction(fn):
        async def timed_async(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                spent[phase] += time.perf_counter() - start
        return timed_async

    def timed(*args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[phase] += time.perf_counter() - start
    return timed


# -- sections -----------------------------------------------------------------------------


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def throughput_row(latency: float, concurrency: int, m: Measure) -> list[object]:
    ideal = concurrency / latency
    return [f"{latency * 1000:.0f}", concurrency, m.decisions, f"{m.wall_s:.2f}",
            f"{m.per_s:.0f}", f"{ideal:.0f}", f"**{m.per_s / ideal:.2f}**",
            f"{m.latency(50):.0f} / {m.latency(95):.0f}", f"{m.cpu_ms:.2f}",
            f"{1000 / m.cpu_ms:.0f}", f"{m.cpu_share:.0%}", m.starved(), m.server_ms(),
            m.fallbacks]


THROUGHPUT_HEADER = ["latency ms", "concurrency", "decisions", "wall s", "decisions/s",
                     "ideal c/latency", "ratio", "request p50 / p95 ms", "client CPU ms/decision",
                     "client CPU limit decisions/s", "client CPU busy", "client waited for a CPU",
                     "server CPU ms/request", "fallbacks"]


@contextmanager
def frozen_gc() -> Iterator[None]:
    """``gc.freeze()`` the objects alive now (the world), so collections skip them."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def acceptance(world: World, agents: int, steps: int, repeats: int) -> str:
    """Issue #4 acceptance 2: 100 ms server, concurrency 64; default GC and a frozen heap."""
    latency, concurrency = 0.1, 64
    ideal = concurrency / latency
    model_ms = 1000.0 * latency / concurrency
    columns = []
    with server(latency) as (url, pid):
        for gc_setting in (nullcontext,) * repeats + (frozen_gc,):
            with gc_setting():
                behavior = http_behavior(world, url, concurrency)
                with phases() as spent:
                    m = run_steps(behavior, world, agents, range(steps), pid)
                behavior.close()
            columns.append([
                f"{m.decisions} ({agents} x {steps})", f"{m.wall_s:.2f} s",
                f"{m.per_s:.0f} decisions/s", f"{ideal:.0f} decisions/s",
                f"**{m.per_s / ideal:.3f}**",
                f"{m.latency(50):.1f} / {m.latency(95):.1f} ms", f"{m.wall_ms:.3f} ms",
                f"{model_ms:.3f} ms", f"{m.wall_ms - model_ms:.3f} ms", f"{m.cpu_ms:.3f} ms",
                f"{m.cpu_share:.0%} of one core", m.starved(),
                f"{1000 * spent[RETRIEVE] / m.decisions:.3f} ms/decision",
                f"{1000 * spent[SEEN] / m.decisions:.3f} ms/decision",
                f"{1000 * spent[REMEMBER] / m.decisions:.3f} ms/decision",
                f"{1000 * spent[SETTLE] / m.decisions:.3f} ms/decision",
                f"{m.server_ms()} ms", f"{m.requests} / {m.fallbacks}"])
    names = ["decisions (agents x steps)", "wall time", "throughput",
             "ideal concurrency / latency", "ratio (target >= 0.90)",
             "request latency p50 / p95 (in its slot)", "wall time per decision",
             "model time per decision (latency / concurrency)",
             "framework time per decision (wall - model)",
             "client CPU per decision (framework + HTTP)", "client CPU busy",
             "client runnable but waiting for a CPU (other processes)",
             "memory retrieval, interleaved with the requests",
             "observation memories, embedded while the last answers arrive",
             "memory writes, beside the engine's step (its next observation here)",
             "waiting for the memory writes after the engine's step (timed)",
             "server CPU per request (its own process)", "requests / fallbacks"]
    rows = [[name, *values] for name, *values in zip(names, *columns, strict=True)]
    return ("### 1. 100 ms server, concurrency 64\n\n"
            + table(["", *(f"run {k + 1}" for k in range(repeats)),
                     "gc.freeze() after building the world"], rows))


def scaling(world: World, configs: list[tuple[float, int, int]]) -> str:
    """Throughput against concurrency, per latency; ``(latency, concurrency, agents)``."""
    rows = []
    for latency in sorted({c[0] for c in configs}):
        with server(latency) as (url, pid):
            for lat, concurrency, agents in configs:
                if lat != latency:
                    continue
                behavior = http_behavior(world, url, concurrency)
                m = run_steps(behavior, world, agents, range(2), pid)
                behavior.close()
                rows.append(throughput_row(latency, concurrency, m))
                print(f"  scaling: {rows[-1]}", file=sys.stderr)
    return ("### 2. Throughput against concurrency (2 steps each, after a warm-up step)\n\n"
            + table(THROUGHPUT_HEADER, rows))


def overhead(world: World, agents: int, steps: int, tmp: Path) -> str:
    """Framework time per decision: 0 ms server, cached replay, no HTTP at all."""
    rows = []

    def row(name: str, m: Measure, note: str = "") -> None:
        rows.append([name, f"{m.per_s:.0f}", f"{m.wall_ms:.3f}", f"{m.cpu_ms:.3f}",
                     m.server_ms(), f"{m.cache_hits}/{m.requests}", m.starved(), note])

    with server(0.0) as (url, pid):
        behavior = http_behavior(world, url, 64)
        row("(a) HTTP to a 0 ms server", run_steps(behavior, world, agents, range(steps), pid),
            "client CPU = framework + HTTP (aiohttp)")
        behavior.close()
        cache = tmp / "replay.sqlite"
        behavior = http_behavior(world, url, 64, cache_path=cache)
        row("(b) first run, cache on (fills it)",
            run_steps(behavior, world, agents, range(steps), pid))
        behavior.close()
        behavior = http_behavior(world, url, 64, cache_path=cache)
        row("(b) cached replay (new behaviour, same cache)",
            run_steps(behavior, world, agents, range(steps), pid), "no HTTP request sent")
        behavior.close()
    behavior = make_behavior(world, "http://mock/v1", 64, transport=MockTransport())
    row("(c) in-process transport (no sockets)",
        run_steps(behavior, world, agents, range(steps)))
    behavior.close()
    behavior = make_behavior(world, "http://stub/v1", 64, check=False)
    replace_client(behavior, lambda client: StubModel())
    run_steps(behavior, world, 64, range(1000, 1001))
    with phases() as spent:
        stub = run_steps(behavior, world, agents, range(steps))
    behavior.close()
    row("(c) no HTTP: in-process model stub", stub, "prompt + parse + assemble + memory")

    heuristic = _heuristic_ms(world, agents)
    header = ["run (concurrency 64)", "decisions/s", "wall ms/decision", "client CPU ms/decision",
              "server CPU ms/request", "cache hits/requests", "client waited for a CPU",
              "note"]
    parts = [[name, f"{1000 * s / stub.decisions:.3f}", f"{s / stub.wall_s:.0%}"]
             for name, s in spent.items()]
    rest = stub.wall_s - sum(v for k, v in spent.items() if k != REMEMBER)  # not in wall time
    parts.append(["wrappers, asyncio tasks, model stub, rest",
                  f"{1000 * rest / stub.decisions:.3f}", f"{rest / stub.wall_s:.0%}"])
    return ("### 3. Framework overhead per decision"
            f" ({agents} agents x {steps} steps, feeds of 10-20 posts, memory on)\n\n"
            + table(header, rows)
            + f"\n\nFor scale: the vectorized heuristic decides the same observations in "
            f"{heuristic:.4f} ms per agent.\n\n"
            "Where the no-HTTP time goes (wall time inside each phase):\n\n"
            + table(["phase", "ms/decision", "share"], parts))


def _heuristic_ms(world: World, agents: int) -> float:
    from townsquare.environments.social.config import SocialBehavior
    from townsquare.environments.social.heuristic import SocialHeuristic

    heuristic = SocialHeuristic(SocialBehavior())
    obs = world.observe(0, agents_for(0, agents))
    rng = np.random.default_rng(0)
    heuristic.decide(obs, rng)
    start = time.perf_counter()
    for _ in range(5):
        heuristic.decide(obs, rng)
    return 1000.0 * (time.perf_counter() - start) / (5 * agents)


def big_step(world: World, agents: int, concurrency: int, latency: float) -> str:
    """One step of ``agents`` LLM agents, as the engine would issue it."""
    with server(latency) as (url, pid):
        behavior = http_behavior(world, url, concurrency)
        run_steps(behavior, world, agents // 4, range(1))  # memories for some agents
        with phases() as spent:
            m = run_steps(behavior, world, agents, range(1, 2), pid)
        behavior.close()
    ideal = concurrency / latency
    prompt = spent["prompt build"] + spent["request JSON + sha256 key"] + spent[RETRIEVE]
    rows = [["agents in the step", agents], ["concurrency / latency", f"{concurrency} / "
                                             f"{latency * 1000:.0f} ms"],
            ["requests (= HTTP requests, cache off)", m.requests],
            ["wall time of the step", f"{m.wall_s:.2f} s"],
            ["ideal (agents / concurrency x latency)",
             f"{agents / concurrency * latency:.2f} s"],
            ["decisions/s (ideal)", f"{m.per_s:.0f} ({ideal:.0f})"],
            ["ratio", f"**{m.per_s / ideal:.2f}**"],
            ["request latency p50 / p95 (in its slot)",
             f"{m.latency(50):.0f} / {m.latency(95):.0f} ms"],
            ["client CPU busy", f"{m.cpu_share:.0%} of one core ({m.cpu_ms:.2f} ms/decision)"],
            ["client runnable but waiting for a CPU (other processes)", m.starved()],
            ["memory retrieval + prompt building + request JSON (interleaved with requests)",
             f"{prompt:.2f} s"],
            ["observation memories, embedded while the last answers arrive",
             f"{spent[SEEN]:.2f} s"],
            ["memory writes, beside the engine's step", f"{spent[REMEMBER]:.2f} s"],
            ["waiting for them after the engine's step (timed)", f"{spent[SETTLE]:.2f} s"],
            ["fallbacks", m.fallbacks]]
    return (f"### 4. One step of {agents:,} LLM agents\n\n" + table(["", "value"], rows))


def prefix_reuse(world: World, agents: int, steps: int) -> str:
    """How much of each prompt is a prefix that is byte-identical at every step."""
    behavior = make_behavior(world, "http://stub/v1", 64, check=False)
    stub = replace_client(behavior, lambda client: StubModel(keep_prompts=True))
    run_steps(behavior, world, agents, range(steps), same_agents=True)
    behavior.close()
    by_agent: dict[int, list[tuple[int, str, str]]] = {}
    for step, agent, system, user in stub.prompts:  # type: ignore[attr-defined]
        by_agent.setdefault(agent, []).append((step, system, user))
    same_system = sum(len({s for _, s, _ in seen}) == 1 for seen in by_agent.values())
    system_share, common_share = [], []
    for seen in by_agent.values():
        seen.sort()
        for (_, s0, u0), (_, s1, u1) in itertools.pairwise(seen):
            a, b = s0 + "\n" + u0, s1 + "\n" + u1
            common_share.append(_common_prefix(a, b) / len(b))
        for _, s, u in seen:
            system_share.append(len(s) / (len(s) + len(u)))
    chars = np.mean([len(s) + len(u) for _, _, s, u in stub.prompts])  # type: ignore[attr-defined]
    rows = [["requests (agents x steps)", f"{len(stub.prompts)} ({agents} x {steps})"],  # type: ignore[attr-defined]
            ["agents whose system message is byte-identical at every step",
             f"{same_system} / {len(by_agent)}"],
            ["mean prompt length", f"{chars:.0f} characters"],
            ["share of the prompt in the system message (instructions + persona)",
             f"{np.mean(system_share):.1%}"],
            ["share of the prompt identical to the same agent's previous request "
             "(common prefix, up to the step number)", f"{np.mean(common_share):.1%}"]]
    return ("### 5. Prompt prefix reuse (memory on; the same agents at every step)\n\n"
            + table(["", "value"], rows))


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of two strings."""
    n = min(len(a), len(b))
    mismatch = np.flatnonzero(np.frombuffer(a[:n].encode("utf-32-le"), np.uint32)
                              != np.frombuffer(b[:n].encode("utf-32-le"), np.uint32))
    return int(mismatch[0]) if len(mismatch) else n


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    quick = args.quick
    started = time.perf_counter()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs "
          f"({platform.processor() or platform.machine()}); Python {platform.python_version()}, "
          f"aiohttp {aiohttp.__version__}; {datetime.date.today().isoformat()}; "
          f"load average at start {load_average()}; CPU reference {cpu_reference_ms():.0f} ms "
          "(a fixed Python loop; higher = slower machine right now)\n")
    world = make_world()
    if quick:
        scaling_configs = [(0.1, 16, 160), (0.1, 64, 256), (1.0, 256, 256)]
    else:
        scaling_configs = [(0.1, 16, 640), (0.1, 64, 1280), (0.1, 256, 2560),
                           (0.1, 1024, 3072), (0.1, 2000, 4000),
                           (1.0, 256, 1024), (1.0, 1024, 2048), (1.0, 2000, 4000),
                           (10.0, 2048, 4096), (10.0, 4096, 8192)]
    with tempfile.TemporaryDirectory() as tmp:
        sections = [
            lambda: acceptance(world, 400 if quick else 2000, 2 if quick else 3,
                               1 if quick else 3),
            lambda: scaling(world, scaling_configs),
            lambda: overhead(world, 300 if quick else 2000, 2, Path(tmp)),
            lambda: big_step(world, 1000 if quick else 10_000, 256, 0.1),
            lambda: prefix_reuse(world, 100 if quick else 500, 3),
        ]
        for section in sections:
            print(section() + "\n", flush=True)
            print(f"(load average {load_average()}; CPU reference {cpu_reference_ms():.0f} ms)\n",
                  flush=True)
    print(f"Total benchmark time {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
