"""LLMBehavior end to end against the fake server: decisions, faults, cache, memory."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest
from fake_server import FakeLLMServer
from llm_helpers import NEWS, TOPICS, IdleFallback, World, llm_config, make_world

from townsquare.behavior.llm.client import derive_seed
from townsquare.behavior.llm.config import LLMConfig, MemoryConfig, ModelEndpoint
from townsquare.behavior.llm.faults import EndpointUnreachableError
from townsquare.core.actions import Action, ActionBatch
from townsquare.core.behavior import Decision, Observation
from townsquare.environments.social.llm.behavior import LLMBehavior


class LikingFallback:
    """A fallback whose agents like the first post of their feed (an action to remember)."""

    def decide(self, obs: Observation, rng: np.random.Generator) -> Decision:
        feed = obs.feed
        return Decision.only(ActionBatch.build(feed.agents, Action.LIKE,
                                               post=feed.posts[feed.indptr[:-1]]))


def behavior(config: LLMConfig, world: World, fallback: object | None = None,
             seed: int = 11) -> LLMBehavior:
    return LLMBehavior(config, world.population, TOPICS, NEWS, fallback or IdleFallback(), seed)


def decide(b: LLMBehavior, world: World, step: int) -> Decision:
    return b.decide(world.observe(step), np.random.default_rng(step))


def test_every_agent_gets_a_grounded_decision(fake_server: FakeLLMServer, world: World,
                                              tmp_path: Path) -> None:
    with behavior(llm_config(fake_server, tmp_path / "c.sqlite"), world) as b:
        obs = world.observe(0)
        d = b.decide(obs, np.random.default_rng(0))
    agents = obs.feed.agents
    assert set(d.actions.agent.tolist()) == set(agents.tolist())
    np.testing.assert_array_equal(d.updated, agents)
    assert d.fallbacks == 0
    assert d.actions.text is not None and d.actions.reason is not None
    assert all(r for r in d.actions.reason)
    for row in range(len(d.actions)):
        i = int(np.flatnonzero(agents == d.actions.agent[row])[0])
        kind = Action(int(d.actions.action[row]))
        if kind in (Action.LIKE, Action.REPOST, Action.QUOTE, Action.COMMENT, Action.FLAG):
            assert d.actions.post[row] in obs.feed.of(i)  # only posts the agent saw
            assert d.actions.post[row] != 999  # the injected fake post id never leaks
        if kind in (Action.COMMENT, Action.QUOTE, Action.POST):
            assert d.actions.text[row]
        if kind == Action.FOLLOW:
            assert d.actions.target[row] in obs.content.author[obs.feed.of(i)]
    assert d.attitude is not None and d.attitude.shape == (len(agents), len(TOPICS))
    assert np.all(np.abs(d.attitude) <= 1) and d.belief is not None
    assert d.belief.shape == (len(agents), len(NEWS))
    assert not np.allclose(d.attitude, world.state.attitude[agents])  # the model set them
    assert fake_server.requests == len(agents)


@pytest.mark.parametrize(
    ("kind", "fault"),
    [("http_500", "http_5xx"), ("http_429", "http_429"), ("drop", "connection"),
     ("hang", "timeout"), ("bad_body", "malformed_json"), ("garbage", "malformed_json"),
     ("truncated", "truncated"), ("refusal", "refusal"), ("empty", "empty")],
)
def test_each_fault_falls_back_for_every_agent(fake_server: FakeLLMServer, world: World,
                                               tmp_path: Path, kind: str, fault: str) -> None:
    fake_server.fail_fraction(1.0, kind, retry_after=0.01)
    config = llm_config(fake_server, tmp_path / "c.sqlite", endpoint={"timeout_s": 0.3})
    fallback = IdleFallback()
    with behavior(config, world, fallback) as b:
        obs = world.observe(0)
        d = b.decide(obs, np.random.default_rng(0))
        stats = b.last_step_stats()
        calls = b.drain_records()["llm_calls"]
    n = len(obs.feed.agents)
    assert sorted(d.actions.agent.tolist()) == sorted(obs.feed.agents.tolist())
    assert (d.actions.action == Action.IDLE).all()
    assert d.fallbacks == n
    np.testing.assert_array_equal(np.sort(fallback.asked[0]), np.sort(obs.feed.agents))
    assert stats["fallbacks"] == {fault: n} and stats["fallback_total"] == n
    assert sum(calls["fallback"]) == n
    assert all(f == fault for f in calls["fault"])
    assert set(calls["purpose"]) == ({"decide", "repair"} if kind in
                                     ("garbage", "truncated", "refusal", "empty")
                                     else {"decide"})


def test_transient_faults_are_absorbed_by_retries(fake_server: FakeLLMServer, world: World,
                                                   tmp_path: Path) -> None:
    fake_server.fail_next(2, "http_500")
    with behavior(llm_config(fake_server, tmp_path / "c.sqlite"), world) as b:
        d = decide(b, world, 0)
        stats = b.last_step_stats()
    n = world.population.n
    assert d.fallbacks == 0 and stats["fallbacks"] == {}
    assert stats["requests"] == n and stats["http_attempts"] == n + 2
    assert fake_server.requests == n + 2


def test_an_unusable_answer_is_repaired_once(fake_server: FakeLLMServer, world: World,
                                             tmp_path: Path) -> None:
    fake_server.fail_next(1, "garbage")
    with behavior(llm_config(fake_server, tmp_path / "c.sqlite"), world) as b:
        d = decide(b, world, 0)
        calls = b.drain_records()["llm_calls"]
    assert d.fallbacks == 0
    assert calls["purpose"].count("repair") == 1
    assert calls["fault"].count("malformed_json") == 1 and sum(calls["fallback"]) == 0


def test_partial_failure_mixes_llm_and_fallback(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    world = make_world(n_agents=20)
    fake_server.fail_fraction(0.3, "http_500")
    fallback = IdleFallback()
    with behavior(llm_config(fake_server, tmp_path / "c.sqlite"), world, fallback) as b:
        d = decide(b, world, 0)
    failed = fallback.asked[0]
    assert 0 < d.fallbacks == len(failed) < 20
    assert set(d.actions.agent.tolist()) == set(range(20))
    assert set(d.updated.tolist()) == set(range(20)) - set(failed.tolist())


def test_cached_rerun_replays_without_requests(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    config = llm_config(fake_server, tmp_path / "c.sqlite",
                        memory=MemoryConfig(reflect_every=2), endpoint={"embeddings": "endpoint"})

    def run() -> tuple[list[Decision], list[dict]]:
        world = make_world()
        decisions, stats = [], []
        with behavior(config, world) as b:
            for step in range(3):
                decisions.append(decide(b, world, step))
                stats.append(b.last_step_stats())
        return decisions, stats

    first, first_stats = run()
    sent = (fake_server.counts["chat"], fake_server.counts["embeddings"])
    assert sent[0] > 0 and sent[1] > 0 and first_stats[2]["reflections"] > 0
    second, second_stats = run()
    assert (fake_server.counts["chat"], fake_server.counts["embeddings"]) == sent
    assert all(s["cache_hits"] == s["requests"] for s in second_stats)
    for a, b in zip(first, second, strict=True):
        for column in ("agent", "action", "post", "target", "topic", "stance"):
            np.testing.assert_array_equal(getattr(a.actions, column), getattr(b.actions, column))
        assert a.actions.text == b.actions.text and a.actions.reason == b.actions.reason
        np.testing.assert_array_equal(a.attitude, b.attitude)  # type: ignore[arg-type]


def test_failing_embeddings_do_not_stop_the_run(fake_server: FakeLLMServer, world: World,
                                                tmp_path: Path) -> None:
    config = llm_config(fake_server, tmp_path / "c.sqlite", endpoint={"embeddings": "endpoint"})
    with behavior(config, world) as b:
        decide(b, world, 0)
        b.drain_records()  # as the engine does after each step: step 0's memories are stored
        fake_server.fail_embeddings = True
        d = decide(b, world, 1)
        stats = b.last_step_stats()
        memories = b.drain_records()["memories"]
    assert d.fallbacks == 0 and len(d.actions) >= world.population.n
    # the retrieval query and what was done; what was seen (the same posts as at step 0)
    # comes from the response cache
    assert stats["embedding_faults"] == 2
    assert 1 in memories["step"]  # step-1 memories kept, without relevance signal


def test_reflection_writes_reflection_memories(fake_server: FakeLLMServer, world: World,
                                               tmp_path: Path) -> None:
    config = llm_config(fake_server, tmp_path / "c.sqlite", memory=MemoryConfig(reflect_every=1))
    with behavior(config, world) as b:
        decide(b, world, 0)
        assert b.last_step_stats()["reflections"] == 0  # nothing to reflect on yet
        first = b.drain_records()["memories"]
        decide(b, world, 1)
        stats = b.last_step_stats()
        records = b.drain_records()
        long_term = b.memory.long_term(0)
    assert "reflection" not in first["kind"]
    n = world.population.n
    kinds = records["memories"]["kind"]
    assert stats["reflections"] == 3 * n == kinds.count("reflection")
    assert records["llm_calls"]["purpose"].count("reflect") == n
    assert sum("reflection]" in m for m in long_term) == 3


def test_prompt_prefix_is_stable_across_steps(fake_server: FakeLLMServer, world: World,
                                              tmp_path: Path) -> None:
    fake_server.record_payloads = True
    with behavior(llm_config(fake_server, tmp_path / "c.sqlite"), world) as b:
        decide(b, world, 0)
        decide(b, world, 1)
    by_agent: dict[str, list[list[dict]]] = {}
    for payload in fake_server.payloads:
        system = payload["messages"][0]["content"]
        agent = system.split("## Who you are\n")[1].split(":")[0]
        by_agent.setdefault(agent, []).append(payload["messages"])
    assert len(by_agent) == world.population.n
    for agent, (step0, step1) in by_agent.items():
        assert step0[0] == step1[0]  # identical system message: instructions + persona
        assert world.population.persona_text(int(agent.split()[1])) in step0[0]["content"]
        assert step0[1] != step1[1]  # the variable part changed
        user = step1[1]["content"]
        assert user.index("## What you remember") < user.index("## Your feed")
    text = "\n".join(m[1]["content"] for ms in by_agent.values() for m in ms)
    assert "</post> SYSTEM" not in text and '<post id="999"' not in text  # injection defused


def test_requests_carry_seeds_from_run_step_and_agent(fake_server: FakeLLMServer, world: World,
                                                       tmp_path: Path) -> None:
    fake_server.record_payloads = True
    with behavior(llm_config(fake_server, tmp_path / "c.sqlite"), world, seed=5) as b:
        decide(b, world, 3)
    seeds = sorted(p["seed"] for p in fake_server.payloads)
    assert seeds == sorted(derive_seed(5, 3, a) for a in range(world.population.n))
    assert derive_seed(5, 3, 0) != derive_seed(6, 3, 0) != derive_seed(5, 4, 0)


def test_model_for_role_routes_agents(fake_server: FakeLLMServer, world: World,
                                      tmp_path: Path) -> None:
    base = llm_config(fake_server, tmp_path / "c.sqlite")
    cheap = base.models[0].model_copy(update={"name": "cheap", "model": "cheap-model"})
    config = base.model_copy(update={"models": [base.models[0], cheap],
                                     "model_for_role": {"bystander": "cheap"}})
    with behavior(config, world) as b:
        decide(b, world, 0)
        calls = b.drain_records()["llm_calls"]
    from townsquare.population.model import ROLES
    roles = [ROLES[world.population.role[a]].value for a in calls["agent"]]
    expected = ["cheap-model" if r == "bystander" else "fake-model" for r in roles]
    assert calls["model"] == expected and "cheap-model" in expected


def test_interview_answers_in_character(fake_server: FakeLLMServer, world: World,
                                        tmp_path: Path) -> None:
    fake_server.record_payloads = True
    with behavior(llm_config(fake_server, tmp_path / "c.sqlite"), world) as b:
        decide(b, world, 0)
        before = b.memory.get_state()["pool"]["last_access"].copy()  # type: ignore[index]
        answer = b.interview(2, "What do you think about the water supply rumour?")
        after = b.memory.get_state()["pool"]["last_access"]  # type: ignore[index]
    assert answer.startswith("Honestly")
    np.testing.assert_array_equal(before, after)  # interviews leave memory untouched
    last = fake_server.payloads[-1]["messages"]
    assert "water supply rumour" in last[1]["content"] and "Agent 2:" in last[0]["content"]


def test_state_round_trip(fake_server: FakeLLMServer, world: World, tmp_path: Path) -> None:
    config = llm_config(fake_server, tmp_path / "c.sqlite", memory=MemoryConfig(reflect_every=2))
    with behavior(config, world) as b:
        decide(b, world, 0)
        state = b.get_state()
        after = decide(b, world, 1)
    with behavior(config, world) as restored:
        restored.set_state(state)
        again = decide(restored, world, 1)
    np.testing.assert_array_equal(after.actions.action, again.actions.action)
    assert after.actions.text == again.actions.text


def test_unreachable_endpoint_fails_at_start(world: World, tmp_path: Path) -> None:
    threads = threading.active_count()
    config = LLMConfig(models=[ModelEndpoint(base_url="http://127.0.0.1:9/v1", timeout_s=2)],
                       cache_path=tmp_path / "c.sqlite")
    with pytest.raises(EndpointUnreachableError, match=r"http://127\.0\.0\.1:9/v1"):
        behavior(config, world)
    assert threading.active_count() == threads  # the loop thread was shut down


def test_environment_overrides_the_first_endpoint_once_when_the_scenario_is_loaded(
    fake_server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from townsquare import Simulation
    from townsquare.scenario import Scenario

    monkeypatch.setenv("TOWNSQUARE_LLM_BASE_URL", fake_server.base_url)
    monkeypatch.setenv("TOWNSQUARE_LLM_MODEL", "cheap-model")
    scenario = Scenario.load("default").with_overrides({
        "population.size": 40, "steps": 2, "output_dir": str(tmp_path / "runs"),
        "population.activity.a": 4.0, "population.activity.b": 6.0,
        "llm": {"models": [{"base_url": "http://127.0.0.1:9/v1", "model": "x"}],
                "assign": {"fraction": 0.5}, "memory": {"reflect_every": 0},
                "cache_path": str(tmp_path / "c.sqlite")}})
    sim = Simulation(scenario)
    assert sim.world.behavior.llm.config.models[0].model == "cheap-model"  # type: ignore[union-attr]
    run = sim.run()
    assert set(run.reader.query("SELECT model FROM llm_calls")["model"]) == {"cheap-model"}
    recorded = run.scenario().llm
    assert recorded is not None and recorded.models[0].model == "cheap-model"
    assert recorded.models[0].base_url == fake_server.base_url  # the run records what it used
    assert scenario.llm is not None and scenario.llm.models[0].model == "x"  # not mutated


def test_a_behavior_uses_its_config_as_given(fake_server: FakeLLMServer, world: World,
                                             tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The overrides were applied when the scenario was loaded, not again per component."""
    monkeypatch.setenv("TOWNSQUARE_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("TOWNSQUARE_LLM_MODEL", "x")
    with behavior(llm_config(fake_server, tmp_path / "c.sqlite"), world) as b:
        decide(b, world, 0)
        assert set(b.drain_records()["llm_calls"]["model"]) == {fake_server.model}


def test_standalone_interview_uses_the_first_model(fake_server: FakeLLMServer,
                                                   tmp_path: Path) -> None:
    from townsquare.behavior.llm.interview import interview

    config = llm_config(fake_server, tmp_path / "c.sqlite")
    answer = interview(config, "Agent 9: a nurse.", ["[step 1, action] I flagged post 3"],
                       "Why did you flag that post?", seed=1)
    again = interview(config, "Agent 9: a nurse.", ["[step 1, action] I flagged post 3"],
                      "Why did you flag that post?", seed=1)
    assert answer == again and answer.startswith("Honestly")
    assert fake_server.requests == 1  # the repeat came from the cache


@pytest.mark.parametrize("mode", ["tool", "json_object", "none"])
def test_decisions_work_in_every_structured_output_mode(fake_server: FakeLLMServer,
                                                        world: World, tmp_path: Path,
                                                        mode: str) -> None:
    fake_server.record_payloads = True
    config = llm_config(fake_server, tmp_path / "c.sqlite", endpoint={"structured_output": mode})
    with behavior(config, world) as b:
        d = decide(b, world, 0)
    assert d.fallbacks == 0 and (d.actions.action != Action.IDLE).any()
    payload = fake_server.payloads[0]
    assert ("tools" in payload) == (mode == "tool")
    assert ("response_format" in payload) == (mode == "json_object")


def test_decisions_and_memories_do_not_depend_on_when_answers_are_assembled(
    fake_server: FakeLLMServer, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Answers assembled and action memories embedded mid-step, as answers arrive, give the
    same decisions and memories as doing it all after the last answer (fallbacks included)."""
    from townsquare.environments.social.llm import behavior as module

    described = []
    original = LLMBehavior._describe

    async def counted(self: LLMBehavior, obs, tasks, arrivals) -> None:
        described.extend(arrivals.rows[arrivals.assembled :])
        await original(self, obs, tasks, arrivals)

    monkeypatch.setattr(LLMBehavior, "_describe", counted)
    monkeypatch.setattr(module, "LAUNCH_BATCH", 2)  # many launch chunks: many chances

    fake_server.fail_fraction(0.2, "http_500")  # some agents fall back to the heuristic
    config = {"concurrency": 1, "max_retries": 2}  # answers trickle in

    def memories(describe_batch: int, cache: Path) -> tuple[list, dict[str, list], dict]:
        monkeypatch.setattr(module, "DESCRIBE_BATCH", describe_batch)
        decisions, rows = [], {}
        with behavior(llm_config(fake_server, cache, endpoint=config), world,
                      fallback=LikingFallback()) as b:
            for step in range(3):
                fake_server.fail_next(2, "http_500")  # retried: answered after later agents
                decisions.append(_fingerprint(dataclasses.asdict(decide(b, world, step))))
                for name, values in b.drain_records()["memories"].items():
                    rows.setdefault(name, []).extend(list(values))
            return decisions, rows, b.get_state()["memory"]

    after = memories(10**9, tmp_path / "a.sqlite")
    assert not described
    during = memories(1, tmp_path / "b.sqlite")
    assert len(described) >= 3  # at every step, some answers were assembled mid-step
    assert any(d["fallbacks"] for d in after[0])
    assert during[0] == after[0]  # actions, reasons, state updates, in the same order
    assert during[1] == after[1]
    assert _fingerprint(during[2]) == _fingerprint(after[2])  # embeddings included


def _fingerprint(value: object) -> object:
    """A comparable form of nested dicts, lists and arrays (arrays by dtype, shape, bytes)."""
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return {key: _fingerprint(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_fingerprint(item) for item in value]
    return value


def test_a_step_collects_garbage_rarely_and_restores_the_thresholds(
    fake_server: FakeLLMServer, world: World, tmp_path: Path
) -> None:
    """While answers are awaited the collector's gen-0 threshold is raised; afterwards the
    caller's thresholds are back."""
    import gc

    seen: list[tuple[int, int, int]] = []
    before = gc.get_threshold()
    gc.set_threshold(500, 7, 9)
    try:
        with behavior(llm_config(fake_server, tmp_path / "c.sqlite"), world) as b:
            original = b._stacks[0].complete

            async def watched(request):
                seen.append(gc.get_threshold())
                return await original(request)

            b._stacks[0].complete = watched  # type: ignore[method-assign]
            decide(b, world, 0)
        assert seen and all(t[0] >= 20_000 and t[1:] == (7, 9) for t in seen)
        assert gc.get_threshold() == (500, 7, 9)
    finally:
        gc.set_threshold(*before)
