"""The background writer thread and error bookkeeping shared by every store backend.

One thread owns the database connection and runs queued tasks, each inside a
transaction; the simulation only enqueues. An error in the thread is kept and
raised in the caller at its next call (or at close), and nothing is written
after it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from townsquare.errors import StoreError
from townsquare.store.schema import STATUSES

Task = Callable[[Any], None]
InTransaction = Callable[[Any, Task], None]


class WriterThread:
    """Runs queued tasks on ``conn`` in order, each through ``in_transaction``."""

    def __init__(self, conn: Any, queue_size: int, in_transaction: InTransaction,
                 name: str = "townsquare-store") -> None:
        self.conn = conn
        self.error: BaseException | None = None
        self.failed_task = ""
        self._in_transaction = in_transaction
        self._queue: queue.Queue[tuple[str, Task] | None] = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, what: str, task: Task) -> None:
        self._queue.put((what, task))

    def wait(self) -> None:
        self._queue.join()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                what, task = item
                if self.error is None:  # after a failure nothing more is written
                    try:
                        self._in_transaction(self.conn, task)
                    except BaseException as exc:
                        self.error, self.failed_task = exc, what
            finally:
                self._queue.task_done()


class WriterLifecycle:
    """Context-manager and error-reporting behaviour common to run writers.

    Subclasses set ``_worker``, ``_closed``, ``_reported`` and ``where`` and
    implement ``close(status)`` and ``_store_errors()``.
    """

    _worker: WriterThread
    _closed: bool
    _reported: bool
    where: Any

    def close(self, status: str = "completed", summary: Any = None) -> None:
        raise NotImplementedError

    def _store_errors(self) -> tuple[type[BaseException], ...]:
        """The exception types of this backend's database and encoding layers."""
        raise NotImplementedError

    def _describe(self, error: BaseException) -> str:
        """An error's text as it may be shown (backends scrub secrets here)."""
        return str(error)

    def _failure(self) -> BaseException:
        """The writer thread's error; the store's own errors become a StoreError naming
        the task that failed, anything else is passed on as it is."""
        error = self._worker.error
        assert error is not None
        if isinstance(error, self._store_errors()):
            failure = StoreError(
                f"{self.where}: writing {self._worker.failed_task} failed "
                f"({type(error).__name__}: {self._describe(error)}); nothing of it was stored"
            )
            failure.__cause__ = error
            return failure
        return error

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close("completed")
        elif issubclass(kind, KeyboardInterrupt):
            self.close("interrupted")
        else:
            self._reported = True  # the exception in flight is the one to see
            self.close("failed")

    def flush(self) -> None:
        """Wait until everything queued is committed (raises a writer error)."""
        self._check()
        self._worker.wait()
        self._check()

    def _stop_writing(self, status: str) -> bool:
        """Start closing: False if already closed; else drain the queue and stop the thread."""
        if self._closed:
            return False
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        self._closed = True
        self._worker.stop()
        return True

    def _report_close(self, error: BaseException | None, finish_error: Exception | None) -> None:
        """Raise, at the end of ``close``, the thread's error (unless raised already),
        else the error of the final transaction that records the status.
        """
        if error is not None and not self._reported:
            self._reported = True
            raise self._failure()
        if finish_error is not None:
            raise StoreError(
                f"{self.where}: could not record the end of the run: {finish_error}"
            ) from finish_error

    def _check(self) -> None:
        if self._closed:
            raise StoreError(f"the run writer for {self.where} is closed")
        if self._worker.error is None:
            return
        if not self._reported:
            self._reported = True
            raise self._failure()
        raise StoreError(
            f"cannot write to {self.where}: writing {self._worker.failed_task} failed earlier"
        ) from self._worker.error
