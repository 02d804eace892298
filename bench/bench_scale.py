"""One heuristic run timed phase by phase: build, every step, each finishing phase.

The built-in ``default`` scenario at a chosen size, exactly as ``townsquare run``
makes it (checkpoints every 10 steps, the SQLite store), with:

* wall and CPU time of the world build, of each step and of each finishing phase
  (``Simulation.run(on_phase=)`` names them); CPU is split into the simulation's
  own thread and everything else (the store's writer thread, checkpoint thread);
* steps per second over time, the peak resident memory, the run folder's size
  on disk (largest seen during the run and at the end);
* the 1-minute load average at every step, since the machine is shared.

    python bench/bench_scale.py --agents 1000000 --steps 100          # the CLI default network
    python bench/bench_scale.py --agents 1000000 --steps 100 --m 7
    python bench/bench_scale.py --agents 10000 100000 300000 --steps 30   # the slopes

Each size runs in its own process (``--child``), so peak memory is that run's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def child(n: int, steps: int, m: int | None, out: str) -> dict:
    """Run one size in this process and return its measurements."""
    t0, c0 = time.perf_counter(), time.process_time()
    from townsquare import Scenario, Simulation

    overrides: dict[str, object] = {"population.size": n, "steps": steps, "output_dir": out}
    if m is not None:
        overrides["network.m"] = m
    scenario = Scenario.load("default").with_overrides(overrides)
    imported = (time.perf_counter() - t0, time.process_time() - c0)
    sim = Simulation(scenario)
    built = (time.perf_counter() - t0, time.process_time() - c0)
    rows: list[dict] = []
    phases: list[dict] = []
    mark = {"wall": time.perf_counter(), "cpu": time.process_time(), "main": time.thread_time()}
    biggest = [0]

    def since() -> dict:
        now = {"wall": time.perf_counter(), "cpu": time.process_time(),
               "main": time.thread_time()}
        out = {k: round(now[k] - mark[k], 4) for k in now}
        mark.update(now)
        return out

    def on_step(step: int, metrics: dict[str, float]) -> None:
        biggest[0] = max(biggest[0], _folder_bytes(sim.run_dir))
        rows.append({"step": step, **since(), "posts": int(metrics["posts_total"]),
                     "edges": int(metrics["follow_edges"]), "load": os.getloadavg()[0]})

    def on_phase(name: str) -> None:
        if name.startswith("checkpoint"):  # written in the background: its main-thread
            rows[-1]["checkpoint"] = True  # part counts in the next step's time
            return
        if phases:
            phases[-1] |= since()
        else:
            since()
        phases.append({"phase": name})

    sim.run(on_step=on_step, on_phase=on_phase)
    phases[-1] |= since()
    return {
        "agents": n, "steps": steps, "m": m if m is not None else scenario.network.m,
        "edges": int(rows[0]["edges"]) if rows else 0,
        "import_wall": imported[0], "import_cpu": imported[1],
        "build_wall": built[0] - imported[0], "build_cpu": built[1] - imported[1],
        "total_wall": time.perf_counter() - t0, "total_cpu": time.process_time() - c0,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "disk_end": _folder_bytes(sim.run_dir), "disk_peak": biggest[0],
        "steps_detail": rows, "phases": phases, "load_end": os.getloadavg(),
    }


def summarize(r: dict) -> str:
    """Markdown lines for one run."""
    steps = r["steps_detail"]
    checkpoints = sum(1 for s in steps if s.get("checkpoint"))
    finish = r["phases"]
    step_wall = sum(s["wall"] for s in steps)
    step_cpu = sum(s["cpu"] for s in steps)
    lines = [
        f"**{r['agents']:,} agents × {r['steps']} steps, Holme–Kim m={r['m']} "
        f"({r['edges']:,} follow edges)**: wall {r['total_wall']:.0f} s, CPU "
        f"{r['total_cpu']:.0f} s, peak RSS {r['peak_rss'] / 2**30:.2f} GiB, disk at the end "
        f"{r['disk_end'] / 1e9:.2f} GB (largest during the run {r['disk_peak'] / 1e9:.2f} GB), "
        f"load average (1 min) {min(s['load'] for s in steps):.1f}–"
        f"{max(s['load'] for s in steps):.1f} during the steps.",
        "",
        "| phase | wall s | CPU s | of which the simulation thread |",
        "|---|---|---|---|",
        f"| imports | {r['import_wall']:.1f} | {r['import_cpu']:.1f} | |",
        f"| world build | {r['build_wall']:.1f} | {r['build_cpu']:.1f} | |",
        f"| {len(steps)} steps (with {checkpoints} checkpoints) | {step_wall:.1f} | "
        f"{step_cpu:.1f} | {sum(s['main'] for s in steps):.1f} |",
    ]
    lines += [f"| {p['phase']} | {p['wall']:.1f} | {p['cpu']:.1f} | {p['main']:.1f} |"
              for p in finish]
    lines += ["", "| steps | steps/s (wall) | CPU s/step | simulation thread s/step | "
              "posts at the end | load |", "|---|---|---|---|---|---|"]
    block = max(1, len(steps) // 10)
    for i in range(0, len(steps), block):
        part = steps[i:i + block]
        wall = sum(s["wall"] for s in part)
        lines.append(f"| {part[0]['step']}–{part[-1]['step']} | {len(part) / wall:.2f} | "
                     f"{sum(s['cpu'] for s in part) / len(part):.2f} | "
                     f"{sum(s['main'] for s in part) / len(part):.2f} | {part[-1]['posts']:,} | "
                     f"{part[-1]['load']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--m", type=int, default=None, help="Holme-Kim m (default: scenario's)")
    parser.add_argument("--json", type=Path, default=None, help="also append raw results here")
    parser.add_argument("--out", type=Path, default=None, help="keep runs here (default: temp)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.agents[0], args.steps, args.m, str(args.out))))
        return
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · "
          f"{platform.machine()} · {os.cpu_count()} cores · python {platform.python_version()}")
    for n in args.agents:
        with tempfile.TemporaryDirectory(dir=args.out) as out:
            cmd = [sys.executable, __file__, "--child", "--agents", str(n), "--steps",
                   str(args.steps), "--out", out] + (["--m", str(args.m)] if args.m else [])
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if args.json:
            with args.json.open("a") as handle:
                handle.write(json.dumps(result) + "\n")
        print(summarize(result) + "\n", flush=True)


if __name__ == "__main__":
    main()
