"""A fake OpenAI-compatible model server for tests and benchmarks.

Runs uvicorn + starlette in a background thread on 127.0.0.1 (a free port).
Answers are deterministic given the request (a hash of messages and seed)
and plausible: a decision picks a post from the ``<post id=...>`` blocks in
the prompt and likes, reposts or comments on it, with attitudes and emotion
derived from the hash; a reflection request gets three insights; any other
request (an interview) gets a sentence of text.

Faults are scripted: fail the next N chat requests, or a deterministic
fraction of them (by request hash), with one of :data:`FAULT_KINDS`. The
server counts requests per endpoint so a test can assert that a cached
rerun sent none. Latency is a fixed ``asyncio.sleep``, so thousands of
concurrent requests cost no threads.

Usage::

    with FakeLLMServer(latency_s=0.1) as server:
        server.fail_next(2, "http_429", retry_after=1)
        ...  # point ModelEndpoint(base_url=server.base_url, model=server.model) at it
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import uvicorn

try:  # optional: parses request bodies faster
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from townsquare.behavior.llm.embeddings import HashingEmbedder
from townsquare.behavior.llm.negotiate import PROBE_QUESTION

FAULT_KINDS = (
    "http_500",  # 500 Internal Server Error
    "http_503",  # 503 with Retry-After
    "http_429",  # 429 Too Many Requests with Retry-After
    "drop",  # headers sent, then the connection is dropped mid-body
    "hang",  # no answer until the client gives up (or hang_s passes)
    "bad_body",  # HTTP 200 whose body is not JSON
    "garbage",  # a chat completion whose content is prose, not JSON
    "truncated",  # content cut in the middle of the JSON, finish_reason "length"
    "refusal",  # a refusal message (content and the ``refusal`` field)
    "empty",  # empty content
)
_POST = re.compile(r'<post id="(\d+)" author="(\d+)"')
_TOPICS = re.compile(r"^Topics: (.+)\.$", re.MULTILINE)
_NEWS = re.compile(r'news="([^"]+)"')


@dataclass
class _Rule:
    kind: str
    remaining: int | None
    fraction: float | None
    retry_after: float | None


class FakeLLMServer:
    """Context manager running the fake server; see the module docstring."""

    def __init__(
        self,
        latency_s: float = 0.0,
        models: tuple[str, ...] = ("fake-model", "cheap-model"),
        hang_s: float = 30.0,
        embedding_dim: int = 64,
        record_payloads: bool = False,
        accept: tuple[str, ...] = ("json_schema", "json_object", "tool", "none"),
        reject_status: int = 400,
        port: int = 0,
    ) -> None:
        self.latency_s = latency_s
        self.models = models
        self.model = models[0]
        self.hang_s = hang_s
        self.record_payloads = record_payloads
        self.accept = accept  # structured-output modes served; others get reject_status
        self.reject_status = reject_status
        self.payloads: list[dict] = []  # chat request bodies, when record_payloads is set
        self.in_flight = 0
        self.max_in_flight = 0
        self.fail_embeddings = False  # answer /v1/embeddings with HTTP 500
        self.down = False  # an outage: every endpoint drops the connection
        self.counts: Counter[str] = Counter()
        self.arrivals: list[float] = []  # time.monotonic() of each chat request
        self.auth_headers = 0  # chat requests that carried an Authorization header
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._embedder = HashingEmbedder(embedding_dim)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = port  # 0: a free port, chosen at start

    # -- control (called from the test thread) ----------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> int:
        """Chat-completion requests received so far."""
        return self.counts["chat"]

    def fail_next(self, n: int, kind: str, retry_after: float | None = None) -> None:
        """The next ``n`` chat requests fail with ``kind``."""
        self._add(_Rule(_check(kind), n, None, retry_after))

    def fail_fraction(self, fraction: float, kind: str, retry_after: float | None = None) -> None:
        """A fraction of chat requests (chosen by request hash, so repeatably) fail."""
        self._add(_Rule(_check(kind), None, fraction, retry_after))

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        """Clear faults, counters, arrivals and recorded payloads; zero latency."""
        with self._lock:
            self._rules.clear()
            self.counts.clear()
            self.arrivals.clear()
            self.auth_headers = 0
            self.latency_s = 0.0
            self.payloads.clear()
            self.record_payloads = False
            self.max_in_flight = 0
            self.fail_embeddings = False
            self.down = False
            self.accept = ("json_schema", "json_object", "tool", "none")

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeLLMServer:
        # IPPROTO_TCP (not 0) so asyncio sets TCP_NODELAY on accepted connections;
        # without it Nagle + delayed ACK add ~40 ms to every answer.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app(), log_level="critical", access_log=False, lifespan="off", backlog=4096,
            timeout_graceful_shutdown=1, timeout_keep_alive=30,
            # no X-Forwarded-* handling, Server or Date headers: less work per request
            proxy_headers=False, server_header=False, date_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-llm", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake LLM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the app ---------------------------------------------------------------------------------

    def app(self) -> Callable[..., Awaitable[None]]:
        routes = Starlette(routes=[
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/v1/embeddings", self._embeddings, methods=["POST"]),
        ])

        async def app(scope: dict, receive: Callable, send: Callable) -> None:
            """Also serve as an HTTP proxy: requests for other hosts are routed by their path.

            Chat requests while no fault is scripted take a lean path (plain ASGI,
            the body parsed once): benchmarks measure the client, so the server's
            own CPU per request is kept small. Its answers are the routed path's.
            """
            if scope["type"] == "http":
                headers = dict(scope["headers"])
                host = headers.get(b"host", b"").decode()
                if host not in (f"127.0.0.1:{self.port}", f"localhost:{self.port}"):
                    self.counts["proxied"] += 1
                path = scope["path"]
                if "://" in path:  # the absolute-form target, as h11 (not httptools) passes it
                    path = "/" + path.split("://", 1)[1].partition("/")[2]
                    scope = {**scope, "path": path, "raw_path": path.encode()}
                if (path == "/v1/chat/completions" and scope["method"] == "POST"
                        and not self._rules and not self.down):
                    await self._lean_chat(headers, receive, send)
                    return
            await routes(scope, receive, send)

        return app

    async def _models(self, request: Request) -> Response:
        self.counts["models"] += 1
        if self.down:
            return _DroppedResponse()
        return JSONResponse({"object": "list",
                             "data": [{"id": m, "object": "model"} for m in self.models]})

    async def _embeddings(self, request: Request) -> Response:
        self.counts["embeddings"] += 1
        if self.down:
            return _DroppedResponse()
        if self.fail_embeddings:
            return JSONResponse({"error": {"message": "embedding model down"}}, 500)
        payload = await request.json()
        texts = payload.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        vectors = self._embedder.transform(list(texts))
        return JSONResponse({
            "object": "list", "model": payload.get("model"),
            "data": [{"object": "embedding", "index": i, "embedding": v.tolist()}
                     for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": sum(len(t) // 4 for t in texts), "total_tokens": 0},
        })

    def _admit(self, payload: dict, authorized: bool) -> tuple[int, dict] | None:
        """Count a chat request; an answer if it is not a decision (rejected mode, probe)."""
        mode = _mode(payload)
        if mode not in self.accept:
            self.counts[f"rejected:{mode}"] += 1
            return self.reject_status, {"error": {
                "message": f"this server does not support {mode}",
                "type": "invalid_request_error"}}
        messages = payload.get("messages") or [{}]
        if messages[-1].get("content") == PROBE_QUESTION:  # structured-output negotiation
            self.counts["probe"] += 1
            return 200, _completion(payload, '{"ok": true}', "stop", None)
        self.counts["chat"] += 1
        self.arrivals.append(time.monotonic())
        if authorized:
            self.auth_headers += 1
        return None

    def _digest(self, payload: dict) -> bytes:
        """The request's hash, which every answer and fault fraction derives from."""
        if self.record_payloads:
            self.payloads.append(payload)
        return hashlib.sha256(
            json.dumps([payload.get("messages"), payload.get("seed")], sort_keys=True).encode()
        ).digest()

    async def _lean_chat(self, headers: dict, receive: Callable, send: Callable) -> None:
        """A chat request without faults, in plain ASGI (see :meth:`app`)."""
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        payload = _loads(b"".join(chunks))
        early = self._admit(payload, b"authorization" in headers)
        if early is not None:
            status, answer = early
        else:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                arrived = time.monotonic()
                status, answer = 200, _completion(payload, _answer(payload, self._digest(payload)),
                                                  "stop", None)
                if self.latency_s:  # the answer leaves latency_s after the request arrived
                    await asyncio.sleep(max(0.0, self.latency_s - (time.monotonic() - arrived)))
            finally:
                self.in_flight -= 1
        body = _dumps(answer)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _chat(self, request: Request) -> Response:
        payload = json.loads(await request.body())
        early = self._admit(payload, "authorization" in request.headers)
        if early is not None:
            return JSONResponse(early[1], early[0])
        if self.down:
            return _DroppedResponse()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer_chat(request, payload)
        finally:
            self.in_flight -= 1

    async def _answer_chat(self, request: Request, payload: dict) -> Response:
        arrived = time.monotonic()
        digest = self._digest(payload)
        rule = self._pick_fault(digest)
        if rule is not None:
            self.counts[f"fault:{rule.kind}"] += 1
            transport = await self._transport_fault(rule, request)
            if transport is not None:
                return transport
        content, finish, refusal = _answer(payload, digest), "stop", None
        if rule is not None:
            content, finish, refusal = _content_fault(rule.kind, content)
        answer = JSONResponse(_completion(payload, content, finish, refusal))
        if self.latency_s:  # the answer leaves latency_s after the request arrived
            await asyncio.sleep(max(0.0, self.latency_s - (time.monotonic() - arrived)))
        return answer

    def _pick_fault(self, digest: bytes) -> _Rule | None:
        u = int.from_bytes(digest[8:16], "big") / 2**64
        with self._lock:
            for rule in self._rules:
                if rule.remaining is not None and rule.remaining > 0:
                    rule.remaining -= 1
                    return rule
                if rule.fraction is not None and u < rule.fraction:
                    return rule
        return None

    async def _transport_fault(self, rule: _Rule, request: Request) -> Response | None:
        headers = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = f"{rule.retry_after:g}"
        kind = rule.kind
        if kind == "http_500":
            return JSONResponse({"error": {"message": "internal error"}}, 500)
        if kind == "http_503":
            return JSONResponse({"error": {"message": "overloaded"}}, 503, headers=headers)
        if kind == "http_429":
            return JSONResponse({"error": {"message": "rate limited"}}, 429, headers=headers)
        if kind == "bad_body":
            return Response("<html>not json{", 200, media_type="application/json")
        if kind == "drop":
            return _DroppedResponse()
        if kind == "hang":
            deadline = time.monotonic() + self.hang_s
            while time.monotonic() < deadline and not await request.is_disconnected():
                await asyncio.sleep(0.02)
            return JSONResponse({"error": {"message": "too late"}}, 504)
        return None


