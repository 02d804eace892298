"""Start-up cost of the CLI: wall time of short commands in fresh interpreters, and the
modules each imports (issue 21, "fast start").

Runs each command ``--repeat`` times per source tree, interleaving the trees (so load
changes hit both alike), and prints the median and minimum wall time and the number of
modules loaded. Compare two trees, e.g. the base commit and this one:

    git archive b60eb9a src | tar -x -C /tmp/base
    python bench/bench_startup.py --src /tmp/base/src --src src --repeat 15
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = ["--help", "--version", "run nosuchscenario", "validate default", "scenarios",
            "init default -o -"]
HEAVY = ("pandas", "scipy", "numba", "plotly", "duckdb", "networkx", "pyarrow", "numpy",
         "pydantic")
PROBE = """
import shlex, sys
from townsquare.cli import app
try:
    app(shlex.split(sys.argv[1]))
except SystemExit:
    pass
sys.stderr.write("\\nMODULES %d %s\\n" % (len(sys.modules), ",".join(
    m for m in sys.argv[2].split(",") if m in sys.modules)))
"""


def run_once(src: str, command: str, cwd: str) -> float:
    env = os.environ | {"PYTHONPATH": src}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "townsquare.cli", *shlex.split(command)], cwd=cwd,
                   env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def modules(src: str, command: str, cwd: str) -> str:
    env = os.environ | {"PYTHONPATH": src}
    done = subprocess.run([sys.executable, "-c", PROBE, command, ",".join(HEAVY)], cwd=cwd,
                          env=env, capture_output=True, text=True, check=False)
    line = [x for x in done.stderr.splitlines() if x.startswith("MODULES")][-1].split(" ")
    return f"{line[1]} modules; heavy: {line[2] if len(line) > 2 and line[2] else '-'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", action="append", required=True, help="a src/ folder")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    srcs = [str(Path(s).resolve()) for s in args.src]
    with tempfile.TemporaryDirectory() as cwd:
        times: dict[tuple[str, str], list[float]] = {(s, c): [] for s in srcs for c in COMMANDS}
        for _ in range(args.repeat):
            for command in COMMANDS:
                for src in srcs:
                    times[src, command].append(run_once(src, command, cwd))
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        print("| command | tree | median s | min s | imports |")
        print("|---|---|---|---|---|")
        for command in COMMANDS:
            for src in srcs:
                t = times[src, command]
                print(f"| `townsquare {command}` | {src} | {statistics.median(t):.3f} | "
                      f"{min(t):.3f} | {modules(src, command, cwd)} |")


if __name__ == "__main__":
    main()
