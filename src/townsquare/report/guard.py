"""Who may talk to the dashboard: loopback host names, or a token when serving remotely.

The dashboard has no accounts. Bound to 127.0.0.1 it is still reachable from a
web page on the same machine through DNS rebinding (a name that resolves to
127.0.0.1), so by default only requests whose ``Host`` header names this
machine (``127.0.0.1``, ``localhost``, ``[::1]``) are answered; any other gets
403. With ``--allow-remote`` any host name is accepted, but every request must
carry the token printed at start (``?token=...`` once, after which a cookie
holds it, or an ``Authorization: Bearer`` header).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
COOKIE = "townsquare_token"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                   Awaitable[None]]


def new_token() -> str:
    """A fresh random token for a remote dashboard."""
    return secrets.token_urlsafe(24)


def host_name(host_header: str) -> str:
    """The name in a Host header, without port (``[::1]:8765`` -> ``::1``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """ASGI middleware: a loopback Host header, or the token when ``token`` is set."""

    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self.app = app
        self.token = token
        self.state = getattr(app, "state", None)  # the wrapped Starlette app's state

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        offered = self._offered(scope, headers)
        if self.token is None:
            allowed = host_name(headers.get("host", "")) in LOOPBACK_NAMES
            problem = "this dashboard answers only requests addressed to 127.0.0.1 or localhost"
        else:
            allowed = offered is not None and secrets.compare_digest(offered, self.token)
            problem = "this dashboard needs the token printed when it was started"
        if not allowed:
            await _refuse(send, problem)
            return
        if self.token is not None and "cookie" not in headers:
            send = _with_cookie(send, self.token)
        await self.app(scope, receive, send)

    @staticmethod
    def _offered(scope: Scope, headers: dict[str, str]) -> str | None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return query["token"][0]
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header offers no token
            return None
        return cookie[COOKIE].value if COOKIE in cookie else None


def _with_cookie(send: Any, token: str) -> Any:
    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
            message = {**message, "headers": [*message.get("headers", []),
                                              (b"set-cookie", cookie.encode())]}
        await send(message)
    return sending


async def _refuse(send: Any, problem: str) -> None:
    body = f"403 forbidden: {problem}\n".encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
