"""LLM agents sharded over Ray actors: the local backend's decisions, from two servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from fake_server import FakeLLMServer

from townsquare import Scenario, Simulation
from townsquare.behavior.llm.faults import EndpointUnreachableError, LLMConfigError
from townsquare.errors import RunStopped, ScenarioError
from townsquare.run import Run

QUESTION = "What do you think of the rumour?"
LATENCY = ["llm_latency_p50_ms", "llm_latency_p95_ms"]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeLLMServer, FakeLLMServer]]:
    with FakeLLMServer() as a, FakeLLMServer() as b:
        yield a, b


def llm_scenario(server: FakeLLMServer, out: Path, tag: str, size: int = 200, steps: int = 4,
                 shards: list[list[str]] | None = None, **extra: object) -> Scenario:
    llm = {
        "models": [{"base_url": server.base_url, "model": server.model, "api_key_env": None,
                    "timeout_s": 5.0, "max_retries": 1, "backoff_base_s": 0.01,
                    "concurrency": 32}],
        "assign": {"fraction": 1.0},
        "memory": {"reflect_every": 2},
        "cache_path": str(out / f"cache-{tag}.sqlite"),  # a fresh cache: every call is sent
    }
    overrides = {"population.size": size, "steps": steps, "output_dir": str(out / tag),
                 "population.activity.a": 4.0, "population.activity.b": 6.0, "llm": llm}
    if shards is not None:
        overrides["distributed"] = {"llm_shards": shards}
    return Scenario.load("default").with_overrides(overrides | extra)


def interviewed(scenario: Scenario, answers: dict[int, str]) -> Run:
    """Run, interviewing agent 7 live after step 1 (routed to its shard when sharded)."""
    sim = Simulation(scenario)

    def ask(step: int, metrics: dict[str, float]) -> None:
        if step == 1:
            answers[step] = sim.interview(7, QUESTION)

    return sim.run(on_step=ask)


def calls(run: Run) -> pd.DataFrame:
    return run.reader.query("SELECT * FROM llm_calls").drop(columns=["latency_ms"])


def memories(run: Run) -> pd.DataFrame:
    frame = run.reader.query("SELECT * FROM memories")
    return frame.sort_values(list(frame.columns), ignore_index=True)


@pytest.fixture(scope="module")
def reference(
    servers: tuple[FakeLLMServer, FakeLLMServer], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Run, dict[int, str], int]:
    """The local backend's run (4 steps), its live interview, and the requests it sent."""
    a, _ = servers
    a.reset()
    said: dict[int, str] = {}
    run = interviewed(llm_scenario(a, tmp_path_factory.mktemp("local"), "local"), said)
    return run, said, a.requests


def test_two_shards_on_two_servers_give_the_local_event_log(
    ray_local: ModuleType, servers: tuple[FakeLLMServer, FakeLLMServer],
    reference: tuple[Run, dict[int, str], int], tmp_path: Path,
) -> None:
    a, b = servers
    local, said_local, sent = reference
    assert sent > 200
    a.reset()
    b.reset()
    said_sharded: dict[int, str] = {}
    sharded = interviewed(
        llm_scenario(a, tmp_path, "ray", shards=[[a.base_url], [b.base_url]]), said_sharded)
    # both servers did part of the work, about half each, and together all of it
    assert a.requests > 50 and b.requests > 50
    assert abs(a.requests - b.requests) < 0.5 * sent and a.requests + b.requests == sent
    events = local.events()
    assert len(events) > 100 and events["reason"].notna().mean() > 0.9
    pd.testing.assert_frame_equal(events, sharded.events())
    pd.testing.assert_frame_equal(local.posts(), sharded.posts())
    pd.testing.assert_frame_equal(calls(local), calls(sharded))
    pd.testing.assert_frame_equal(memories(local), memories(sharded))
    metrics = local.metrics().drop(columns=LATENCY)
    pd.testing.assert_frame_equal(metrics, sharded.metrics().drop(columns=LATENCY))
    assert metrics["llm_reflections"].sum() > 0  # reflection ran inside the shards too
    assert said_local == said_sharded and said_local[1]


@pytest.mark.slow  # stops and resumes sharded runs, ~20 s
def test_stopped_runs_resume_sharded_from_their_checkpoints(
    ray_local: ModuleType, servers: tuple[FakeLLMServer, FakeLLMServer],
    reference: tuple[Run, dict[int, str], int], tmp_path: Path,
) -> None:
    """local steps 0-1, stop; sharded step 2 (a local checkpoint given to every shard),
    stop; sharded step 3 (the shards' own checkpoint, gathered from the actors)."""
    a, b = servers
    local = reference[0]
    spent = local.metrics()[["llm_prompt_tokens", "llm_completion_tokens"]].sum(axis=1)
    shards = {"distributed": {"llm_shards": [[a.base_url], [b.base_url]]}}
    # a budget just above what was spent before step k lets step k run, then stops the run
    scenario = llm_scenario(a, tmp_path, "stop", **{"llm.budget_tokens": int(spent[0]) + 1})
    with pytest.raises(RunStopped, match="before step 2"):
        Simulation(scenario).run()
    run_dir = next((tmp_path / "stop").iterdir())
    cache = {"llm.cache_path": str(tmp_path / "cache-stop.sqlite")}  # the user's own choice
    second = Simulation.resume(
        run_dir, overrides={"llm.budget_tokens": int(spent[:2].sum()) + 1} | shards | cache,
        trust_endpoint=True)
    assert second.next_step == 2
    with pytest.raises(RunStopped, match="before step 3"):
        second.run()
    third = Simulation.resume(run_dir, overrides={"llm.budget_tokens": 10**9} | shards | cache,
                              trust_endpoint=True)
    assert third.next_step == 3
    pd.testing.assert_frame_equal(local.events(), third.run().events())


def test_a_shard_whose_server_is_down_stops_the_run_before_it_starts(
    ray_local: ModuleType, servers: tuple[FakeLLMServer, FakeLLMServer], tmp_path: Path
) -> None:
    a, _ = servers
    dead = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
    scenario = llm_scenario(a, tmp_path, "down", shards=[[a.base_url], [dead]])
    with pytest.raises(EndpointUnreachableError, match=r"llm_shards\[1\]: .*127\.0\.0\.1:9\b"):
        Simulation(scenario)
    assert not (tmp_path / "down").exists()  # refused before anything was written


def test_shards_must_list_one_url_per_model(tmp_path: Path) -> None:
    server_url = "http://127.0.0.1:9/v1"
    scenario = Scenario.load("default").with_overrides({
        "population.size": 50, "output_dir": str(tmp_path),
        "llm": {"models": [{"name": "big", "base_url": server_url},
                           {"name": "small", "base_url": server_url}]},
        "distributed": {"llm_shards": [[server_url, server_url], [server_url]]},
    })
    with pytest.raises(LLMConfigError, match=r"distributed\.llm_shards\[1\] lists 1 base URL"):
        Simulation(scenario)
    assert not any(tmp_path.iterdir())  # refused before anything was written


def test_shard_urls_are_validated_with_the_scenario() -> None:
    with pytest.raises(ScenarioError, match=r"llm_shards.*must start with http"):
        Scenario.load("default").with_overrides(
            {"distributed": {"llm_shards": [["localhost:8000/v1"]]}})
    with pytest.raises(ScenarioError, match="llm_shard"):
        Scenario.load("default").with_overrides({"distributed": {"llm_shard": []}})
