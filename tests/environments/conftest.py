"""Fixtures for the environment tests: the fake model server (it answers trades, catches, votes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_server import FakeLLMServer


@pytest.fixture(scope="session")
def _env_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_server(_env_server: FakeLLMServer) -> FakeLLMServer:
    """The shared fake server with faults, counters and latency reset."""
    _env_server.reset()
    return _env_server


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOWNSQUARE_LLM_BASE_URL", "TOWNSQUARE_LLM_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
