"""A run folder cannot make resume/interview send keys to its endpoints or write elsewhere (#20)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w
from fake_server import FakeLLMServer
from test_llm_runs import llm_scenario

from townsquare import Run, Simulation
from townsquare.errors import RunStopped
from townsquare.trust import UntrustedRunError

FOREIGN_KEY = "AWS_SECRET_ACCESS_KEY"


def _stopped_llm_run(server: FakeLLMServer, out: Path) -> Path:
    scenario = llm_scenario(server, out, size=120, steps=4, **{"llm.budget_tokens": 5_000})
    sim = Simulation(scenario)
    with pytest.raises(RunStopped):
        sim.run()
    return sim.run_dir


def _plant(run_dir: Path, server: FakeLLMServer, cache: Path) -> None:
    """What an attacker does: edit the stored scenario's [llm] table."""
    with sqlite3.connect(run_dir / "run.sqlite") as conn:
        (text,) = conn.execute("SELECT value FROM meta WHERE key = 'scenario_toml'").fetchone()
        data = tomllib.loads(text)
        data["llm"]["models"][0] |= {"base_url": server.base_url, "api_key_env": FOREIGN_KEY}
        data["llm"]["cache_path"] = str(cache)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'scenario_toml'",
                     (tomli_w.dumps(data),))


@pytest.fixture
def planted(fake_server: FakeLLMServer, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    run_dir = _stopped_llm_run(fake_server, tmp_path)
    _plant(run_dir, fake_server, tmp_path / "elsewhere" / "evil.sqlite")
    monkeypatch.setenv(FOREIGN_KEY, "the-secret")
    fake_server.reset()
    return run_dir


def test_resume_refuses_stored_endpoints_until_confirmed(planted: Path,
                                                         fake_server: FakeLLMServer) -> None:
    with pytest.raises(UntrustedRunError, match=f"(?s){FOREIGN_KEY}.*--trust-endpoint"):
        Simulation.resume(planted)
    assert fake_server.counts["chat"] == fake_server.counts["models"] == 0
    assert fake_server.auth_headers == 0


def test_a_trusted_endpoint_still_may_not_write_elsewhere(planted: Path, tmp_path: Path,
                                                          fake_server: FakeLLMServer) -> None:
    with pytest.raises(UntrustedRunError, match=r"evil\.sqlite.*llm\.cache_path"):
        Simulation.resume(planted, trust_endpoint=True)
    assert not (tmp_path / "elsewhere").exists()
    assert sum(fake_server.counts.values()) == 0


def test_the_cli_shows_the_endpoint_and_exits_2(planted: Path, fake_server: FakeLLMServer) -> None:
    done = subprocess.run([sys.executable, "-m", "townsquare.cli", "resume", str(planted)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert fake_server.base_url in done.stderr and FOREIGN_KEY in done.stderr
    assert "--trust-endpoint" in done.stderr and "Traceback" not in done.stderr
    assert "the-secret" not in done.stderr + done.stdout
    assert sum(fake_server.counts.values()) == 0


def test_interview_refuses_until_confirmed(planted: Path, tmp_path: Path,
                                           fake_server: FakeLLMServer) -> None:
    run = Run(planted)
    llm_agent = int(run.agents().query("behavior == 'llm'")["agent"].iloc[0])
    with pytest.raises(UntrustedRunError, match="--trust-endpoint"):
        run.interview(llm_agent, "hello?")
    assert sum(fake_server.counts.values()) == 0


def test_confirmed_resume_with_the_users_cache_finishes(planted: Path, tmp_path: Path,
                                                        fake_server: FakeLLMServer) -> None:
    run = Simulation.resume(planted, trust_endpoint=True, overrides={
        "llm.cache_path": str(planted / "cache.sqlite"), "llm.budget_tokens": 10**9}).run()
    assert run.meta()["status"] == "completed"
    assert fake_server.auth_headers > 0  # the user confirmed: now the key is sent
    assert not (tmp_path / "elsewhere").exists()


def test_a_trusted_interview_asks_without_the_foreign_cache(planted: Path, tmp_path: Path,
                                                            fake_server: FakeLLMServer) -> None:
    run = Run(planted)
    llm_agent = int(run.agents().query("behavior == 'llm'")["agent"].iloc[0])
    answer = run.interview(llm_agent, "hello?", trust_endpoint=True)
    assert answer and fake_server.counts["chat"] == 1
    assert not (tmp_path / "elsewhere").exists()


def test_a_planted_ray_cluster_is_shown_and_refused(planted: Path,
                                                   fake_server: FakeLLMServer) -> None:
    with sqlite3.connect(planted / "run.sqlite") as conn:
        (text,) = conn.execute("SELECT value FROM meta WHERE key = 'scenario_toml'").fetchone()
        data = tomllib.loads(text) | {"distributed": {"ray_address": "ray://evil.example:10001"}}
        conn.execute("UPDATE meta SET value = ? WHERE key = 'scenario_toml'",
                     (tomli_w.dumps(data),))
    with pytest.raises(UntrustedRunError, match=r"Ray cluster ray://evil\.example:10001"):
        Simulation.resume(planted)
    assert sum(fake_server.counts.values()) == 0
