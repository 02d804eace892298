"""Fixtures for the LLM layer: the fake model server and a tiny world to observe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_server import FakeLLMServer
from llm_helpers import KEY_ENV, SECRET, World, make_world

from townsquare.behavior.llm.negotiate import forget


@pytest.fixture(scope="session")
def _server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_server(_server: FakeLLMServer) -> FakeLLMServer:
    """The shared fake server with faults, counters and latency reset."""
    _server.reset()
    return _server


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOWNSQUARE_LLM_BASE_URL", "TOWNSQUARE_LLM_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(KEY_ENV, SECRET)
    forget()  # each test negotiates structured output afresh


@pytest.fixture
def world() -> World:
    return make_world()

