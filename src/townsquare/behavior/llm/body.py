"""Decision request bodies from a template: what every agent's request shares is encoded once.

The canonical JSON of a decision request (:func:`~townsquare.behavior.llm.client.canonical_json`,
which is both what is sent and what the cache key hashes) differs between agents
only in four places: the system message (one per agent, the same at every
step), the user message, the seed, and the feed's post ids in the answer
schema. A :class:`BodyTemplate` encodes the rest (model settings and the answer
schema, about a third of the body) once, with placeholders, and makes each
request's body by joining the pieces with those four values encoded: the same
bytes as encoding the whole payload, without re-encoding, re-sorting or
re-scanning the schema for every agent. Every template is checked against
:func:`canonical_json` on its first request and not used if they differ (a
structured-output mode that rewrites the messages, for one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from townsquare.behavior.llm.client import ChatRequest, canonical_json, orjson

# placeholders (private-use characters: no prompt or schema holds them)
_HOLES = tuple(f"\ue000{name}\ue000" for name in ("system", "user", "seed", "posts"))
_SYSTEM, _USER, _SEED, _POSTS = _HOLES


def encode_value(value: str | list[int] | list[str]) -> bytes:
    """The canonical JSON of a string or of a list of integers, as :func:`canonical_json`
    writes it."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:  # a lone surrogate or a huge integer: the json module decides
            pass
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class BodyTemplate:
    """The canonical JSON of one kind of request, with holes for what varies per agent.

    ``build(system, user, seed, posts)`` must make the request from those four
    values and nothing else that varies; the template calls it once with
    placeholders. :meth:`body` then gives a request's body from its values.
    """

    def __init__(self, build: Callable[[str, str, Any, list[Any]], ChatRequest],
                 posts: bool) -> None:
        sample = build(_SYSTEM, _USER, _SEED, [_POSTS] if posts else [])
        encoded = canonical_json(sample.payload())
        holes = [encode_value(h) for h in _HOLES[:3]] + [encode_value([_POSTS])]
        pattern = re.compile(b"|".join(re.escape(h) for h in holes))
        self._pieces = pattern.split(encoded)
        self._order = [holes.index(m.group()) for m in pattern.finditer(encoded)]
        # each of system, user and seed exactly once (the messages are sent as built)
        self.usable = all(self._order.count(k) == 1 for k in range(3))
        self._checked = False

    def body(self, request: ChatRequest, system: bytes, user: str, seed: int,
             posts: list[int]) -> bytes:
        """``request``'s body (``system``: its system message encoded by :func:`encode_value`)."""
        values = (system, encode_value(user), str(int(seed)).encode(),
                  encode_value(sorted(set(posts))))
        pieces = self._pieces
        parts = [pieces[0]]
        for k, hole in enumerate(self._order):
            parts.append(values[hole])
            parts.append(pieces[k + 1])
        body = b"".join(parts)
        if not self._checked:  # the first request: the template must give canonical_json's bytes
            self._checked = True
            self.usable = body == canonical_json(request.payload())
            if not self.usable:
                return canonical_json(request.payload())
        return body
