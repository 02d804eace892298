"""Heuristic engine throughput and peak memory at 10k, 100k and 1M agents.

Each size runs in its own process (so peak RSS is that run's alone) on the
built-in ``default`` scenario: feeds, engagement, beliefs, attitudes,
emotions, follows and event recording to SQLite, exactly as ``townsquare run``.

    python bench/bench_engine.py                 # 10k, 100k, 1M agents, 20 steps
    python bench/bench_engine.py --sizes 1000000 --steps 100   # the 1M x 100 target
    python bench/bench_engine.py --sizes 10000 --steps 50
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, resource, sys, time, tempfile
from townsquare import Scenario, Simulation
n, steps, out, m = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
scenario = Scenario.load("default").with_overrides(
    {"population.size": n, "steps": steps, "output_dir": out, "network.m": m,
     "checkpoint_every": 0})
t0 = time.perf_counter()
sim = Simulation(scenario)
t_build = time.perf_counter() - t0
edges = sim.world.environment.graph.num_edges
t1 = time.perf_counter()
run = sim.run()
t_run = time.perf_counter() - t1
events = len(run.reader.query("SELECT step FROM events"))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"agents": n, "edges": edges, "steps": steps, "build_s": t_build,
                  "run_s": t_run, "events": events, "peak_bytes": peak}))
"""


def measure(n: int, steps: int, m: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-c", CHILD, str(n), str(steps), out, str(m)],
                              capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--m", type=int, default=7,
                        help="Holme-Kim ties per new agent (7 gives ~10.5 follow edges/agent)")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d')} · {platform.processor() or platform.machine()} · "
          f"python {platform.python_version()}")
    header = ("agents", "follow edges", "steps", "build s", "run s", "agent-steps/s",
              "events", "events/s", "peak MiB", "bytes/agent", "bytes/edge")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    baseline = None
    for n in args.sizes:
        r = measure(n, args.steps, args.m)
        if baseline is None:
            baseline = r["peak_bytes"]
        per_agent = r["peak_bytes"] / r["agents"]
        per_edge = r["peak_bytes"] / max(r["edges"], 1)
        row = (f"{n:,}", f"{r['edges']:,}", str(r["steps"]), f"{r['build_s']:.1f}",
               f"{r['run_s']:.1f}", f"{n * r['steps'] / r['run_s']:,.0f}", f"{r['events']:,}",
               f"{r['events'] / r['run_s']:,.0f}", f"{r['peak_bytes'] / 2**20:,.0f}",
               f"{per_agent:,.0f}", f"{per_edge:,.0f}")
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
