"""Ray backend: sweeps and replicates as Ray tasks, one run's LLM agents sharded over actors.

- :class:`~townsquare.distributed.executor.RayExecutor` — ``townsquare sweep
  --backend ray``: each run is a Ray task calling the local backend's run
  function, so the results table is the same.
- :class:`~townsquare.distributed.sharded_llm.ShardedLLM` — ``[distributed]
  llm_shards``: one Ray actor per shard, each with its own model servers and
  its agents' memories; the event log is the local backend's.
- :class:`~townsquare.distributed.config.DistributedConfig` — the
  ``[distributed]`` scenario section.

Ray is an optional extra (``pip install 'townsquare[ray]'``). Nothing here
imports it before it is used, and the names above are loaded on first access
(the scenario imports the config while the LLM stack imports the scenario).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["DistributedConfig", "RayExecutor", "ShardedLLM"]
_HOME = {"DistributedConfig": "config", "RayExecutor": "executor", "ShardedLLM": "sharded_llm"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
