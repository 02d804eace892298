"""LLM agents inside whole runs: data in the store, cached replay, faults, hybrids, secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from fake_server import FakeLLMServer
from llm_helpers import KEY_ENV, SECRET

from townsquare import Scenario, Simulation
from townsquare.core.actions import Action


def llm_scenario(server: FakeLLMServer, out: Path, size: int = 500, steps: int = 5,
                 fraction: float = 1.0, **extra: object) -> Scenario:
    llm = {
        "models": [{"base_url": server.base_url, "model": server.model, "api_key_env": KEY_ENV,
                    "timeout_s": 3.0, "max_retries": 1, "backoff_base_s": 0.01,
                    "concurrency": 32}],
        "assign": {"fraction": fraction},
        "memory": {"reflect_every": 2},
        "cache_path": str(out / "llm-cache.sqlite"),
    }
    overrides = {"population.size": size, "steps": steps, "output_dir": str(out / "runs"),
                 "population.activity.a": 4.0, "population.activity.b": 6.0, "llm": llm}
    return Scenario.load("default").with_overrides(overrides | extra)


def test_500_llm_agents_for_5_steps_land_in_the_store(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    run = Simulation(llm_scenario(fake_server, tmp_path)).run()
    reader = run.reader
    calls = reader.query("SELECT * FROM llm_calls")
    memories = reader.query("SELECT * FROM memories")
    events = run.events()
    assert (calls["purpose"] == "decide").sum() >= 500  # ~40% of 500 agents active x 5 steps
    assert set(calls["step"]) == set(range(5))
    assert {"observation", "action", "reflection"} <= set(memories["kind"])
    assert events["reason"].notna().mean() > 0.9  # every LLM action carries its stated reason
    commented = run.posts().query("kind == 'comment'")
    assert commented["text"].notna().all() and len(commented) > 0
    assert len(run.attitudes()) > 0 and len(run.emotions()) > 0
    summary = run.summary()
    assert summary["llm_requests"] == len(calls)
    assert summary["llm_prompt_tokens"] > 0
    assert fake_server.requests >= 500


def test_rerun_from_the_cache_makes_no_requests_and_the_same_events(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    scenario = llm_scenario(fake_server, tmp_path, size=300, steps=4)
    first = Simulation(scenario).run().events()
    sent = fake_server.requests
    assert sent > 0
    again = Simulation(scenario).run()
    assert fake_server.requests == sent  # zero new chat requests
    pd.testing.assert_frame_equal(first, again.events())
    assert again.summary()["llm_cache_hits"] == again.summary()["llm_requests"]


@pytest.mark.parametrize("kind", ["http_500", "http_429", "drop", "hang", "bad_body",
                                  "garbage", "truncated", "refusal", "empty"])
def test_each_fault_leaves_a_completed_run_with_fallbacks_counted(
    fake_server: FakeLLMServer, tmp_path: Path, kind: str
) -> None:
    fake_server.hang_s = 5.0
    fake_server.fail_fraction(0.3, kind, retry_after=0.05)
    scenario = llm_scenario(fake_server, tmp_path, size=120, steps=2, **{
        "llm.models": [{"base_url": fake_server.base_url, "model": fake_server.model,
                        "api_key_env": KEY_ENV, "timeout_s": 0.5, "max_retries": 0,
                        "concurrency": 32}],
        "llm.memory": {"reflect_every": 0},
        # 30% faults on purpose: no ceiling here (test_llm_ceiling.py tests the ceiling)
        "llm.max_fallback_share": 1.0, "llm.max_run_fallback_share": 1.0})
    run = Simulation(scenario).run()
    assert run.meta()["status"] == "completed"
    summary = run.summary()
    calls = run.reader.query("SELECT purpose, fault, fallback FROM llm_calls")
    assert calls["fault"].notna().any(), kind
    assert summary["llm_fallback_total"] == calls["fallback"].sum()
    fault_counts = {k: v for k, v in summary.items() if k.startswith("llm_fault_")}
    assert sum(fault_counts.values()) == calls["fault"].notna().sum()
    # a fault either fell back to the heuristic or was repaired by one re-ask
    repaired = (calls["purpose"] == "repair").any()
    assert summary["llm_fallback_total"] > 0 or repaired, kind
    # agents that fell back still acted, by the heuristic
    assert len(run.events()) > 0


def test_hybrid_ten_percent_llm_on_ten_thousand_agents(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    scenario = llm_scenario(fake_server, tmp_path, size=10_000, steps=2, fraction=0.1,
                            **{"population.activity.a": 1.5, "population.activity.b": 8.0})
    run = Simulation(scenario).run()
    calls = run.reader.query("SELECT DISTINCT agent FROM llm_calls WHERE purpose = 'decide'")
    events = run.events()
    llm_agents = set(calls["agent"])
    assert 0 < len(llm_agents) < 1500
    by_llm = events[events["agent"].isin(llm_agents)]
    by_rules = events[~events["agent"].isin(llm_agents)]
    assert len(by_rules) > len(by_llm) > 0
    assert by_llm["reason"].notna().mean() > 0.9 and by_rules["reason"].isna().all()
    assert (by_rules["action"] == Action.IDLE.label).sum() == 0


def test_the_api_key_is_never_stored_logged_or_reported(
    fake_server: FakeLLMServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_server.fail_fraction(0.2, "http_500")  # faults, so fault records are written too
    scenario = llm_scenario(fake_server, tmp_path, size=100, steps=2).with_overrides({
        "llm.max_fallback_share": 1.0, "llm.max_run_fallback_share": 1.0})
    run = Simulation(scenario).run()
    assert fake_server.auth_headers > 0  # the key was sent to the server...
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path  # ...but never written
    assert SECRET not in caplog.text
    assert SECRET not in str(run.summary()) and SECRET not in run.meta()["scenario_toml"]


def test_interviews_after_and_during_a_run(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    scenario = llm_scenario(fake_server, tmp_path, size=200, steps=3, fraction=0.5)
    sim = Simulation(scenario)
    live: list[str] = []
    llm_agent = int(next(a for a in range(200) if sim.world.behavior.is_llm[a]))
    rule_agent = int(next(a for a in range(200) if not sim.world.behavior.is_llm[a]))
    sim_run = sim.run(on_step=lambda step, metrics: live.append(
        sim.interview(rule_agent, "How do you feel?")) if step == 1 else None)
    assert live and "Attitudes:" in live[0] and "Mood:" in live[0]
    asked = fake_server.counts["chat"]
    answer = sim_run.interview(llm_agent, "What did you read today?", trust_endpoint=True)
    assert fake_server.counts["chat"] == asked + 1  # answered by the model, in character
    assert answer and "Attitudes:" not in answer
    structured = sim_run.interview(rule_agent, "Do you believe the rumour?")
    assert "Belief that the stories are true: rumour" in structured
    assert f"Agent {rule_agent}:" in structured


def test_llm_agents_answer_surveys_in_their_own_words(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    scenario = llm_scenario(fake_server, tmp_path, size=200, steps=3, fraction=0.5, surveys=[
        {"id": "s", "steps": [1, 2], "sample": 80, "questions": [
            {"id": "likert", "text": "Is the health system doing well?", "topic": "health"},
            {"id": "pick", "text": "How do you feel?", "kind": "choice", "measures": "valence",
             "options": ["bad", "fine", "great"]},
            {"id": "open", "text": "What is on your mind?", "kind": "text", "topic": "health"},
        ]}])
    sim = Simulation(scenario)
    is_llm = sim.world.behavior.is_llm
    run = sim.run()
    answers = run.survey_answers()
    by_model = answers[answers["agent"].map(lambda a: bool(is_llm[a]))]
    by_rules = answers[~answers.index.isin(by_model.index)]
    assert len(by_model) > 0 and len(by_rules) > 0
    likert = by_model[by_model["question"] == "likert"]
    assert likert["answer"].str.contains("how I see it").all()  # the model's words
    assert likert["value"].between(1, 5).all()
    assert set(by_model[by_model["question"] == "pick"]["answer"]) <= {"bad", "fine", "great"}
    assert not by_rules["answer"].str.contains("how I see it").any()
    interviews = run.reader.query("SELECT COUNT(*) AS n FROM llm_calls "
                                  "WHERE purpose = 'interview'")["n"].iloc[0]
    assert interviews > 0  # asked through the model, accounted like every other call


def test_survey_interviews_at_the_last_step_are_recorded(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    scenario = llm_scenario(fake_server, tmp_path, size=120, steps=2, fraction=0.5, surveys=[
        {"id": "s", "steps": [1], "sample": 30, "questions": [
            {"id": "likert", "text": "Is the health system doing well?", "topic": "health"}]}])
    sim = Simulation(scenario)
    is_llm = sim.world.behavior.is_llm
    run = sim.run()
    asked = run.survey_answers()["agent"].map(lambda a: bool(is_llm[a])).sum()
    calls = run.reader.query("SELECT step, purpose FROM llm_calls WHERE purpose = 'interview'")
    assert asked > 0 and len(calls) == asked and set(calls["step"]) == {1}
