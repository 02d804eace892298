"""Where a sweep's runs execute: in this process, or in a pool of local processes.

An executor is one method, ``map(fn, items)``, yielding results as they
finish (in any order). The sweep knows nothing else about it, so another
backend (a Ray cluster) is one more class registered in :data:`BACKENDS`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from typing import Protocol, TypeVar

from townsquare.errors import UserError

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` over ``items`` and yields the results as they complete."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]: ...


class SerialExecutor:
    """Everything in this process, one item after the other (debugging, tiny sweeps)."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)


class ProcessExecutor:
    """A pool of ``workers`` local processes (``spawn``ed: no state leaks from the parent).

    On the first failure, or when the consumer stops early (Ctrl-C), pending
    items are cancelled and the pool shuts down; items already finished stay
    finished.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, int(workers or os.cpu_count() or 1))

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        if not items:
            return
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(min(self.workers, len(items)), mp_context=context)
        try:
            pending: set[Future[R]] = {pool.submit(fn, item) for item in items}
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    yield future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _ray(workers: int | None, address: str | None) -> Executor:
    """Ray tasks on a cluster (the optional ``ray`` extra, imported only here)."""
    from townsquare.distributed.executor import RayExecutor

    return RayExecutor(address, workers)


BACKENDS: dict[str, Callable[[int | None, str | None], Executor]] = {
    "local": lambda workers, address: SerialExecutor() if workers == 1
    else ProcessExecutor(workers),
    "ray": _ray,
}


def make_executor(
    backend: str = "local", workers: int | None = None, address: str | None = None
) -> Executor:
    """The executor of ``backend`` with ``workers`` processes (None: one per core).

    ``address`` names the cluster of a backend that has one (ray; default
    ``RAY_ADDRESS``, else this machine); the local backend ignores it.
    """
    if workers is not None and workers < 1:
        raise UserError(f"workers must be at least 1, got {workers}")
    if backend not in BACKENDS:
        raise UserError(f"unknown backend '{backend}'; known: {', '.join(sorted(BACKENDS))}")
    return BACKENDS[backend](workers, address)
