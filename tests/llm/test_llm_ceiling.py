"""Runs fail loudly when the minds fail: the fallback ceiling, its message and exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_server import FakeLLMServer
from llm_helpers import KEY_ENV
from test_llm_runs import llm_scenario
from typer.testing import CliRunner

from townsquare import Simulation
from townsquare.behavior.llm.ceiling import EXIT_CEILING, FallbackCeiling, FallbackCeilingExceeded
from townsquare.behavior.llm.faults import Fault
from townsquare.cli import app
from townsquare.environments.social.llm.schema import ParseFailure, parse_answer
from townsquare.store import SqliteRunReader

runner = CliRunner()


def _scenario(server: FakeLLMServer, tmp_path: Path, **extra: object):
    return llm_scenario(server, tmp_path, size=120, steps=3, **{
        "llm.models": [{"base_url": server.base_url, "model": server.model,
                        "api_key_env": KEY_ENV, "timeout_s": 2.0, "max_retries": 0}],
        "llm.memory": {"reflect_every": 0}, **extra})


def test_a_run_whose_decisions_all_fall_back_stops_naming_the_fault(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.fail_fraction(1.0, "http_500")
    sim = Simulation(_scenario(fake_server, tmp_path))
    with pytest.raises(FallbackCeilingExceeded) as info:
        sim.run()
    message = str(info.value)
    assert "fell back to the heuristic, above llm.max_fallback_share = 0.2" in message
    assert "Dominant fault: http_5xx" in message
    assert "HTTP 500 internal error" in message  # the server's own words
    assert "townsquare resume" in message
    meta = SqliteRunReader(sim.run_dir).meta()
    assert meta["status"] == "interrupted"
    assert meta["checkpoint_step"] == 0 and meta["last_step"] == 0  # stopped after step 0
    fake_server.clear_faults()  # the cause is fixed: the run resumes and completes
    cache = {"llm.cache_path": str(tmp_path / "llm-cache.sqlite")}  # named by the user
    run = Simulation.resume(sim.run_dir, overrides=cache, trust_endpoint=True).run()
    assert run.meta()["status"] == "completed"
    assert sorted(run.metrics().index) == [0, 1, 2]


def test_the_run_ceiling_counts_across_steps() -> None:
    ceiling = FallbackCeiling(step_share=0.5, run_share=0.2)
    ceiling.observe(0, 10, {}, {})
    ceiling.observe(1, 10, {"malformed_json": 4}, {"malformed_json": "no JSON"})  # 20% of run
    ceiling.check()  # at the ceiling, not above
    ceiling.observe(2, 10, {"malformed_json": 3}, {"malformed_json": "no JSON"})  # 7/30
    with pytest.raises(FallbackCeilingExceeded, match="7 of 30 LLM decisions so far"):
        ceiling.check()


def test_outage_faults_are_left_to_the_outage_policy() -> None:
    ceiling = FallbackCeiling(step_share=0.2, run_share=0.2)
    ceiling.observe(0, 10, {"connection": 10}, {"connection": "refused"})
    ceiling.check()
    assert ceiling.decisions == 10 and ceiling.fallbacks == 0


def _cli_run(scenario, tmp_path: Path) -> object:
    path = tmp_path / "llm.toml"
    path.write_text(scenario.to_toml(), encoding="utf-8")
    return runner.invoke(app, ["run", str(path), "--quiet"])


def test_the_cli_exits_non_zero_when_the_ceiling_stops_a_run(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.fail_fraction(1.0, "garbage")
    result = _cli_run(_scenario(fake_server, tmp_path), tmp_path)
    assert result.exit_code == EXIT_CEILING, result.output
    output = " ".join(result.output.split())
    assert "Dominant fault: malformed_json" in output
    assert "the answer contains no valid JSON object" in output


def test_a_run_under_the_ceiling_completes_and_prints_the_share(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.fail_fraction(0.05, "garbage")
    result = _cli_run(_scenario(fake_server, tmp_path, **{"llm.repair": False}), tmp_path)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "LLM decisions:" in output and "fell back to the heuristic:" in output
    runs = sorted((tmp_path / "runs").iterdir())
    summary = SqliteRunReader(runs[-1]).meta()["summary"]
    assert 0 < summary["llm_fallback_share"] <= 0.2
    assert summary["llm_fallback_share"] == pytest.approx(
        summary["llm_fallback_total"] / summary["llm_decisions"])
    shown = runner.invoke(app, ["show", runs[-1].name, "--runs", str(tmp_path / "runs")])
    assert shown.exit_code == 0 and "fell back to the heuristic:" in shown.output


@pytest.mark.parametrize("answer", [
    '{"actions": 5, "attitude": {}, "emotion": {"valence": 0, "arousal": 0}}',
    '{"actions": [{"type": "like", "post": 99, "reason": "not in my feed"}]}',
    '{"actions": [], "attitude": "very positive"}',
    '{"actions": [], "emotion": "calm"}',
])
def test_wrong_typed_answers_are_faults_not_do_nothing(answer: str) -> None:
    parsed = parse_answer(answer, [3, 7, 12], ["politics", "health"])
    assert isinstance(parsed, ParseFailure) and parsed.fault == Fault.INVALID
