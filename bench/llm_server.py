"""Run the fake OpenAI-compatible server (tests/llm/fake_server.py) in its own process.

Benchmarks start it with :func:`start_server` so the server's CPU work does
not share the GIL (or the event loop) with the client being measured. The
process prints ``PORT <n>`` once it listens on 127.0.0.1 and serves until it
is terminated.

    python bench/llm_server.py --latency 0.1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from pathlib import Path

from townsquare.behavior.llm.local import terminate

TESTS_LLM = Path(__file__).resolve().parents[1] / "tests" / "llm"


def serve(latency_s: float) -> None:
    """Start the fake server and block until the process is killed."""
    sys.path.insert(0, str(TESTS_LLM))
    from fake_server import FakeLLMServer  # a test helper, not part of the package

    server = FakeLLMServer(latency_s=latency_s).start()
    print(f"PORT {server.port}", flush=True)
    threading.Event().wait()


def start_server(latency_s: float) -> tuple[subprocess.Popen, str]:
    """Launch a server process; return it and its base URL (``http://127.0.0.1:<port>/v1``)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--latency", repr(latency_s)],
        stdout=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"the fake LLM server did not start (said {line!r})")
    return process, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def stop_server(process: subprocess.Popen) -> None:
    """Terminate a process started by :func:`start_server` and reap it."""
    terminate(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    serve(parser.parse_args().latency)


if __name__ == "__main__":
    main()
