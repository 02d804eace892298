"""A rerun served entirely from the response cache needs no server."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from fake_server import FakeLLMServer
from test_llm_runs import llm_scenario

from townsquare import Simulation
from townsquare.behavior.llm.negotiate import forget

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
