"""The API key is sent, and never appears in reprs, logs, errors, the cache or records."""

from __future__ import annotations

import asyncio
import logging
import pickle
from pathlib import Path

import numpy as np
import pytest
from fake_server import FakeLLMServer
from llm_helpers import KEY_ENV, NEWS, SECRET, TOPICS, IdleFallback, llm_config, make_world
from pydantic import ValidationError
from scripted_transport import ScriptedTransport, SentRequest

from townsquare.behavior.llm.client import ChatClient, ChatRequest
from townsquare.behavior.llm.config import MemoryConfig, ModelEndpoint
from townsquare.behavior.llm.faults import LLMFault
from townsquare.behavior.llm.http import HttpReply
from townsquare.environments.social.llm.behavior import LLMBehavior


def test_key_is_sent_but_never_leaks(fake_server: FakeLLMServer, tmp_path: Path,
                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world = make_world()
    cache_path = tmp_path / "cache.sqlite"
    config = llm_config(fake_server, cache_path, memory=MemoryConfig(reflect_every=1),
                        endpoint={"embeddings": "endpoint"})
    fake_server.fail_next(2, "http_500")
    fake_server.fail_next(1, "garbage")
    fake_server.fail_next(1, "http_429", retry_after=0.01)
    with LLMBehavior(config, world.population, TOPICS, NEWS, IdleFallback(), 3) as b:
        for step in range(2):
            b.decide(world.observe(step), np.random.default_rng(step))
        records = b.drain_records()
        texts = [repr(b), repr(config), repr(b._stacks), str(b.last_step_stats()),
                 repr(records), b.interview(1, "how are you?")]
        state = pickle.dumps(b.get_state())
    assert fake_server.auth_headers == fake_server.requests > 0  # the key was sent each time
    assert SECRET not in "\n".join(texts)
    assert SECRET.encode() not in state
    assert SECRET not in caplog.text and len(caplog.records) > 0
    for path in tmp_path.iterdir():  # the database, its WAL and shared-memory files
        assert SECRET.encode() not in path.read_bytes(), path.name


def test_key_echoed_by_a_server_is_redacted_from_errors() -> None:
    def echo(request: SentRequest) -> HttpReply:
        return HttpReply(401, f"Incorrect API key: {request.headers['Authorization']}".encode())

    ep = ModelEndpoint(base_url="http://test/v1", api_key_env=KEY_ENV, max_retries=0)
    client = ChatClient(ep, transport=ScriptedTransport(echo))
    request = ChatRequest(model="default", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(LLMFault) as caught:
        asyncio.run(client.complete(request))
    assert caught.value.status == 401
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert "***" in str(caught.value)


def test_a_pasted_key_is_rejected_without_being_echoed() -> None:
    with pytest.raises(ValidationError) as caught:
        ModelEndpoint(api_key_env=SECRET)
    assert "NAME of an environment variable" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value.errors())


def test_no_key_variable_means_no_header(fake_server: FakeLLMServer, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    world = make_world(n_agents=2)
    config = llm_config(fake_server, tmp_path / "c.sqlite")
    with LLMBehavior(config, world.population, TOPICS, NEWS, IdleFallback(), 3) as b:
        b.decide(world.observe(0), np.random.default_rng(0))
    assert fake_server.requests == 2 and fake_server.auth_headers == 0
