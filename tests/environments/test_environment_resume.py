"""A market, commons or election run that crashes resumes to exactly the uninterrupted run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from environment_helpers import llm_table
from fake_server import FakeLLMServer

from townsquare import Run, Scenario, Simulation

SETTINGS: dict[str, dict[str, Any]] = {
    "market": {"population.size": 300, "environment.shocks": [
        {"asset": "ACME", "step": 8, "jump": -0.3, "text": "ACME misses."}]},
    "commons": {"population.size": 30, "environment.greed": {"a": 5.0, "b": 3.0}},
    "election": {"population.size": 600, "news": [
        {"id": "right-ad", "topic": "politics", "stance": 0.4, "text": "Vote right.",
         "step": 2, "seeders": 30}], "environment.campaigns": {"right-ad": "right"},
        "environment.polls": [{"steps": [1, 6, 9], "sample": 100, "panel": True}]},
}
TABLES = {"market": ("orders", "events", "posts", "attitudes", "metrics"),
          "commons": ("harvests", "metrics"),
          "election": ("votes", "surveys", "events", "posts", "beliefs", "metrics")}


class Crash(Exception):
    """Stands for the process dying mid-run."""


def scenario(name: str, out: Path, **extra: Any) -> Scenario:
    return Scenario.load(name).with_overrides({
        "steps": 12, "seed": 4, "checkpoint_every": 3, "output_dir": str(out),
        "snapshots.max_agents": 100, **SETTINGS[name], **extra})


def tables(run: Run, names: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    out = {}
    for name in names:
        order = run.reader.insertion_order(name)
        frame = run.reader.query(f"SELECT * FROM {name} ORDER BY {order}")
        if name == "metrics":  # timings and cache hits differ between any two runs
            frame = frame[~frame["name"].str.startswith(("llm_latency", "llm_cache",
                                                         "llm_http"))]
        out[name] = frame.reset_index(drop=True)
    return out


def crash_then_resume(sc: Scenario, at: int) -> Run:
    sim = Simulation(sc)

    def crash(step: int, metrics: dict[str, float]) -> None:
        if step == at:
            raise Crash

    with pytest.raises(Crash):
        sim.run(on_step=crash)
    assert Run(sim.run_dir).meta()["checkpoint_step"] == 5
    # the test's own run folder: its endpoint and cache file are confirmed, as a user would
    cache = {"llm.cache_path": str(sc.llm.cache_path)} if sc.llm and sc.llm.cache_path else None
    return Simulation.resume(sim.run_dir, overrides=cache, trust_endpoint=True).run()


@pytest.mark.parametrize("name", ["market", "commons", "election"])
def test_a_resumed_run_equals_the_uninterrupted_one(name: str, tmp_path: Path) -> None:
    reference = Simulation(scenario(name, tmp_path / "reference")).run()
    resumed = crash_then_resume(scenario(name, tmp_path / "crashed"), at=7)
    assert resumed.meta()["status"] == "completed"
    expected, got = tables(reference, TABLES[name]), tables(resumed, TABLES[name])
    for table in expected:
        assert len(expected[table]) > 0, table
        pd.testing.assert_frame_equal(expected[table], got[table], obj=table)
    assert resumed.summary().keys() == reference.summary().keys()
    for key, value in reference.summary().items():
        if key != "wall_seconds":
            assert resumed.summary()[key] == pytest.approx(value, nan_ok=True), key


def test_a_resumed_llm_market_equals_the_uninterrupted_one(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    llm = llm_table(fake_server, tmp_path, fraction=0.2)
    small = {"population.size": 120, "llm": llm}
    reference = Simulation(scenario("market", tmp_path / "reference", **small)).run()
    resumed = crash_then_resume(scenario("market", tmp_path / "crashed", **small), at=6)
    names = ("orders", "events", "llm_calls")
    expected, got = tables(reference, names), tables(resumed, names)
    timing = ["latency_ms", "cache_hit", "attempts"]  # how, not what, was answered
    for table in names:
        a, b = (t[table].drop(columns=timing, errors="ignore") for t in (expected, got))
        pd.testing.assert_frame_equal(a, b, obj=table)
