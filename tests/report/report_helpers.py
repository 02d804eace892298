"""A small, fully featured run for report tests: news, moderation, interventions, surveys, LLM."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from townsquare.engine import Simulation
from townsquare.scenario import Scenario

EVIL = "<script>alert(1)</script>"
EVIL_REASON = "<img src=x onerror=alert(2)>"

OVERRIDES = {
    "population.size": 400,
    "steps": 8,
    "seed": 3,
    "checkpoint_every": 0,
    "platform.moderation.strategy": "hybrid",
    "platform.moderation.fact_check_delay": 1,
    "news": [
        {"id": "rumour", "topic": "health", "stance": 0.6, "veracity": "false",
         "text": f"{EVIL} the tap water is drugged", "seeders": 12},
        {"id": "report", "topic": "health", "stance": -0.2, "veracity": "true",
         "text": "Safety report: all samples within limits.", "seeders": 12},
    ],
    "interventions": [{"kind": "prebunk", "name": "prebunk", "when": {"start": 2},
                       "target": {"share": 0.5}}],
    "surveys": [{"id": "trust", "steps": [0, 7], "sample": 120, "questions": [
        {"id": "water", "text": "Is the tap water drugged?", "measures": "belief",
         "news": "rumour"}]}],
}


def make_run(runs_dir: Path, **overrides: object) -> Path:
    """Run the test scenario into ``runs_dir`` and return the run folder."""
    scenario = Scenario.load("default").with_overrides(
        OVERRIDES | {"output_dir": str(runs_dir)} | overrides)
    return Simulation(scenario).run().path


def add_llm_calls(run_dir: Path, steps: int = 8) -> None:
    """Add an ``llm_calls`` table and a stated reason, as an LLM run would have."""
    from townsquare.behavior.llm.records import LLM_TABLES

    rows = pd.DataFrame({
        "step": [s for s in range(steps) for _ in range(5)],
        "agent": list(range(5 * steps)), "model": "fake-model", "purpose": "decide",
        "prompt_tokens": 100, "completion_tokens": 20,
        "latency_ms": [float(10 + i % 7) for i in range(5 * steps)],
        "cache_hit": [int(i % 5 == 0) for i in range(5 * steps)], "attempts": 1,
        "fault": [None if i % 9 else "timeout" for i in range(5 * steps)],
        "fallback": [int(i % 9 == 0) for i in range(5 * steps)], "cost": 0.001,
        "request_hash": "h",
    })
    with sqlite3.connect(run_dir / "run.sqlite") as conn:
        conn.execute(LLM_TABLES["llm_calls"])
        rows.to_sql("llm_calls", conn, if_exists="append", index=False)
        conn.execute("INSERT INTO events (step, agent, action, post, target, reason) "
                     "VALUES (1, 0, 5, 0, -1, ?)", (EVIL_REASON,))


def write_sweep(folder: Path) -> pd.DataFrame:
    """A results table: 3 values of x times 2 strategies times 5 replicates."""
    rng = np.random.default_rng(0)
    rows = []
    for x in (0.1, 0.2, 0.4):
        for strategy in ("none", "fact_check"):
            for replicate in range(5):
                rows.append({"run_id": f"{strategy}-{x}-r{replicate}", "arm": 0,
                             "param_platform_feed_x": x, "param_strategy": strategy,
                             "replicate": replicate, "seed": replicate,
                             "reach_false": 100 * x + rng.normal(0, 2),
                             "cascades": 50 + rng.normal(0, 1), "wall_seconds": 1.0})
    table = pd.DataFrame(rows)
    folder.mkdir(parents=True, exist_ok=True)
    table.to_parquet(folder / "results.parquet")
    return table
