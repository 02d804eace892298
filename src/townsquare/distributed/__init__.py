"""Ray backend: sweeps and replicates as Ray tasks, one run's LLM agents sharded over actors.

- :class:`~townsquare.distributed.executor.RayExecutor` — ``townsquare sweep
  --backend ray``: each run is a Ray task calling the local backend's run
  function, so the results table is the same.
- :class:`~townsquare.distributed.sharded_llm.ShardedLLM` — ``[distributed]
  llm_shards``: one Ray actor per shard, each with its own model servers and
  its agents' memories; the event log is the local backend's.
- :class:`~townsquare.distributed.config.DistributedConfig` — the
  ``[distributed]`` scenario section.

Ray is an optional extra (``pip install 'townsquare[ray]'``); nothing here imports
it before it is used.
"""
