"""An LLM agent's dashboard page: its memories, its model calls with the answers found in
the response cache, and the interview box (the stored endpoint is not trusted for a run
the dashboard did not start)."""

from __future__ import annotations

import warnings
from pathlib import Path

from fake_server import FakeLLMServer
from markupsafe import escape
from test_llm_runs import llm_scenario

from townsquare import Simulation
from townsquare.report.server import create_app

with warnings.catch_warnings():  # starlette suggests httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def test_llm_agent_page_shows_memories_calls_and_answers(fake_server: FakeLLMServer,
                                                         tmp_path: Path) -> None:
    run = Simulation(llm_scenario(fake_server, tmp_path, size=60, steps=3)).run()
    calls = run.reader.query("SELECT agent, COUNT(*) AS n FROM llm_calls WHERE agent >= 0 "
                             "GROUP BY agent ORDER BY n DESC LIMIT 1")
    agent = int(calls["agent"].iloc[0])
    memory = str(run.reader.query("SELECT text FROM memories WHERE agent = ? LIMIT 1",
                                  (agent,))["text"].iloc[0])
    client = TestClient(create_app(tmp_path / "runs"), base_url="http://127.0.0.1",
                        client=("127.0.0.1", 50000))
    html = client.get(f"/runs/{run.id}/agents/{agent}").text
    assert "Memory stream" in html and str(escape(memory[:40])) in html
    assert fake_server.model in html and "Model calls" in html
    n = int(calls["n"].iloc[0])
    shown = min(n, 200)
    assert f"{shown} of {shown} answers were found" in html  # every answer, from the cache
    assert '{&#34;' in html and '&#34;content&#34;' not in html  # the answers, not the records
    assert 'id="interview-form"' in html  # a model is configured
    answer = client.post(f"/api/runs/{run.id}/agents/{agent}/interview",
                         json={"question": "What do you think?"})
    assert answer.status_code == 400 and "trust" in answer.json()["error"]
