"""The HTTP layer under :class:`~townsquare.behavior.llm.client.ChatClient`.

An :class:`HttpTransport` sends one request and returns an :class:`HttpReply`
(status, body, ``Retry-After``), or raises :class:`LLMFault` for a timeout or a
broken connection. :class:`AiohttpTransport` is the real one: a single pooled
aiohttp session per endpoint. aiohttp was chosen over httpx because the client
is CPU-bound at high concurrency, and aiohttp spends about 0.3 ms of CPU per
request where httpx spent about 0.9 ms (and httpcore's pool grows quadratically
with its size, encode/httpx#3215); see "LLM scheduling" in bench/RESULTS.md.
Tests and benchmarks plug in their own transport to script replies without
sockets.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp

from townsquare.behavior.llm.faults import Fault, LLMFault


@dataclass(frozen=True, slots=True)
class HttpReply:
    """What a server answered: the status, the raw body and its ``Retry-After`` header."""

    status: int
    body: bytes
    retry_after: str | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class HttpTransport(Protocol):
    """Sends requests to one server; the seam tests script without sockets."""

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None
    ) -> HttpReply:
        """The server's reply, or :class:`LLMFault` (timeout, connection) if none came."""
        ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """An aiohttp session with up to ``connections`` kept-alive connections to ``base_url``.

    ``timeout_s`` bounds each whole request. A proxy set in the environment
    for ``base_url`` (``HTTP(S)_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) is used.
    The session is opened on first use, inside the running event loop, and
    must be closed (:meth:`aclose`) on that loop.
    """

    def __init__(self, base_url: str, connections: int, timeout_s: float) -> None:
        self.connections = max(1, int(connections))
        self.timeout_s = timeout_s
        self.proxy = environment_proxy(base_url)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.connections, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            # not trust_env: it reads ~/.netrc in a worker thread on every request
            trust_env=False,
            raise_for_status=False,
        )
        return self._session

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None
    ) -> HttpReply:
        session = self._session or self._open()
        try:
            async with session.request(
                method, url, data=content, headers=headers, proxy=self.proxy
            ) as response:
                body = await response.read()
                return HttpReply(response.status, body, response.headers.get("Retry-After"))
        except TimeoutError:
            raise LLMFault(Fault.TIMEOUT, f"no answer within {self.timeout_s} s") from None
        except aiohttp.ClientError as exc:
            raise LLMFault(Fault.CONNECTION, type(exc).__name__) from None

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def environment_proxy(url: str) -> str | None:
    """The proxy ``HTTP(S)_PROXY`` / ``ALL_PROXY`` set for ``url``, unless ``NO_PROXY`` skips it."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")
