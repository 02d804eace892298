"""Helpers for the environment tests: small runs, and an [llm] table for the fake server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fake_server import FakeLLMServer

from townsquare import Run, Scenario, Simulation


def llm_table(server: FakeLLMServer, folder: Path, fraction: float = 0.25) -> dict[str, Any]:
    """An ``[llm]`` table pointing a share of agents at the fake server."""
    return {
        "models": [{"base_url": server.base_url, "model": server.model, "api_key_env": None,
                    "timeout_s": 3.0, "max_retries": 1, "backoff_base_s": 0.01,
                    "concurrency": 32}],
        "assign": {"fraction": fraction},
        "memory": {"reflect_every": 0},
        "cache_path": str(folder / "llm-cache.sqlite"),
    }


def run(name: str, folder: Path, overrides: dict[str, Any] | None = None) -> Run:
    """Run a built-in scenario with overrides (dotted keys) into ``folder``."""
    scenario = Scenario.load(name).with_overrides({"output_dir": str(folder),
                                                   **(overrides or {})})
    return Simulation(scenario).run()
