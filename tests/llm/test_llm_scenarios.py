"""Every built-in study runs with LLM agents too (a model set in [llm]), on the test server."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_server import FakeLLMServer
from llm_helpers import KEY_ENV

from townsquare import Scenario, Simulation
from townsquare.scenario import builtin_names

# the commons has no social platform; its LLM harvesters are tested in tests/environments
RULE_BASED = {"commons"}
# its headline measures third-generation retellings, which need the full run
FULL_SIZE = {"news-evolution"}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=[pytest.mark.slow] if n in FULL_SIZE else [])
    for n in builtin_names() if n not in RULE_BASED])
def test_builtin_scenario_runs_with_llm_agents(
    name: str, fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    scenario = Scenario.load(name)
    llm = {"models": [{"base_url": fake_server.base_url, "model": fake_server.model,
                       "api_key_env": KEY_ENV, "timeout_s": 5.0, "max_retries": 1,
                       "backoff_base_s": 0.01, "concurrency": 32}],
           "assign": {"fraction": 0.3}, "memory": {"reflect_every": 2},
           "cache_path": str(tmp_path / "cache.sqlite")}
    last_news = max((item.step for item in scenario.news), default=0)
    overrides: dict[str, object] = {"output_dir": str(tmp_path / "runs"), "llm": llm}
    if name not in FULL_SIZE:  # small and short, but long enough for every news item
        overrides["steps"] = min(scenario.steps, max(3, last_news + 2))
        if scenario.network.kind not in ("edgelist", "graphml"):
            overrides["population.size"] = 300
    run = Simulation(scenario.with_overrides(overrides)).run()
    assert run.meta()["status"] == "completed"
    calls = run.reader.query("SELECT COUNT(*) AS n, SUM(fallback) AS f FROM llm_calls")
    assert calls["n"].iloc[0] > 0, name
    assert calls["f"].iloc[0] == 0, name
    summary = run.summary()
    missing = [key for key in run.scenario().headline if key not in summary]
    assert missing == [], name
