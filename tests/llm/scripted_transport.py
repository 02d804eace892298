"""An in-process :class:`HttpTransport` that answers from a function, without sockets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from townsquare.behavior.llm.http import HttpReply


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes | None


class ScriptedTransport:
    """Replies with ``handler(request)`` and keeps every request it was sent."""

    def __init__(self, handler: Callable[[SentRequest], HttpReply]) -> None:
        self.handler = handler
        self.sent: list[SentRequest] = []

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None
    ) -> HttpReply:
        request = SentRequest(method, url, dict(headers), content)
        self.sent.append(request)
        return self.handler(request)

    async def aclose(self) -> None:
        pass
