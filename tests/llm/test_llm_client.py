"""The HTTP client and its wrappers against the fake server."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from fake_server import FakeLLMServer
from hypothesis import given, settings
from hypothesis import strategies as st
from llm_helpers import endpoint
from scripted_transport import ScriptedTransport

from townsquare.behavior.llm.cache import ResponseCache
from townsquare.behavior.llm.client import (
    CallTag,
    ChatClient,
    ChatRequest,
    canonical_json,
    parse_retry_after,
    structured_request,
)
from townsquare.behavior.llm.embeddings import HashingEmbedder
from townsquare.behavior.llm.faults import EndpointUnreachableError, Fault, LLMFault
from townsquare.behavior.llm.http import HttpReply
from townsquare.behavior.llm.wrappers import ConcurrencyLimit, RateLimit, build_stack
from townsquare.environments.social.llm.schema import INSIGHTS_SCHEMA
from townsquare.errors import UserError


def request(text: str = "hello", seed: int = 1) -> ChatRequest:
    return ChatRequest(model="fake-model", messages=[{"role": "user", "content": text}],
                       seed=seed, tag=CallTag(step=3, agent=5))


def run(coro):
    return asyncio.run(coro)


async def _complete_all(model, requests):
    try:
        return await asyncio.gather(*(model.complete(r) for r in requests))
    finally:
        await model.aclose()


def test_retry_after_is_honoured_on_429(fake_server: FakeLLMServer) -> None:
    fake_server.fail_next(1, "http_429", retry_after=1)
    stack = build_stack(endpoint(fake_server, max_retries=2))
    start = time.monotonic()
    [result] = run(_complete_all(stack, [request()]))
    elapsed = time.monotonic() - start
    assert fake_server.requests == 2  # the server saw the retry
    assert fake_server.arrivals[1] - fake_server.arrivals[0] >= 1.0
    assert elapsed >= 1.0
    assert result.attempts == 2
    assert result.record is not None and result.record.attempts == 2 and result.record.fault is None


def test_503_with_retry_after_is_retried(fake_server: FakeLLMServer) -> None:
    fake_server.fail_next(1, "http_503", retry_after=0.2)
    run(_complete_all(build_stack(endpoint(fake_server, max_retries=1)), [request()]))
    assert fake_server.requests == 2
    assert fake_server.arrivals[1] - fake_server.arrivals[0] >= 0.2


def test_server_errors_are_retried_until_success(fake_server: FakeLLMServer) -> None:
    fake_server.fail_next(2, "http_500")
    [result] = run(_complete_all(build_stack(endpoint(fake_server, max_retries=3)), [request()]))
    assert fake_server.requests == 3
    assert result.attempts == 3


@pytest.mark.parametrize(
    ("kind", "fault"),
    [("http_500", Fault.HTTP_5XX), ("http_429", Fault.HTTP_429), ("drop", Fault.CONNECTION),
     ("hang", Fault.TIMEOUT), ("bad_body", Fault.MALFORMED_JSON)],
)
def test_transport_faults_are_classified(fake_server: FakeLLMServer, kind: str,
                                         fault: Fault) -> None:
    fake_server.fail_fraction(1.0, kind, retry_after=0.01)
    stack = build_stack(endpoint(fake_server, max_retries=1, timeout_s=0.3))
    with pytest.raises(LLMFault) as caught:
        run(_complete_all(stack, [request()]))
    assert caught.value.kind == fault
    assert caught.value.attempts == 2
    assert fake_server.requests == 2
    record = caught.value.record
    assert record is not None and record.fault == fault.value and record.agent == 5


def test_non_retryable_status_fails_at_once() -> None:
    transport = ScriptedTransport(lambda req: HttpReply(400, b'{"error": "bad request"}'))
    stack = build_stack(endpoint_for("http://test/v1", max_retries=3), transport=transport)
    with pytest.raises(LLMFault) as caught:
        run(_complete_all(stack, [request()]))
    assert caught.value.kind == Fault.HTTP_4XX
    assert caught.value.attempts == 1
    assert len(transport.sent) == 1


def endpoint_for(url: str, **overrides: object):
    from townsquare.behavior.llm.config import ModelEndpoint
    return ModelEndpoint.model_validate({"base_url": url, "model": "fake-model",
                                         "backoff_base_s": 0.0, **overrides})


def test_cache_serves_repeats_without_requests(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    stack = build_stack(endpoint(fake_server), cache)
    first, second = run(_complete_all(stack, [request("a"), request("b")]))
    assert fake_server.requests == 2
    again = run(_complete_all(build_stack(endpoint(fake_server), cache),
                              [request("a"), request("b"), request("a", seed=2)]))
    assert fake_server.requests == 3  # only the new seed was sent
    assert [r.cache_hit for r in again] == [True, True, False]
    assert again[0].content == first.content and again[1].content == second.content
    assert again[0].record is not None and again[0].record.cost == 0.0
    cache.close()


def test_cache_key_covers_the_whole_request() -> None:
    base = request()
    assert base.key() == request().key()
    variants = [request(seed=2), request("other")]
    changed = ChatRequest(model="fake-model", messages=base.messages, seed=1, temperature=0.1)
    schema = ChatRequest(model="fake-model", messages=base.messages, seed=1,
                         response_format={"type": "json_object"})
    tagged = ChatRequest(model="fake-model", messages=base.messages, seed=1,
                         tag=CallTag(step=9, agent=9))
    assert len({base.key(), *(v.key() for v in [*variants, changed, schema])}) == 5
    assert tagged.key() == base.key()  # who asked is not part of the answer


def test_accounting_reads_usage_and_prices_it(fake_server: FakeLLMServer) -> None:
    stack = build_stack(endpoint(fake_server, cost_per_1k_prompt=2.0,
                                 cost_per_1k_completion=10.0))
    [result] = run(_complete_all(stack, [request("x" * 400)]))
    record = result.record
    assert record is not None
    assert record.prompt_tokens == 100 and record.completion_tokens == result.completion_tokens > 0
    assert record.cost == pytest.approx(100 * 2.0 / 1000 + record.completion_tokens * 10.0 / 1000)
    assert (record.step, record.agent, record.purpose) == (3, 5, "decide")


def test_concurrency_limit_bounds_requests_in_flight(fake_server: FakeLLMServer) -> None:
    fake_server.latency_s = 0.05
    stack = build_stack(endpoint(fake_server, concurrency=3))
    run(_complete_all(stack, [request(str(i)) for i in range(12)]))
    assert fake_server.max_in_flight == 3


def test_rate_limit_spaces_requests(fake_server: FakeLLMServer) -> None:
    stack = build_stack(endpoint(fake_server, requests_per_minute=600))  # 10/s, burst 10
    start = time.monotonic()
    run(_complete_all(stack, [request(str(i)) for i in range(13)]))
    assert time.monotonic() - start >= 0.25  # 3 requests beyond the burst at 0.1 s each


def test_wrappers_compose_in_order(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    stack = build_stack(endpoint(fake_server, requests_per_minute=60), ResponseCache(":memory:"))
    chain, layer = [], stack
    while hasattr(layer, "inner"):
        chain.append(type(layer).__name__)
        layer = layer.inner
    assert chain == ["Accounting", "Cached", "Retry", "RateLimit", "ConcurrencyLimit"]
    assert isinstance(layer, ChatClient)
    assert isinstance(stack.inner.inner.inner, RateLimit)  # type: ignore[attr-defined]
    assert isinstance(stack.inner.inner.inner.inner, ConcurrencyLimit)  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["json_schema", "tool", "json_object", "none"])
def test_structured_output_modes_all_yield_json(fake_server: FakeLLMServer, mode: str) -> None:
    ep = endpoint(fake_server, structured_output=mode)
    req = structured_request(ep, [{"role": "user", "content": "reflect"}],
                             "reflection_insights", INSIGHTS_SCHEMA, seed=4, tag=CallTag())
    [result] = run(_complete_all(build_stack(ep), [req]))
    if mode == "tool":
        assert result.tool_arguments is not None and result.text == result.tool_arguments
    if mode in ("json_schema", "tool"):
        assert '"insights"' in result.text


def test_endpoint_embeddings_match_hashing_and_are_cached(fake_server: FakeLLMServer) -> None:
    cache = ResponseCache(":memory:")
    texts = ["vaccines are safe", "the vote is tomorrow", "vaccines are safe"]

    async def go() -> tuple[np.ndarray, np.ndarray]:
        stack = build_stack(endpoint(fake_server, embeddings="endpoint"), cache)
        try:
            return await stack.embed(texts), await stack.embed(texts[:2])
        finally:
            await stack.aclose()

    first, second = run(go())
    assert fake_server.counts["embeddings"] == 1
    np.testing.assert_allclose(first, HashingEmbedder(64).transform(texts), atol=1e-6)
    np.testing.assert_array_equal(second, first[:2])


def test_hashing_embedder_is_normalised_and_deterministic() -> None:
    emb = HashingEmbedder(128)
    vectors = emb.transform(["Vaccines are safe", "vaccines ARE safe!", "budget vote", ""])
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vectors[0], vectors[1])
    assert not vectors[3].any()
    assert vectors[0] @ vectors[2] < 0.5


def test_unreachable_endpoint_is_a_clear_user_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    client = ChatClient(endpoint_for(url, timeout_s=2.0))
    with pytest.raises(EndpointUnreachableError) as caught:
        run(client.check_reachable())
    assert isinstance(caught.value, UserError)
    assert url in str(caught.value)
    assert "TOWNSQUARE_LLM_BASE_URL" in str(caught.value)


def test_unknown_model_is_a_clear_user_error(fake_server: FakeLLMServer) -> None:
    client = ChatClient(endpoint(fake_server, model="no-such-model"))
    with pytest.raises(EndpointUnreachableError, match="does not serve model 'no-such-model'"):
        run(client.check_reachable())


def test_rejected_key_names_the_variable() -> None:
    transport = ScriptedTransport(lambda req: HttpReply(401, b'{"error": "no"}'))
    client = ChatClient(endpoint_for("http://test/v1", api_key_env="MY_KEY"), transport=transport)
    with pytest.raises(EndpointUnreachableError, match="'MY_KEY'"):
        run(client.check_reachable())


@pytest.mark.parametrize(("header", "low", "high"), [
    ("3", 3.0, 3.0), ("0.5", 0.5, 0.5), (None, None, None), ("soon", None, None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0, 0.0),
])
def test_parse_retry_after(header: str | None, low: float | None, high: float | None) -> None:
    value = parse_retry_after(header)
    if low is None:
        assert value is None
    else:
        assert value is not None and low <= value <= high  # type: ignore[operator]


def test_a_proxy_from_the_environment_carries_the_requests(
    fake_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the fake server stands in for the proxy: it answers absolute-URI requests by path
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{fake_server.port}")
    client = ChatClient(endpoint_for("http://llm.invalid/v1"))
    result = run(_complete_all(client, [request()]))[0]
    assert result.content and fake_server.requests == 1
    assert fake_server.counts["proxied"] == 1


def test_no_proxy_skips_the_environment_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    from townsquare.behavior.llm.http import environment_proxy

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "models.internal")
    assert environment_proxy("https://api.example/v1") == "http://proxy.example:3128"
    assert environment_proxy("https://models.internal/v1") is None
    assert environment_proxy("http://api.example/v1") is None  # no HTTP_PROXY set


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT | st.floats()
    | st.floats(-1e-3, 1e-3) | st.floats(1e15, 1e300) | st.floats(-1e300, -1e15),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_TEXT, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_TEXT, _JSON, max_size=6))
def test_the_request_body_is_the_json_modules_canonical_json(payload: dict) -> None:
    """orjson (when installed) must not change a byte, or every cache key would change."""
    expected = json.dumps(payload, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
    assert canonical_json(payload) == expected
