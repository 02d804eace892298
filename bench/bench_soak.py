"""Soak: memory over a long run and over many runs in one process (leaks show as growth).

Part 1 runs one large heuristic simulation and samples the resident memory
after every step; memory may grow only with the data the run keeps in memory
(its posts), so the table compares RSS growth with the content store's growth.
Part 2 runs many small simulations back to back in one process and samples RSS
after each: a leak shows as a trend across runs.

    python bench/bench_soak.py                       # 1M agents x 50 steps, 200 runs
    python bench/bench_soak.py --agents 100000 --steps 30 --runs 50
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import tempfile
import time

import numpy as np

from townsquare import Scenario, Simulation

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE / 2**20


def long_run(agents: int, steps: int, out: str) -> None:
    scenario = Scenario.load("default").with_overrides({
        "population.size": agents, "steps": steps, "output_dir": out, "network.m": 7,
        "checkpoint_every": 0})
    sim = Simulation(scenario)
    content = sim.world.environment.content
    samples: list[tuple[int, float, float, float]] = []
    started = time.perf_counter()

    def sample(step: int, metrics: dict) -> None:
        cols = sum(content._cols[c].nbytes for c in content._cols)
        samples.append((step, rss_mib(), cols / 2**20, time.perf_counter() - started))

    sim.run(on_step=sample)
    steps_arr = np.array([s[0] for s in samples], float)
    rss = np.array([s[1] for s in samples])
    data = np.array([s[2] for s in samples])
    half = len(samples) // 2
    rss_slope = np.polyfit(steps_arr[half:], rss[half:], 1)[0]
    data_slope = np.polyfit(steps_arr[half:], data[half:], 1)[0]
    print(f"\n## One run: {agents:,} agents, {sim.world.environment.graph.num_edges:,} follow "
          f"edges, {steps} steps ({samples[-1][3]:.0f} s)\n")
    print("| step | RSS MiB | posts in memory MiB | elapsed s |")
    print("|---|---|---|---|")
    for step, r, d, t in [*samples[:: max(1, len(samples) // 10)], samples[-1]]:
        print(f"| {step} | {r:,.0f} | {d:,.1f} | {t:,.0f} |")
    print(f"\nSecond half: RSS grows {rss_slope:+.2f} MiB/step; the posts kept in memory grow "
          f"{data_slope:+.2f} MiB/step (capacity doubling makes this stepwise).")


def many_runs(runs: int, out: str) -> None:
    scenario = Scenario.load("default").with_overrides({
        "population.size": 2000, "steps": 10, "output_dir": out, "checkpoint_every": 0})
    memory = []
    started = time.perf_counter()
    for replicate in range(runs):
        Simulation(scenario.with_overrides({"seed": replicate})).run()
        gc.collect()
        memory.append(rss_mib())
    x = np.arange(runs, dtype=float)
    tail = slice(runs // 5, None)  # after warm-up (imports, caches)
    slope = np.polyfit(x[tail], np.array(memory)[tail], 1)[0]
    print(f"\n## {runs} runs in one process (2,000 agents x 10 steps each, "
          f"{time.perf_counter() - started:.0f} s)\n")
    print("| after run | RSS MiB |")
    print("|---|---|")
    for i in sorted({0, runs // 4, runs // 2, 3 * runs // 4, runs - 1}):
        print(f"| {i + 1} | {memory[i]:,.1f} |")
    print(f"\nAfter warm-up RSS changes {slope * 1024:+.1f} KiB per run "
          f"({slope * runs:+.1f} MiB over {runs} runs).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"# soak · {time.strftime('%Y-%m-%d')} · {platform.machine()} · "
          f"{os.cpu_count()} cores · python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as out:
        long_run(args.agents, args.steps, out)
    with tempfile.TemporaryDirectory() as out:
        many_runs(args.runs, out)


if __name__ == "__main__":
    main()
