"""The sweep executor of ``--backend ray``: each run a Ray task calling the same function.

A sweep hands an executor a function and a list of run specs; the local
executors call it in this process or in a process pool, this one calls it as
a Ray task on whatever node has a free CPU. The function, its arguments and
what it writes are the same, so the results of a sweep do not depend on the
backend. Run folders are written by the worker that runs them: on a cluster
of several machines the sweep folder must be on a filesystem they share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from townsquare.distributed.cluster import cancel, connect, disconnect, fetch, require_ray
from townsquare.errors import UserError

T = TypeVar("T")
R = TypeVar("R")


class RayExecutor:
    """Runs ``fn`` over ``items`` as Ray tasks and yields results as they finish.

    ``address`` names the cluster (default: ``RAY_ADDRESS``, else a local Ray
    instance, shut down again when the map ends). ``workers`` caps the tasks
    in flight (default: as many as the cluster schedules). A task that fails
    is not retried (the sweep's resume reruns it); on the first failure, or
    when the consumer stops early, the tasks still queued or running are
    cancelled and the error is raised.
    """

    def __init__(self, address: str | None = None, workers: int | None = None,
                 cpus_per_task: float = 1.0) -> None:
        if workers is not None and workers < 1:
            raise UserError(f"workers must be at least 1, got {workers}")
        self.address = address
        self.workers = workers
        self.cpus_per_task = float(cpus_per_task)

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, workers={self.workers})"

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        if not items:
            return
        ray = require_ray()
        started = connect(self.address)
        todo = iter(items)
        window = self.workers or len(items)
        pending: list[Any] = []
        try:
            remote = ray.remote(num_cpus=self.cpus_per_task, max_retries=0)(fn)
            pending = [remote.remote(item) for item in islice(todo, window)]
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                result = fetch(done[0])
                pending += [remote.remote(item) for item in islice(todo, 1)]
                yield result
        finally:
            cancel(pending)
            disconnect(started)

