"""Find out how an endpoint enforces an answer schema, once per (server, model).

Servers differ: vLLM, llama.cpp's server, Ollama and OpenAI accept
``response_format`` of type ``json_schema``; llama-cpp-python and LM Studio
accept only ``json_object``, with the schema attached; some accept only a
forced tool call; some none of these. With ``structured_output = "auto"`` a
tiny request in each mode, strongest first, finds the first the server
accepts (HTTP 200 with a chat completion). An explicit mode is probed too, so
a server that rejects it is a clear error at start, not a failure at every
request. The outcome is remembered in the process and in the response cache,
so a rerun (and a replay from the cache with the server stopped) sends no
probe.
"""

from __future__ import annotations

from townsquare.behavior.llm.cache import ResponseCache
from townsquare.behavior.llm.client import CallTag, ChatClient, structured_request
from townsquare.behavior.llm.config import ModelEndpoint
from townsquare.behavior.llm.faults import EndpointUnreachableError, Fault, LLMFault

MODES = ("json_schema", "json_object", "tool", "none")  # strongest first
MODE_NAMES = {
    "json_schema": "response_format json_schema",
    "json_object": "response_format json_object with the schema attached",
    "tool": "a forced tool call",
    "none": "plain text with the schema in the prompt",
}
PROBE_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
}
PROBE_QUESTION = 'Reply with {"ok": true}.'
_PROBE_MESSAGES = [
    {"role": "system", "content": "You answer with one JSON object and nothing else."},
    {"role": "user", "content": PROBE_QUESTION},
]
_known: dict[str, str] = {}  # negotiation key -> mode, for this process


class StructuredOutputError(EndpointUnreachableError):
    """The endpoint rejects the structured-output mode asked for (or every mode)."""


def negotiation_key(endpoint: ModelEndpoint, origin: str | None = None) -> str:
    """What a negotiated mode is remembered by: the server (``origin``), model and request."""
    return "\x00".join((origin or endpoint.base_url, endpoint.model, endpoint.structured_output))


def known_mode(endpoint: ModelEndpoint, cache: ResponseCache | None,
               origin: str | None = None) -> str | None:
    """The mode negotiated before for this endpoint, if any (no request sent)."""
    key = negotiation_key(endpoint, origin)
    mode = _known.get(key)
    if mode is None and cache is not None:
        mode = cache.get_mode(key)
        if mode is not None:
            _known[key] = mode
    return mode


async def negotiate(client: ChatClient, cache: ResponseCache | None,
                    origin: str | None = None) -> str:
    """The structured-output mode to use with ``client``'s endpoint (probing if not known).

    Raises :class:`EndpointUnreachableError` when the server cannot be reached or
    refuses the key, and :class:`StructuredOutputError` when it rejects the
    explicit mode or every mode, quoting the server's own error text.
    """
    endpoint = client.endpoint
    mode = known_mode(endpoint, cache, origin)
    if mode is not None:
        return mode
    asked = endpoint.structured_output
    where = f"LLM endpoint '{endpoint.name}' at {endpoint.base_url} (model '{endpoint.model}')"
    rejected: list[str] = []
    for candidate in MODES if asked == "auto" else (asked,):
        error = await probe(client, candidate, where)
        if error is None:
            mode = candidate
            break
        rejected.append(f"{MODE_NAMES[candidate]}: {error}")
    if mode is None:
        if asked != "auto":
            raise StructuredOutputError(
                f"the {where} rejected structured_output = '{asked}' "
                f"({MODE_NAMES[asked]}): {rejected[0].split(': ', 1)[1]}. "
                "Set llm.models[].structured_output = \"auto\" to use the strongest mode "
                "the server accepts.")
        raise StructuredOutputError(
            f"the {where} rejected every way of asking for a structured answer: "
            + "; ".join(rejected))
    key = negotiation_key(endpoint, origin)
    _known[key] = mode
    if cache is not None:
        cache.put_mode(key, mode)
    return mode


async def probe(client: ChatClient, mode: str, where: str) -> str | None:
    """``None`` if the server answers a tiny request in ``mode``; else its error text."""
    endpoint = client.endpoint.model_copy(update={"structured_output": mode,
                                                  "temperature": 0.0, "max_tokens": 16})
    request = structured_request(endpoint, list(_PROBE_MESSAGES), "probe", PROBE_SCHEMA,
                                 seed=0, tag=CallTag(purpose="probe"))
    try:
        await client.complete(request)
    except LLMFault as fault:
        if fault.kind in (Fault.CONNECTION, Fault.TIMEOUT):
            raise EndpointUnreachableError(
                f"cannot reach the {where} ({fault}). Is the server running? Set "
                "llm.models[].base_url or TOWNSQUARE_LLM_BASE_URL to its address.") from None
        if fault.status in (401, 403):
            raise EndpointUnreachableError(
                f"the {where} rejected the request (HTTP {fault.status}); check the API key "
                f"in environment variable {client.endpoint.api_key_env!r}") from None
        return str(fault).split(": ", 1)[-1]
    return None


def forget() -> None:
    """Drop what this process negotiated (tests that restart a server on a reused port)."""
    _known.clear()
