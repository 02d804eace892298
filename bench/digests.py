"""Run digests of every built-in scenario (small), to prove a refactoring kept behaviour.

    PYTHONPATH=src python bench/digests.py record bench/digests.json
    PYTHONPATH=src python bench/digests.py check bench/digests.json

Besides each built-in scenario it runs the classic models on ``default`` and the
LLM path (market, commons, election and the platform) against the test suite's
fake model server, whose answers are a function of the request; so a moved
prompt, parser or decider shows as a changed digest too.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "llm"))

CLASSIC = {
    "independent_cascade": {"model": "independent_cascade", "p": 0.2},
    "linear_threshold": {"model": "linear_threshold"},
    "sir": {"model": "sir", "beta": 0.2, "gamma": 0.1},
    "maki_thompson": {"model": "maki_thompson"},
    "voter": {"model": "voter"},
    "deffuant": {"model": "deffuant"},
}
LLM_SCENARIOS = ("default", "market", "commons", "election")


def _small(name: str, steps: int) -> dict[str, Any]:
    small: dict[str, Any] = {"steps": steps, "checkpoint_every": 0, "snapshots.max_agents": 50}
    if name not in ("digital-clone", "news-evolution"):
        small["population.size"] = 300
    return small


def _digest(name: str, overrides: dict[str, Any], out: Path) -> str:
    from townsquare import Run, Scenario, Simulation

    base = Scenario.load(name)
    last_news = max((item.step for item in base.news), default=0)
    steps = max(overrides["steps"], min(last_news + 1, base.steps))
    scenario = base.with_overrides(overrides | {"steps": steps, "output_dir": str(out)})
    run = Simulation(scenario).run()
    if "llm" in overrides:
        # LLM latencies are measured by a clock; they are metrics too (llm_latency_p50_ms)
        with sqlite3.connect(run.path / "run.sqlite") as conn:
            conn.execute("DELETE FROM metrics WHERE name LIKE '%latency%'")
        return Run(run.path).digest()
    return run.digest()


def digests() -> dict[str, str]:
    """Case name -> run digest, for every case this script knows."""
    from fake_server import FakeLLMServer

    from townsquare.scenario_files import builtin_names

    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in builtin_names():
            out[name] = _digest(name, _small(name, 8), folder / name)
        for model, behavior in CLASSIC.items():
            out[f"classic:{model}"] = _digest(
                "default", _small("default", 8) | {"behavior": behavior}, folder / model)
        with FakeLLMServer() as server:
            import os

            os.environ["TS_FAKE_KEY"] = "sk-fake"
            for name in LLM_SCENARIOS:
                llm = {"models": [{"base_url": server.base_url, "model": server.model,
                                   "api_key_env": "TS_FAKE_KEY", "timeout_s": 5.0,
                                   "max_retries": 1, "backoff_base_s": 0.01,
                                   "concurrency": 8}],
                       "assign": {"fraction": 0.5},
                       "memory": {"reflect_every": 2},
                       "cache_path": str(folder / f"llm-{name}.sqlite")}
                small = _small(name, 4) | {"population.size": 60, "llm": llm}
                out[f"llm:{name}"] = _digest(name, small, folder / f"llm-{name}")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("record", "check"):
        print(__doc__)
        return 2
    path = Path(argv[2])
    now = digests()
    if argv[1] == "record":
        path.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(now)} digests in {path}")
        return 0
    recorded = json.loads(path.read_text())
    changed = sorted(k for k in recorded.keys() | now.keys() if recorded.get(k) != now.get(k))
    for key in changed:
        print(f"CHANGED {key}: {recorded.get(key)} -> {now.get(key)}")
    print(f"{len(now) - len(changed)} of {len(recorded | now)} digests equal")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
