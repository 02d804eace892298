"""Zero-latency scheduling (issue 17): decisions/s against an instant server, the share
of the concurrency/latency bound at 100 ms x 64, and a CPU profile per decision.

Uses bench_llm.py's world and its out-of-process fake server. Run the same script
against two source trees in alternation (``PYTHONPATH=<tree>/src``) to compare them
under the same load::

    python bench/bench_llm_zero.py                 # both measurements
    python bench/bench_llm_zero.py --profile 30    # plus the 30 costliest functions (cProfile)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import townsquare
from bench_llm import (
    MockTransport,
    http_behavior,
    load_average,
    make_behavior,
    make_world,
    run_steps,
    server,
)


async def _call(fn: Callable[[], None]) -> None:
    fn()


def measure(latency_s: float, agents: int, steps: int, concurrency: int = 64,
            profile: int = 0) -> str:
    world = make_world()
    with server(latency_s) as (base_url, pid):
        behavior = http_behavior(world, base_url, concurrency)
        try:
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:  # the requests run on the behaviour's loop thread
                behavior._loop.run(_call(profiler.enable))
            m = run_steps(behavior, world, agents, range(steps), pid)
            if profiler is not None:
                behavior._loop.run(_call(profiler.disable))
        finally:
            behavior.close()
    rate = m.decisions / m.wall_s
    client_ms = 1000 * m.cpu_s / m.decisions
    line = (f"latency {latency_s * 1000:.0f} ms x {concurrency}: {m.decisions} decisions, "
            f"{rate:.0f} decisions/s, client CPU {client_ms:.3f} ms/decision, "
            f"server CPU {m.server_ms()} ms/request, fallbacks {m.fallbacks}, "
            f"client waited for a CPU {m.starved()}")
    if m.server_cpu_s is not None and latency_s == 0:
        # two processes on two idle cores: the busier one sets the pace
        server_ms = 1000 * m.server_cpu_s / max(1, m.requests)
        line += f", idle 2-core bound {1000 / max(client_ms, server_ms):.0f} decisions/s"
    if latency_s > 0:
        line += f", share of the bound {rate / (concurrency / latency_s):.3f}"
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(profile)
        line += "\n" + out.getvalue()
    return line


def in_process(agents: int, steps: int, concurrency: int = 64, profile: int = 0) -> str:
    """Client CPU per decision with an in-process transport: no sockets, no server process."""
    world = make_world()
    behavior = make_behavior(world, "http://127.0.0.1:1/v1", concurrency,
                             transport=MockTransport(), check=False)
    try:
        run_steps(behavior, world, concurrency, range(1000, 1001))  # warm-up
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            behavior._loop.run(_call(profiler.enable))
        m = run_steps(behavior, world, agents, range(steps))
        if profiler is not None:
            behavior._loop.run(_call(profiler.disable))
    finally:
        behavior.close()
    line = (f"in-process transport x {concurrency}: {m.decisions} decisions, "
            f"{m.decisions / m.wall_s:.0f} decisions/s, "
            f"client CPU {1000 * m.cpu_s / m.decisions:.3f} ms/decision")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(profile)
        line += "\n" + out.getvalue()
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--profile", type=int, default=0, help="print N costliest functions")
    parser.add_argument("--only", choices=["0", "100", "inprocess"], default=None)
    args = parser.parse_args()
    print(f"townsquare from {Path(townsquare.__file__).parent}; load average {load_average()}; "
          f"{time.strftime('%H:%M:%S', time.gmtime())} UTC", flush=True)
    if args.only in (None, "0"):
        print(measure(0.0, args.agents, args.steps, profile=args.profile), flush=True)
    if args.only in (None, "100"):
        print(measure(0.1, args.agents, args.steps), flush=True)
    if args.only in (None, "inprocess"):
        print(in_process(args.agents, args.steps, profile=args.profile), flush=True)
    print(f"load average {load_average()}; pid {os.getpid()}")


if __name__ == "__main__":
    main()
