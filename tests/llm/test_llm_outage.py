"""Model-server outages and budgets: wait and continue, or checkpoint, stop and resume."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fake_server import FakeLLMServer
from test_llm_runs import llm_scenario

from townsquare import Simulation
from townsquare.errors import RunStopped
from townsquare.store import SqliteRunReader


def own_cache(out: Path) -> dict[str, str]:
    """The cache file llm_scenario chose, named again by the user on resume (#20)."""
    return {"llm.cache_path": str(out / "llm-cache.sqlite")}


def test_endpoint_goes_away_and_comes_back(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    scenario = llm_scenario(fake_server, tmp_path, size=150, steps=5,
                            **{"llm.outage_wait_s": 60.0, "llm.memory": {"reflect_every": 0}})
    sim = Simulation(scenario)

    def outage(step: int, metrics: dict) -> None:
        if step == 1:
            fake_server.down = True
            threading.Timer(1.5, lambda: setattr(fake_server, "down", False)).start()

    run = sim.run(on_step=outage)
    assert run.meta()["status"] == "completed"
    models_probes = fake_server.counts["models"]
    assert models_probes >= 2  # the start check, then probing during the outage
    calls = run.reader.query("SELECT step, fault, fallback FROM llm_calls")
    late = calls[calls["step"] >= 3]
    assert late["fault"].isna().mean() > 0.9  # once back, the model decides again


def test_endpoint_stays_down_checkpoints_stops_and_resumes(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    scenario = llm_scenario(fake_server, tmp_path, size=150, steps=5, **{
        "llm.outage_wait_s": 0.5, "llm.memory": {"reflect_every": 0},
        "llm.models": [{"base_url": fake_server.base_url, "model": fake_server.model,
                        "api_key_env": "TOWNSQUARE_TEST_API_KEY", "timeout_s": 1.0,
                        "max_retries": 0}]})
    sim = Simulation(scenario)

    def outage(step: int, metrics: dict) -> None:
        if step == 1:
            fake_server.down = True

    with pytest.raises(RunStopped, match="unreachable") as info:
        sim.run(on_step=outage)
    assert "townsquare resume" in str(info.value)
    meta = SqliteRunReader(sim.run_dir).meta()
    assert meta["status"] == "interrupted"
    # step 2 ran on fallbacks; before step 3 the probe gave up and step 2 was checkpointed
    assert meta["checkpoint_step"] == 2 and meta["last_step"] == 2
    fake_server.down = False
    run = Simulation.resume(sim.run_dir, overrides=own_cache(tmp_path),
                            trust_endpoint=True).run()
    assert run.meta()["status"] == "completed"
    assert sorted(run.metrics().index) == list(range(5))


def test_token_budget_stops_cleanly_and_a_raised_budget_finishes(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    scenario = llm_scenario(fake_server, tmp_path, size=150, steps=6,
                            **{"llm.budget_tokens": 20_000})
    sim = Simulation(scenario)
    with pytest.raises(RunStopped, match="token budget"):
        sim.run()
    meta = SqliteRunReader(sim.run_dir).meta()
    assert meta["status"] == "interrupted"
    stopped_at = meta["last_step"]
    assert 0 <= stopped_at < 5
    with pytest.raises(RunStopped, match="token budget"):  # same budget: refuses again
        Simulation.resume(sim.run_dir, overrides=own_cache(tmp_path),
                          trust_endpoint=True).run()
    run = Simulation.resume(sim.run_dir, trust_endpoint=True,
                             overrides={"llm.budget_tokens": 10**9} | own_cache(tmp_path)).run()
    assert run.meta()["status"] == "completed"
    assert "budget_tokens = 1000000000" in run.meta()["scenario_toml"]
