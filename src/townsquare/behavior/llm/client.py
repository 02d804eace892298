"""The network seam: one OpenAI-compatible endpoint behind a tiny interface.

A :class:`ChatModel` has two coroutines, ``complete`` (chat completions) and
``embed`` (embeddings). :class:`ChatClient` implements them over HTTP (see
``http.py``); retry, rate limits, caching and accounting are wrappers of the same
interface (see ``wrappers.py``), so each is small and testable on its own.

The API key is read from the named environment variable when a request is
sent. It is never stored on an object, logged, or put into an exception.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

try:  # optional: a faster encoder of the same canonical JSON
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

from townsquare import __version__
from townsquare.behavior.llm.config import ModelEndpoint
from townsquare.behavior.llm.faults import EndpointUnreachableError, Fault, LLMFault, redact
from townsquare.behavior.llm.http import AiohttpTransport, HttpTransport
from townsquare.behavior.llm.records import CallRecord

_HEADERS = {"Accept": "application/json", "User-Agent": f"townsquare/{__version__}"}
_JSON_HEADERS = {**_HEADERS, "Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class CallTag:
    """Who a call is for; recorded in accounting, never part of the cache key."""

    step: int = -1
    agent: int = -1
    purpose: str = "decide"


@dataclass(slots=True)
class ChatRequest:
    """One chat-completions request, as sent (minus transport details)."""

    model: str
    messages: list[dict[str, str]]
    temperature: float = 0.7
    max_tokens: int = 400
    seed: int | None = None
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    tag: CallTag = field(default_factory=CallTag)
    # derived once, on first use; dataclasses.replace() gives a copy without them
    _body: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _key: str | None = field(default=None, init=False, repr=False, compare=False)

    def payload(self) -> dict[str, Any]:
        """The JSON body (``None`` fields left out)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self.messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        for name in ("seed", "response_format", "tools", "tool_choice"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body

    def body(self) -> bytes:
        """The canonical JSON of the payload (sorted keys, UTF-8), encoded once.

        It is both what is sent and what the cache key hashes, so a request's
        JSON is serialised once, not once per use.
        """
        if self._body is None:
            self._body = canonical_json(self.payload())
        return self._body

    def encoded_as(self, body: bytes) -> ChatRequest:
        """Take ``body`` as the body: the canonical JSON of the payload, made elsewhere
        (a :class:`~townsquare.behavior.llm.body.BodyTemplate`)."""
        self._body = body
        return self

    def key(self) -> str:
        """sha256 of the canonical JSON of the payload: the response-cache key."""
        if self._key is None:
            self._key = hashlib.sha256(self.body()).hexdigest()
        return self._key


@dataclass(slots=True)
class ChatResult:
    """What came back from one request: the answer text and its accounting."""

    content: str
    finish_reason: str | None = None
    refusal: str | None = None
    tool_arguments: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    cache_hit: bool = False
    attempts: int = 1
    record: CallRecord | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """The answer to parse: tool-call arguments if the model called the tool."""
        return self.tool_arguments if self.tool_arguments else self.content

    def to_json(self) -> str:
        return json.dumps(
            {
                "content": self.content,
                "finish_reason": self.finish_reason,
                "refusal": self.refusal,
                "tool_arguments": self.tool_arguments,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> ChatResult:
        return cls(**json.loads(text))


_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _may_differ(body: bytes) -> bool:
    """Whether orjson's ``body`` may differ from the json module's output.

    They differ on floats the json module writes in exponent form (below 1e-4
    orjson writes ``0.00001`` or ``2.5e-7``; from 1e16 on ``4.8e47`` where json
    writes ``4.8e+47``) and on non-finite floats (``null`` where json writes
    ``NaN``). Digits are mapped to ``0`` so one search finds any digit before an
    ``e`` (a regex scan of a 9 kB body, or a search per digit, cost more than the
    encoding saved). Text that merely looks like a number (``page2e``) costs
    only the slower encoder.
    """
    return (b"0.0000" in body or b"null" in body
            or b"0e" in body.translate(_DIGITS_TO_ZERO))


def canonical_json(payload: Any) -> bytes:
    """``json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.

    The same bytes (so cache keys do not change), made by orjson when it is
    installed — about 6x faster on a decision request, whose answer schema
    and prompt are new for every agent — and by the json module wherever the
    two could differ (see :func:`_may_differ`; orjson also refuses lone
    surrogates, non-str keys and integers beyond 64 bits).
    """
    if orjson is not None:
        try:
            body = _orjson_canonical(payload)
        except TypeError:
            body = None
        if body is not None:
            return body
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


# the messages' place in a request body while the rest is checked (a private-use character)
_SLOT = "\ue000messages\ue000"
_SLOT_JSON = b'"' + _SLOT.encode("utf-8") + b'"'


def _orjson_canonical(payload: Any) -> bytes | None:
    """orjson's canonical JSON of ``payload``, or None where it may differ from json's.

    Chat messages hold only strings, which both encoders write alike, so only
    the rest of a request (its numbers, its schema) is searched for what
    could differ: the prompt, most of the body, is encoded but not scanned.
    """
    sort = orjson.OPT_SORT_KEYS
    messages = payload.get("messages") if isinstance(payload, dict) else None
    if _plain_messages(messages):
        rest = orjson.dumps({**payload, "messages": _SLOT}, option=sort)
        if _may_differ(rest) or rest.count(_SLOT_JSON) != 1:
            return None
        return rest.replace(_SLOT_JSON, orjson.dumps(messages, option=sort))
    body = orjson.dumps(payload, option=sort)
    return None if _may_differ(body) else body


def _plain_messages(messages: Any) -> bool:
    """Whether ``messages`` is a list of dicts from strings to strings."""
    return type(messages) is list and all(
        type(m) is dict and all(type(k) is str and type(v) is str for k, v in m.items())
        for m in messages
    )


class ChatModel(Protocol):
    """The interface every client and wrapper implements."""

    async def complete(self, request: ChatRequest) -> ChatResult: ...

    async def embed(self, texts: list[str]) -> np.ndarray: ...

    async def aclose(self) -> None: ...


class ChatClient:
    """HTTP implementation of :class:`ChatModel` for one endpoint.

    Requests go through an :class:`HttpTransport`: by default one pooled
    aiohttp session with ``endpoint.concurrency`` connections, opened on first
    use inside the running loop. ``transport`` lets tests script replies.
    """

    def __init__(self, endpoint: ModelEndpoint, transport: HttpTransport | None = None) -> None:
        self.endpoint = endpoint
        self._transport = transport or AiohttpTransport(
            endpoint.base_url, endpoint.concurrency, endpoint.timeout_s
        )
        self._urls: dict[str, str] = {}

    def __repr__(self) -> str:
        ep = self.endpoint
        return f"ChatClient(name={ep.name!r}, base_url={ep.base_url!r}, model={ep.model!r})"

    # -- the seam -----------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> ChatResult:
        start = time.perf_counter()
        body = await self._request("POST", "chat/completions", content=request.body())
        try:
            choice = body["choices"][0]
            message = choice.get("message") or {}
            usage = body.get("usage") or {}
            tool_calls = message.get("tool_calls") or []
            arguments = None
            if tool_calls:
                arguments = tool_calls[0]["function"]["arguments"]
                if not isinstance(arguments, str):  # some servers send an object
                    arguments = json.dumps(arguments)
            return ChatResult(
                content=message.get("content") or "",
                finish_reason=choice.get("finish_reason"),
                refusal=message.get("refusal"),
                tool_arguments=arguments,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                latency_ms=(time.perf_counter() - start) * 1000.0,
            )
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            raise LLMFault(Fault.MALFORMED_JSON, "response is not a chat completion") from None

    async def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts`` from ``/embeddings``, one row per text."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self.endpoint.embedding_model or self.endpoint.model
        payload = json.dumps({"model": model, "input": texts}).encode("utf-8")
        body = await self._request("POST", "embeddings", content=payload)
        try:
            data = sorted(body["data"], key=lambda d: d.get("index", 0))
            vectors = np.asarray([d["embedding"] for d in data], dtype=np.float32)
        except (KeyError, TypeError, ValueError):
            raise LLMFault(Fault.MALFORMED_JSON, "response is not an embedding list") from None
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise LLMFault(Fault.MALFORMED_JSON, "embedding count does not match the input")
        return vectors

    async def list_models(self) -> list[str]:
        body = await self._request("GET", "models")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            return []
        return [str(m.get("id")) for m in data if isinstance(m, dict) and "id" in m]

    async def check_reachable(self) -> None:
        """Fail early with a clear :class:`EndpointUnreachableError` if unusable."""
        ep = self.endpoint
        where = f"LLM endpoint '{ep.name}' at {ep.base_url}"
        try:
            models = await self.list_models()
        except LLMFault as fault:
            if fault.kind in (Fault.CONNECTION, Fault.TIMEOUT):
                raise EndpointUnreachableError(
                    f"cannot reach the {where} ({fault.kind.value}). Is the server running? "
                    "Set llm.models[].base_url or TOWNSQUARE_LLM_BASE_URL to its address."
                ) from None
            if fault.status in (401, 403):
                raise EndpointUnreachableError(
                    f"the {where} rejected the request (HTTP {fault.status}); check the API key "
                    f"in environment variable {ep.api_key_env!r}"
                ) from None
            return  # some servers lack /models; requests may still work
        if models and ep.model not in models and f"{ep.model}:latest" not in models:
            raise EndpointUnreachableError(
                f"the {where} does not serve model '{ep.model}'; it lists {sorted(models)[:20]}. "
                "Set llm.models[].model or TOWNSQUARE_LLM_MODEL."
            )

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- HTTP ---------------------------------------------------------------------------

    def _secret(self) -> str | None:
        name = self.endpoint.api_key_env
        return os.environ.get(name) or None if name else None

    async def _request(self, method: str, path: str, content: bytes | None = None) -> Any:
        """Send ``content`` (JSON bytes, if any); the decoded JSON answer or an LLMFault."""
        secret = self._secret()
        headers = _JSON_HEADERS if content is not None else _HEADERS
        if secret:
            headers = {**headers, "Authorization": f"Bearer {secret}"}
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = f"{self.endpoint.base_url}/{path}"
        reply = await self._transport.send(method, url, headers, content)
        status = reply.status
        if status >= 400:
            excerpt = redact(error_text(reply.text), secret)
            if status == 429:
                kind = Fault.HTTP_429
            elif status >= 500:
                kind = Fault.HTTP_5XX
            else:
                kind = Fault.HTTP_4XX
            raise LLMFault(
                kind, f"HTTP {status} {excerpt}",
                retry_after=parse_retry_after(reply.retry_after), status=status,
            )
        try:
            return json.loads(reply.body)
        except ValueError:
            raise LLMFault(Fault.MALFORMED_JSON, f"HTTP {status} body is not JSON") from None



def error_text(body: str, limit: int = 300) -> str:
    """The server's own error message (``{"error": {"message": ...}}``), else the body's start."""
    try:
        data = json.loads(body)
        message = data["error"]["message"] if isinstance(data["error"], dict) else data["error"]
    except (ValueError, KeyError, TypeError):
        message = body
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def structured_request(
    endpoint: ModelEndpoint,
    messages: list[dict[str, str]],
    name: str,
    schema: dict[str, Any],
    seed: int | None,
    tag: CallTag,
) -> ChatRequest:
    """A request whose answer should follow ``schema``, enforced as the endpoint prefers.

    ``json_schema`` sends ``response_format={"type": "json_schema", ...}`` (vLLM,
    llama.cpp, Ollama, OpenAI); ``json_object`` sends ``{"type": "json_object",
    "schema": ...}`` (llama-cpp-python and LM Studio constrain decoding to the
    schema; other servers ask for any JSON object); ``tool`` forces a call of one
    function whose parameters are the schema; ``none`` puts the schema in the
    system message and relies on parsing and repair. ``auto`` must have been
    negotiated (see :mod:`~townsquare.behavior.llm.negotiate`); unresolved it
    means ``json_schema``. The parser accepts every form of answer.
    """
    request = ChatRequest(
        model=endpoint.model,
        messages=messages,
        temperature=endpoint.temperature,
        max_tokens=endpoint.max_tokens,
        seed=seed,
        tag=tag,
    )
    mode = endpoint.structured_output
    if mode in ("json_schema", "auto"):
        request.response_format = {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": False},
        }
    elif mode == "json_object":
        request.response_format = {"type": "json_object", "schema": schema}
    elif mode == "tool":
        request.tools = [
            {"type": "function", "function": {"name": name, "parameters": schema,
                                              "description": "Report your answer."}}
        ]
        request.tool_choice = {"type": "function", "function": {"name": name}}
    else:
        request.messages = schema_in_prompt(messages, schema)
    return request


def schema_in_prompt(
    messages: list[dict[str, str]], schema: dict[str, Any]
) -> list[dict[str, str]]:
    """``messages`` with the answer's JSON schema appended to the system message."""
    note = ("\n\nThe answer must be one JSON object valid under this JSON schema:\n"
            + json.dumps(schema, separators=(",", ":")))
    if messages and messages[0].get("role") == "system":
        return [{**messages[0], "content": messages[0]["content"] + note}, *messages[1:]]
    return [{"role": "system", "content": note.strip()}, *messages]


def derive_seed(run_seed: int, step: int, agent: int, purpose: str = "decide") -> int:
    """A request seed that depends only on (run seed, step, agent, purpose)."""
    digest = hashlib.sha256(f"{run_seed}:{step}:{agent}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
