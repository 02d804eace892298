"""Ray vs local: the same sweep on both backends, and LLM sharding over 1 and 2 model servers.

1. Sweep: 2 parameters x 2 values x 5 replicates of the default scenario at 5,000
   agents x 20 steps (20 runs), with the local backend (a pool of 2 processes)
   and with Ray (a local instance with num_cpus=2). Wall time of the sweep,
   runs/s and the ratio; the two results tables are checked to be equal.
2. LLM sharding: one LLM run (every agent an LLM agent, response cache and
   reflection off, so each decision is one HTTP request) against fake model
   servers answering after 100 ms, each in its own process, at 16 requests in
   flight per endpoint: locally with one server, then sharded over 1 and 2 Ray
   actors with one server each. Decisions/s over the run's step loop (actor
   start-up excluded); the event logs are checked to be equal.

Both servers, the Ray workers and the driver share this machine's cores, so
the 2-server row shows the scaling with servers only while the CPU is not the
bottleneck.

    python bench/bench_ray.py            # the full benchmark (~3 min on 2 cores)
    python bench/bench_ray.py --quick    # a short smoke run
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import start_server, stop_server
from townsquare import Scenario, Simulation
from townsquare.experiments import Sweep
from townsquare.experiments.executors import make_executor
from townsquare.run import Run

PARAMS = {"platform.moderation.strategy": ["none", "fact_check"],
          "behavior.engage_rate": [0.05, 0.1]}
LATENCY_S = 0.1
CONCURRENCY = 16


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {datetime.date.today().isoformat()}")


# -- 1. the same sweep on both backends -------------------------------------------------------

def sweep_rows(agents: int, steps: int, replicates: int, folder: Path) -> list[dict]:
    base = Scenario.load("default").with_overrides({"population.size": agents, "steps": steps})
    rows, tables = [], {}
    for backend in ("local", "ray"):
        sweep = Sweep(base, PARAMS, replicates, out=folder / backend,
                      executor=make_executor(backend, workers=2))
        runs = len(sweep.tasks())
        started = time.perf_counter()
        tables[backend] = sweep.run()
        wall = time.perf_counter() - started
        rows.append({"backend": backend, "runs": runs, "wall_s": wall, "runs_per_s": runs / wall})
    measures = [c for c in tables["local"].columns if c != "wall_seconds"]
    pd.testing.assert_frame_equal(tables["local"][measures], tables["ray"][measures])
    return rows


# -- 2. LLM sharding over model servers ----------------------------------------------------

@contextmanager
def servers(count: int) -> Iterator[list[str]]:
    started = [start_server(LATENCY_S) for _ in range(count)]
    try:
        yield [url for _, url in started]
    finally:
        for process, _ in started:
            stop_server(process)


def llm_scenario(url: str, agents: int, steps: int, out: Path,
                 shards: list[list[str]] | None) -> Scenario:
    llm = {"models": [{"base_url": url, "model": "fake-model", "api_key_env": None,
                       "concurrency": CONCURRENCY, "timeout_s": 30.0}],
           "assign": {"fraction": 1.0}, "memory": {"reflect_every": 0}, "cache": False}
    overrides = {"population.size": agents, "steps": steps, "output_dir": str(out), "llm": llm,
                 "population.activity.a": 4.0, "population.activity.b": 6.0}
    if shards is not None:
        overrides["distributed"] = {"llm_shards": shards}
    return Scenario.load("default").with_overrides(overrides)


def timed_run(scenario: Scenario) -> tuple[Run, float, float]:
    """(run, start-up seconds, step-loop seconds)."""
    started = time.perf_counter()
    sim = Simulation(scenario)
    built = time.perf_counter()
    run = sim.run()
    return run, built - started, time.perf_counter() - built


def llm_rows(agents: int, steps: int, folder: Path) -> list[dict]:
    rows, reference = [], None
    with servers(2) as urls:
        setups = [("local", 1, None), ("ray, 1 shard", 1, [[urls[0]]]),
                  ("ray, 2 shards", 2, [[urls[0]], [urls[1]]])]
        for name, n_servers, shards in setups:
            run, startup, loop = timed_run(
                llm_scenario(urls[0], agents, steps, folder / name.replace(" ", ""), shards))
            decisions = int(run.summary()["llm_requests"])
            events = run.events()
            if reference is None:
                reference = events
            pd.testing.assert_frame_equal(reference, events)
            ideal = n_servers * CONCURRENCY / LATENCY_S
            rows.append({"setup": name, "servers": n_servers, "decisions": decisions,
                         "startup_s": startup, "loop_s": loop, "decisions_per_s": decisions / loop,
                         "share_of_ideal": decisions / loop / ideal})
    return rows


def markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    lines = ["| " + " | ".join(_cell(v) for v in row) + " |"
             for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *lines])


def _cell(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    import ray

    os.environ.pop("RAY_ADDRESS", None)
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level="WARNING", _node_ip_address="127.0.0.1")
    print(f"machine: {machine()}; ray {ray.__version__}, local instance started in "
          f"{time.perf_counter() - started:.1f} s (not counted below)\n")
    sweep_size = (1_000, 5, 2) if args.quick else (5_000, 20, 5)
    llm_size = (300, 2) if args.quick else (2_000, 3)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sweep = pd.DataFrame(sweep_rows(*sweep_size, Path(tmp) / "sweep"))
            sweep["time_vs_local"] = sweep["wall_s"] / sweep["wall_s"].iloc[0]
            print(f"sweep: {len(PARAMS)} params x 2 values x {sweep_size[2]} replicates of "
                  f"{sweep_size[0]:,} agents x {sweep_size[1]} steps (tables equal)")
            print(markdown(sweep), "\n")
            llm = pd.DataFrame(llm_rows(*llm_size, Path(tmp) / "llm"))
            print(f"LLM sharding: {llm_size[0]:,} LLM agents x {llm_size[1]} steps, "
                  f"{LATENCY_S * 1000:.0f} ms per request, {CONCURRENCY} in flight per "
                  "endpoint (event logs equal)")
            print(markdown(llm))
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