class _DroppedResponse(Response):
    """Send headers and part of the body, then abort: the client sees a broken connection."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b'{"choi', "more_body": True})
        raise ConnectionAbortedError("fake server dropped the connection")


def _loads(body: bytes) -> Any:
    """``json.loads(body)``, by orjson when installed (several times faster).

    The same values for what clients send here; orjson would differ only on integers
    beyond 64 bits (a float, or an error), which no request body holds.
    """
    if orjson is not None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:  # e.g. integers beyond 64 bits: the json module decides
            pass
    return json.loads(body)


def _dumps(answer: dict) -> bytes:
    """The response body: orjson when installed, else as Starlette's JSONResponse renders it.

    Clients decode the same values from either (the answer text inside is made by
    the json module in both cases, so cached answers do not change).
    """
    if orjson is not None:
        return orjson.dumps(answer)
    return json.dumps(answer, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode("utf-8")


def _mode(payload: dict) -> str:
    """The structured-output mode a chat request asks for."""
    fmt = payload.get("response_format") or {}
    if fmt.get("type") in ("json_schema", "json_object"):
        return str(fmt["type"])
    return "tool" if payload.get("tools") else "none"


def _check(kind: str) -> str:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
    return kind


def _schema_name(payload: dict) -> str | None:
    fmt = payload.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return (fmt.get("json_schema") or {}).get("name")
    tools = payload.get("tools") or []
    if tools:
        return tools[0]["function"]["name"]
    return "social_media_decision" if fmt.get("type") == "json_object" else None


def _survey_answer(user: str, rng: random.Random) -> str | None:
    """Answers in the formats survey questions ask LLM agents for (None: not a survey)."""
    scale = re.search(r"one whole number from 1 \(strongly disagree\) to (\d+)", user)
    if scale:
        return f"{rng.randint(1, int(scale.group(1)))}. That is how I see it today."
    choice = re.search(r"Answer with exactly one of: (.+)\.$", user, re.MULTILINE)
    if choice:
        return rng.choice(choice.group(1).split("; "))
    bounds = re.search(r"Answer with one number between (-?\d+) and (-?\d+)", user)
    if bounds:
        return f"{rng.uniform(float(bounds.group(1)), float(bounds.group(2))):.2f}"
    return None


def _answer(payload: dict, digest: bytes) -> str:
    rng = random.Random(digest)
    messages = payload.get("messages") or []
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    user = messages[-1]["content"] if messages else ""
    name = _schema_name(payload)
    if name is None and "ONE JSON object" in system:  # the schema is only in the prompt
        name = "reflection_insights" if '"insights"' in system else "social_media_decision"
    if name is None:
        survey = _survey_answer(user, rng)
        if survey is not None:
            return survey
        return f"Honestly, I keep thinking about what I saw ({rng.randint(1, 99)} posts today)."
    if name in _ENVIRONMENT_ANSWERS:  # market, commons and election agents
        return _ENVIRONMENT_ANSWERS[name](payload, user, rng)
    if name == "reflection_insights":
        themes = ["people in my feed disagree a lot", "news spreads fast here",
                  "I trust friends more than strangers", "I care about my main topic",
                  "moderation labels make me think twice"]
        rng.shuffle(themes)
        return json.dumps({"insights": [{"text": f"I notice that {t}.",
                                         "importance": rng.randint(4, 9)} for t in themes[:3]]})
    posts = _POST.findall(user)
    match = _TOPICS.search(system)
    topics = [t.strip() for t in match.group(1).split(",")] if match else []
    actions = []
    if posts:
        post, author = rng.choice(posts)
        kind = rng.choice(["like", "like", "repost", "comment", "quote", "flag", "follow"])
        action: dict[str, Any] = {"type": kind, "post": int(post),
                                  "reason": f"post {post} caught my eye"}
        if kind in ("comment", "quote"):
            action["text"] = f"My two cents on post {post}: {rng.choice(['agreed', 'no way'])}."
        if kind == "follow":
            action = {"type": "follow", "target": int(author),
                      "reason": f"agent {author} posts interesting things"}
        actions.append(action)
    if rng.random() < 0.2 and topics:
        actions.append({"type": "post", "text": f"Thinking about {rng.choice(topics)} today.",
                        "reason": "felt like sharing"})
    if not actions:
        actions.append({"type": "idle", "reason": "nothing caught my eye"})
    answer: dict[str, Any] = {
        "actions": actions,
        "attitude": {t: round(rng.uniform(-1, 1), 3) for t in topics},
        "emotion": {"valence": round(rng.uniform(-1, 1), 3),
                    "arousal": round(rng.uniform(0, 1), 3)},
    }
    news = sorted(set(_NEWS.findall(user)))
    if news:
        answer["belief"] = {n: round(rng.uniform(0, 1), 3) for n in news}
    return json.dumps(answer)


# -- plausible deterministic answers for townsquare.environments --------------------------

_PRICE = re.compile(r"^(\S+): last price ([\d.]+)", re.MULTILINE)
_FAIR_SHARE = re.compile(r"Sustainable catch per person this month: ([\d.]+)")
_STOCK = re.compile(r"Fish in the lake: ([\d.]+) tons")
_MEMBERS = re.compile(r"Members fishing: (\d+)")
_NEAREST = re.compile(r"Party closest to your views: (\S+?)\.")


def _schema_enum(payload: dict, *path: str) -> list[str]:
    fmt = payload.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema")
    if schema is None and payload.get("tools"):
        schema = payload["tools"][0]["function"]["parameters"]
    node: Any = schema or {}
    for key in path:
        node = (node or {}).get(key) or {}
    return list(node.get("enum") or [])


def _market_answer(payload: dict, user: str, rng: random.Random) -> str:
    """Buy, sell or hold one asset at a limit within 2% of its last price."""
    prices = _PRICE.findall(user)
    if not prices or rng.random() < 0.2:
        return json.dumps({"orders": [], "reason": "I wait and see."})
    asset, price = rng.choice(prices)
    action = rng.choice(["buy", "sell"])
    limit = float(price) * (1 + (0.02 if action == "buy" else -0.02) * rng.random())
    order = {"asset": asset, "action": action, "quantity": rng.randint(1, 10),
             "limit_price": round(limit, 2)}
    view = "cheap" if action == "buy" else "dear"
    return json.dumps({"orders": [order], "reason": f"{asset} looks {view} at {price}."})


def _commons_answer(payload: dict, user: str, rng: random.Random) -> str:
    """About the sustainable share (or a tenth of one's per-capita stock), with a message."""
    fair = _FAIR_SHARE.search(user)
    if fair is not None:
        share = float(fair.group(1))
    else:
        stock, members = _STOCK.search(user), _MEMBERS.search(user)
        share = 0.1 * float(stock.group(1)) / int(members.group(1)) if stock and members else 1.0
    harvest = round(share * rng.uniform(0.7, 1.3), 2)
    return json.dumps({"message": f"I will catch about {harvest} tons; let's keep the lake alive.",
                       "harvest": harvest, "reason": "a fair share keeps the lake going"})


def _election_answer(payload: dict, user: str, rng: random.Random) -> str:
    """Mostly the party closest to the voter's views."""
    parties = _schema_enum(payload, "properties", "vote")
    nearest = _NEAREST.search(user)
    vote = nearest.group(1) if nearest and rng.random() < 0.8 else rng.choice(parties or ["none"])
    return json.dumps({"vote": vote, "reason": f"{vote} is closest to what I care about."})


_ENVIRONMENT_ANSWERS = {
    "market_decision": _market_answer,
    "commons_decision": _commons_answer,
    "election_vote": _election_answer,
}


def _content_fault(kind: str, content: str) -> tuple[str, str, str | None]:
    if kind == "garbage":
        return "Sure! I would probably like that post, it resonates with me }{ :)", "stop", None
    if kind == "truncated":
        return content[: max(2, len(content) // 2)], "length", None
    if kind == "refusal":
        text = "I'm sorry, but I can't help with that request."
        return text, "stop", text
    if kind == "empty":
        return "", "stop", None
    return content, "stop", None


def _completion(payload: dict, content: str, finish: str, refusal: str | None) -> dict:
    prompt_chars = sum(len(m.get("content") or "") for m in payload.get("messages") or [])
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal:
        message["refusal"] = refusal
    if payload.get("tools") and finish == "stop" and not refusal and content.startswith("{"):
        name = payload["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_0", "type": "function",
            "function": {"name": name, "arguments": content}}]}
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "model": payload.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(content) // 4,
                  "total_tokens": prompt_chars // 4 + len(content) // 4},
    }
