"""A Ray instance on this machine for the distributed tests (skipped when Ray is missing).

Ray runs entirely locally: two CPUs, no dashboard, a small object store,
bound to 127.0.0.1, and shut down after the session. ``RAY_ADDRESS`` is
ignored here so a test can never reach a real cluster. Every test of this
folder runs in one pytest-xdist worker (the ``ray`` group), so the machine
starts Ray once, and the start-up tolerates a busy machine
(:func:`townsquare.distributed.cluster.start_local`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

from townsquare.distributed.cluster import start_local

SKIP_REASON = "Ray is not installed (it is the optional extra: pip install 'townsquare[ray]')"


@pytest.fixture(scope="session")
def ray_local() -> Iterator[ModuleType]:
    """The ``ray`` module, initialised on this machine for the whole session."""
    ray = pytest.importorskip("ray", reason=SKIP_REASON)
    saved = {name: os.environ.pop(name, None) for name in ("RAY_ADDRESS",)}
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # nothing leaves the machine
    start_local(num_cpus=2, include_dashboard=False, object_store_memory=200 * 1024 * 1024,
                log_to_driver=False, logging_level="WARNING", _node_ip_address="127.0.0.1")
    try:
        yield ray
    finally:
        ray.shutdown()
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Send this folder's tests to one xdist worker, so Ray starts once per run."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.xdist_group("ray"))
