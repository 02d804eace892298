"""One event loop, in its own thread, owned by an LLM behaviour.

``decide()`` is synchronous, but the requests of a batch run concurrently on
asyncio. Running a persistent loop in a background thread (rather than
``asyncio.run`` per step) keeps the HTTP connection pool warm across steps and
works whether or not the caller already runs a loop (e.g. Jupyter).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed, else asyncio's.

    At high request rates the LLM client is CPU-bound, and about a third of its
    CPU is the event loop and the HTTP client on it; uvloop runs the loop and
    its sockets in C (see "CPU per decision at zero latency" in bench/RESULTS.md).
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class LoopThread:
    """Run coroutines to completion on a private loop from synchronous code."""

    def __init__(self, name: str = "townsquare-llm") -> None:
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and return its result (or raise its exception)."""
        if self._loop.is_closed():
            coro.close()
            raise RuntimeError("the LLM event loop is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop and return at once; its future holds the result."""
        if self._loop.is_closed():
            coro.close()
            raise RuntimeError("the LLM event loop is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


@contextmanager
def rare_collections(threshold: int = 20_000) -> Iterator[None]:
    """Run CPython's cyclic garbage collector rarely inside the block.

    A step leaves a few hundred short-lived container objects per request
    (JSON, tasks, parsed answers). At the default generation-0 threshold
    (700) the collector runs every few requests, and every few seconds a
    full collection over the scientific stack's objects stalls the event loop
    for 50-100 ms while answers wait in their sockets. Objects freed by
    reference counting never reach the collector, so a higher threshold
    costs little memory. The previous thresholds are restored on exit.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], threshold), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
