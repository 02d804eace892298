"""The model side every LLM user shares: endpoints, cache, event loop, negotiation.

:class:`LLMSession` is built once per LLM user (the social agents'
:class:`~townsquare.environments.social.llm.behavior.LLMBehavior`, the environments'
:class:`~townsquare.behavior.llm.asker.LLMAsker`, a Ray shard's mind) and owns:
the built-in local server when ``backend = "local"`` (started by the first
request that misses the cache), the response cache, the private event loop, one
wrapper stack per endpoint, and the structured-output mode of each endpoint
(negotiated at start, see :mod:`~townsquare.behavior.llm.negotiate`).

A start needs the server only when something is not known yet: when every
endpoint's mode is in the cache, nothing is sent, so a rerun served entirely
from the cache runs with the server stopped (with ``backend = "local"`` it is
never started, and llama-cpp-python need not be installed).

The config is used as given: the environment overrides
(``TOWNSQUARE_LLM_BASE_URL``, ``TOWNSQUARE_LLM_MODEL``) are applied once,
where a scenario is loaded to be run (:class:`~townsquare.engine.Simulation`)
or a config given to :func:`~townsquare.behavior.llm.interview.interview`.
"""

from __future__ import annotations

import asyncio

from townsquare.behavior.llm import local as local_model
from townsquare.behavior.llm.cache import ResponseCache
from townsquare.behavior.llm.client import ChatClient
from townsquare.behavior.llm.config import LLMConfig, ModelEndpoint
from townsquare.behavior.llm.http import AiohttpTransport, HttpTransport
from townsquare.behavior.llm.loop import LoopThread
from townsquare.behavior.llm.negotiate import known_mode, negotiate
from townsquare.behavior.llm.wrappers import Accounting, build_stack, innermost


class LLMSession:
    """Config, local server, cache, loop and one wrapper stack per endpoint (see module doc)."""

    def __init__(self, config: LLMConfig, *, transport: HttpTransport | None = None,
                 check: bool = True, name: str = "townsquare-llm") -> None:
        self._server: local_model.LocalServer | None = None
        self._closed = False
        transports: list[HttpTransport | None] = [transport] * len(config.models)
        if config.backend == "local" and transport is None:
            server = self._server = local_model.acquire(config.local)
            config = config.model_copy(update={
                "models": [server.endpoint(m) for m in config.models]})
            transports = [local_model.StartOnFirstRequest(
                server, AiohttpTransport(ep.base_url, ep.concurrency, ep.timeout_s))
                for ep in config.models]
        self.config = config
        self.cache = ResponseCache(config.resolved_cache_path()) if config.cache else None
        self.stacks: list[Accounting] = [build_stack(ep, self.cache, t)
                                         for ep, t in zip(config.models, transports, strict=True)]
        self.loop = LoopThread(name)
        if check:
            try:
                self.loop.run(self.start())
            except BaseException:
                self.close()
                raise

    @property
    def origin(self) -> str | None:
        return self._server.origin if self._server is not None else None

    async def start(self) -> None:
        """Settle every endpoint's structured-output mode (probing only what is unknown)."""
        modes = await asyncio.gather(*(self._mode(s) for s in self.stacks))
        self._use_modes(list(modes))

    async def _mode(self, stack: Accounting) -> str:
        client: ChatClient = innermost(stack)  # type: ignore[assignment]
        mode = known_mode(client.endpoint, self.cache, self.origin)
        if mode is not None:
            return mode
        await client.check_reachable()
        return await negotiate(client, self.cache, self.origin)

    def _use_modes(self, modes: list[str]) -> None:
        models = [m.model_copy(update={"structured_output": mode})
                  for m, mode in zip(self.config.models, modes, strict=True)]
        self.config = self.config.model_copy(update={"models": models})
        for stack, endpoint in zip(self.stacks, models, strict=True):
            stack.endpoint = endpoint

    def endpoint(self, index: int) -> ModelEndpoint:
        return self.config.models[index]

    def check_reachable(self) -> None:
        """Raise EndpointUnreachableError unless every endpoint answers now."""
        self.loop.run(self._check())

    async def _check(self) -> None:
        await asyncio.gather(*(innermost(s).check_reachable()  # type: ignore[attr-defined]
                               for s in self.stacks))

    async def _aclose(self) -> None:
        await asyncio.gather(*(s.aclose() for s in self.stacks))

    def close(self) -> None:
        """Close connections, the loop, the cache and the local server (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            try:
                self.loop.run(self._aclose())
            finally:
                self.loop.close()
                if self.cache is not None:
                    self.cache.close()
        finally:
            if self._server is not None:
                local_model.release(self._server)
                self._server = None
