"""Wrappers that compose around a :class:`ChatModel` and keep its interface.

Each adds one concern: a concurrency limit, a requests-per-minute limit,
retries with backoff, the response cache, accounting. :func:`build_stack`
layers them in the order that makes sense::

    Accounting -> Cached -> Retry -> RateLimit -> ConcurrencyLimit -> ChatClient

so a cache hit costs no rate-limit token, a backoff sleep holds no
concurrency slot, and accounting sees one record per logical call.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

import numpy as np

from townsquare.behavior.llm.cache import ResponseCache
from townsquare.behavior.llm.client import ChatClient, ChatModel, ChatRequest, ChatResult
from townsquare.behavior.llm.config import ModelEndpoint
from townsquare.behavior.llm.faults import LLMFault
from townsquare.behavior.llm.http import HttpTransport
from townsquare.behavior.llm.records import CallRecord

_log = logging.getLogger(__name__)


class _Wrapper:
    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner

    async def complete(self, request: ChatRequest) -> ChatResult:
        return await self.inner.complete(request)

    async def embed(self, texts: list[str]) -> np.ndarray:
        return await self.inner.embed(texts)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"


class ConcurrencyLimit(_Wrapper):
    """At most ``limit`` requests in flight (an ``asyncio.Semaphore``)."""

    def __init__(self, inner: ChatModel, limit: int) -> None:
        super().__init__(inner)
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit)

    async def complete(self, request: ChatRequest) -> ChatResult:
        async with self._semaphore:
            return await self.inner.complete(request)

    async def embed(self, texts: list[str]) -> np.ndarray:
        async with self._semaphore:
            return await self.inner.embed(texts)


class RateLimit(_Wrapper):
    """A token bucket: ``per_minute`` requests a minute, bursts up to one second's worth."""

    def __init__(self, inner: ChatModel, per_minute: float) -> None:
        super().__init__(inner)
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:  # FIFO: waiters are served in arrival order
            while True:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self._tokens) / self.rate)

    async def complete(self, request: ChatRequest) -> ChatResult:
        await self.acquire()
        return await self.inner.complete(request)

    async def embed(self, texts: list[str]) -> np.ndarray:
        await self.acquire()
        return await self.inner.embed(texts)


