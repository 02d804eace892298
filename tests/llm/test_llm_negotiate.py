"""Structured-output negotiation against fake servers that each accept one mode, or none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fake_server import FakeLLMServer
from llm_helpers import NEWS, TOPICS, IdleFallback, World, llm_config

from townsquare.behavior.llm.negotiate import StructuredOutputError, forget
from townsquare.core.actions import Action
from townsquare.environments.social.llm.behavior import LLMBehavior


@pytest.fixture
def only() -> Iterator[dict[str, FakeLLMServer]]:
    """One fresh server per mode (and one per rejection status), started on demand."""
    servers: dict[str, FakeLLMServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


def _server(servers: dict[str, FakeLLMServer], accept: tuple[str, ...],
            status: int = 400) -> FakeLLMServer:
    key = f"{accept}:{status}"
    if key not in servers:
        servers[key] = FakeLLMServer(accept=accept, reject_status=status).start()
    server = servers[key]
    server.record_payloads = True
    return server


def _behavior(server: FakeLLMServer, world: World, cache: Path, **endpoint: object) -> LLMBehavior:
    config = llm_config(server, cache, endpoint=endpoint)
    return LLMBehavior(config, world.population, TOPICS, NEWS, IdleFallback(), 3)


@pytest.mark.parametrize("mode", ["json_schema", "json_object", "tool", "none"])
def test_auto_picks_the_one_mode_a_server_accepts(only: dict, world: World, tmp_path: Path,
                                                  mode: str) -> None:
    server = _server(only, (mode,))
    with _behavior(server, world, tmp_path / "c.sqlite") as b:
        assert b.config.models[0].structured_output == mode
        d = b.decide(world.observe(0), np.random.default_rng(0))
    assert d.fallbacks == 0 and (d.actions.action != Action.IDLE).any()
    # the stronger modes were tried first and rejected, each once
    order = ["json_schema", "json_object", "tool", "none"]
    for weaker in order[: order.index(mode)]:
        assert server.counts[f"rejected:{weaker}"] == 1
    assert server.counts["probe"] == 1
    payload = server.payloads[-1]
    if mode == "json_object":  # the schema goes with the json_object request
        assert payload["response_format"]["schema"]["required"] == ["actions", "attitude",
                                                                    "emotion"]
    if mode == "none":  # the schema is in the prompt instead
        assert '"actions"' in payload["messages"][0]["content"]
        assert "JSON schema" in payload["messages"][0]["content"]


def test_the_negotiated_mode_is_remembered_in_the_cache(only: dict, world: World,
                                                        tmp_path: Path) -> None:
    server = _server(only, ("tool",))
    cache = tmp_path / "c.sqlite"
    with _behavior(server, world, cache):
        pass
    forget()  # a new process knows only what the cache holds
    with _behavior(server, world, cache) as again:
        assert again.config.models[0].structured_output == "tool"
    assert server.counts["probe"] == 1
    assert server.counts["rejected:json_schema"] == 1


def test_a_server_rejecting_every_mode_is_an_error_at_start(only: dict, world: World,
                                                            tmp_path: Path) -> None:
    server = _server(only, ())
    with pytest.raises(StructuredOutputError) as error:
        _behavior(server, world, tmp_path / "c.sqlite")
    message = str(error.value)
    assert "rejected every way of asking for a structured answer" in message
    for mode in ("json_schema", "json_object", "tool", "none"):
        assert f"this server does not support {mode}" in message  # the server's own words
    assert "HTTP 400" in message
    assert server.requests == 0  # no decision was ever sent


@pytest.mark.parametrize("status", [400, 500])
def test_an_explicit_mode_the_server_rejects_is_an_error_at_start(
    only: dict, world: World, tmp_path: Path, status: int,
) -> None:
    """llama-cpp-python answers json_schema with HTTP 500: still a clear error at start."""
    server = _server(only, ("json_object",), status)
    with pytest.raises(StructuredOutputError) as error:
        _behavior(server, world, tmp_path / "c.sqlite", structured_output="json_schema")
    message = str(error.value)
    assert "rejected structured_output = 'json_schema'" in message
    assert f"HTTP {status}" in message and "does not support json_schema" in message
    assert 'structured_output = "auto"' in message
    assert server.requests == 0


def test_an_explicit_mode_the_server_accepts_is_used(only: dict, world: World,
                                                     tmp_path: Path) -> None:
    server = _server(only, ("json_schema", "json_object"))
    with _behavior(server, world, tmp_path / "c.sqlite", structured_output="json_object") as b:
        assert b.config.models[0].structured_output == "json_object"
    assert server.counts["rejected:json_schema"] == 0  # only the asked mode was probed


def test_the_cli_refuses_a_server_that_rejects_every_mode(only: dict, tmp_path: Path) -> None:
    """Exit code 2, the server's words, and no half-written run."""
    from test_llm_runs import llm_scenario
    from typer.testing import CliRunner

    from townsquare.cli import app

    server = _server(only, ())
    path = tmp_path / "llm.toml"
    path.write_text(llm_scenario(server, tmp_path, size=50, steps=1).to_toml(), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--quiet"])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "rejected every way of asking for a structured answer" in output
    assert "Traceback" not in output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
