"""Connecting to Ray, and getting results back with townsquare's own errors.

Ray is an optional extra, so it is imported here, lazily, and nowhere at
module level. The cluster is the one named by the caller, else by the
``RAY_ADDRESS`` environment variable, else a Ray instance started on this
machine. A Ray session this process already started (``ray.init``) is used
as it is.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from townsquare.errors import UserError

if TYPE_CHECKING:
    from types import ModuleType

F = TypeVar("F", bound=Callable[..., Any])
INSTALL_HINT = "the Ray backend needs Ray: pip install 'townsquare[ray]'"


def require_ray() -> ModuleType:
    """The ``ray`` module, or a UserError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return ray


def connect(address: str | None = None) -> bool:
    """Make sure this process is connected to Ray; True if a new session was started here.

    ``address`` (or ``RAY_ADDRESS``) names an existing cluster; without one a
    local instance is started, with the dashboard off. Call
    :func:`disconnect` with the result when done.
    """
    ray = require_ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    try:
        if address:
            ray.init(address=address, logging_level="WARNING")
        else:
            start_local(include_dashboard=False, logging_level="WARNING")
    except (ConnectionError, ValueError, RuntimeError, StartupTimeout) as exc:
        where = f"the Ray cluster at '{address}'" if address else "a local Ray instance"
        raise UserError(f"could not connect to {where}: {exc}") from None
    return True


class StartupTimeout(Exception):
    """A local Ray instance did not come up in :data:`LOCAL_START_ATTEMPTS` tries."""


# Ray waits a fixed 30 s for its own raylet to register; on a busy machine
# (other work on every core) that is not always enough, and a second try with
# the machine's caches warm usually is. The GCS port wait is configurable, so
# it is lengthened instead of retried.
LOCAL_START_ATTEMPTS = 4
GCS_PORT_WAIT_S = "300"


def start_local(**options: Any) -> None:
    """``ray.init(**options)`` on this machine, tolerant of a slow start on a busy machine."""
    ray = require_ray()
    os.environ.setdefault("RAY_gcs_server_port_wait_time_s", GCS_PORT_WAIT_S)
    for attempt in range(1, LOCAL_START_ATTEMPTS + 1):
        try:
            ray.init(**options)
            return
        except Exception as exc:  # Ray raises a bare Exception for this timeout
            ray.shutdown()
            if "timed out during startup" not in str(exc):
                raise
            if attempt == LOCAL_START_ATTEMPTS:
                raise StartupTimeout(
                    f"Ray did not start in {LOCAL_START_ATTEMPTS} tries ({exc})") from None


def disconnect(started: bool) -> None:
    """Shut Ray down if :func:`connect` started the session (else leave it to its owner)."""
    if started:
        require_ray().shutdown()


def fetch(refs: Any) -> Any:
    """``ray.get(refs)``, raising a task's UserError as itself (not wrapped in Ray's error)."""
    ray = require_ray()
    try:
        return ray.get(refs)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, UserError):
            raise cause from None
        raise


def portable_errors(method: F) -> F:
    """Let a UserError raised in a Ray worker travel back to the driver intact.

    Ray pickles exceptions; one whose constructor takes other arguments than
    its message (e.g. :class:`~townsquare.errors.DataError`) would not
    unpickle, so it is sent as a plain UserError with the same message.
    """

    @wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except UserError as exc:
            raise portable(exc) from None

    return wrapper  # type: ignore[return-value]


def portable(exc: UserError) -> UserError:
    """``exc`` if it survives pickling, else a plain UserError with its message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return UserError(str(exc))
    return exc


def cancel(refs: Sequence[Any]) -> None:
    """Cancel Ray tasks that have not finished (finished ones are left alone)."""
    ray = require_ray()
    for ref in refs:
        try:
            ray.cancel(ref)
        except Exception:  # already finished, or the cluster is gone: nothing to cancel
            continue