class Retry(_Wrapper):
    """Retry transport faults with exponential backoff and jitter.

    The delay before retry ``i`` (0-based) is ``base * 2**i`` scaled by a
    random factor in [0.5, 1.5), or the server's ``Retry-After`` when it sent
    one (429/503), capped at ``max_backoff_s``. Jitter affects timing only,
    never results.
    """

    def __init__(
        self,
        inner: ChatModel,
        max_retries: int,
        backoff_base_s: float,
        max_backoff_s: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(inner)
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.max_backoff_s = max_backoff_s
        self._rng = rng or random.Random()

    def delay(self, attempt: int, fault: LLMFault) -> float:
        if fault.retry_after is not None:
            return min(fault.retry_after, self.max_backoff_s)
        jitter = 0.5 + self._rng.random()
        return min(self.backoff_base_s * 2.0**attempt * jitter, self.max_backoff_s)

    async def complete(self, request: ChatRequest) -> ChatResult:
        attempt = 0
        while True:
            try:
                result = await self.inner.complete(request)
            except LLMFault as fault:
                if not fault.kind.retryable or attempt >= self.max_retries:
                    fault.attempts = attempt + 1
                    raise
                await self._wait(attempt, fault, f"{request.tag.purpose} request")
                attempt += 1
                continue
            result.attempts = attempt + 1
            return result

    async def embed(self, texts: list[str]) -> np.ndarray:
        attempt = 0
        while True:
            try:
                return await self.inner.embed(texts)
            except LLMFault as fault:
                if not fault.kind.retryable or attempt >= self.max_retries:
                    raise
                await self._wait(attempt, fault, "embedding request")
                attempt += 1

    async def _wait(self, attempt: int, fault: LLMFault, what: str) -> None:
        delay = self.delay(attempt, fault)
        _log.debug("%s failed (%s); retry %d of %d in %.2f s",
                   what, fault.kind.value, attempt + 1, self.max_retries, delay)
        await asyncio.sleep(delay)


class Cached(_Wrapper):
    """Serve repeated requests from a :class:`ResponseCache`; store new answers.

    Every answer that arrived as a valid HTTP response is stored, usable or
    not, so a replay reproduces content faults and their repairs exactly.
    """

    def __init__(self, inner: ChatModel, cache: ResponseCache, embedding_model: str) -> None:
        super().__init__(inner)
        self.cache = cache
        self.embedding_model = embedding_model

    async def complete(self, request: ChatRequest) -> ChatResult:
        key = request.key()
        body = self.cache.get(key)
        if body is not None:
            result = ChatResult.from_json(body)
            result.cache_hit = True
            result.attempts = 0
            return result
        result = await self.inner.complete(request)
        self.cache.put(key, result.to_json())
        return result

    async def embed(self, texts: list[str]) -> np.ndarray:
        cached = self.cache.get_vectors(self.embedding_model, texts)
        missing = [i for i, v in enumerate(cached) if v is None]
        if missing:
            fresh = await self.inner.embed([texts[i] for i in missing])
            self.cache.put_vectors(self.embedding_model, [texts[i] for i in missing], fresh)
            for i, vector in zip(missing, fresh, strict=True):
                cached[i] = vector
        return np.stack(cached) if cached else np.zeros((0, 0), np.float32)  # type: ignore[arg-type]


class Accounting(_Wrapper):
    """One :class:`CallRecord` per logical call: tokens, latency, cost, cache hit, fault."""

    def __init__(self, inner: ChatModel, endpoint: ModelEndpoint) -> None:
        super().__init__(inner)
        self.endpoint = endpoint
        self.records: list[CallRecord] = []
        self.embed_calls = 0
        self.embedded_texts = 0

    async def complete(self, request: ChatRequest) -> ChatResult:
        tag = request.tag
        record = CallRecord(
            step=tag.step, agent=tag.agent, model=request.model, purpose=tag.purpose,
            request_hash=request.key(),
        )
        self.records.append(record)
        start = time.perf_counter()
        try:
            result = await self.inner.complete(request)
        except LLMFault as fault:
            record.latency_ms = (time.perf_counter() - start) * 1000.0
            record.attempts = fault.attempts
            record.fault = fault.kind.value
            fault.record = record
            raise
        record.latency_ms = (time.perf_counter() - start) * 1000.0
        record.prompt_tokens = result.prompt_tokens
        record.completion_tokens = result.completion_tokens
        record.cache_hit = result.cache_hit
        record.attempts = result.attempts
        if not result.cache_hit:
            ep = self.endpoint
            record.cost = (
                result.prompt_tokens * ep.cost_per_1k_prompt
                + result.completion_tokens * ep.cost_per_1k_completion
            ) / 1000.0
        result.record = record
        return result

    async def embed(self, texts: list[str]) -> np.ndarray:
        self.embed_calls += 1
        self.embedded_texts += len(texts)
        return await self.inner.embed(texts)

    def drain(self) -> list[CallRecord]:
        records, self.records = self.records, []
        return records


def build_stack(
    endpoint: ModelEndpoint,
    cache: ResponseCache | None = None,
    transport: HttpTransport | None = None,
) -> Accounting:
    """The standard wrapper stack around a :class:`ChatClient` for ``endpoint``."""
    model: ChatModel = ChatClient(endpoint, transport=transport)
    model = ConcurrencyLimit(model, endpoint.concurrency)
    if endpoint.requests_per_minute is not None:
        model = RateLimit(model, endpoint.requests_per_minute)
    model = Retry(model, endpoint.max_retries, endpoint.backoff_base_s, endpoint.max_backoff_s)
    if cache is not None:
        model = Cached(model, cache, endpoint.embedding_model or endpoint.model)
    return Accounting(model, endpoint)


def innermost(model: ChatModel) -> ChatModel:
    """The client at the bottom of a wrapper stack."""
    while isinstance(model, _Wrapper):
        model = model.inner
    return model
