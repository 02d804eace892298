"""Named points in a run's life where a test can kill the process (crash tests).

``reached(name)`` does nothing unless the environment variable
``TOWNSQUARE_TEST_KILL_AT`` equals ``name``; then the process kills itself with
SIGKILL on the spot, exactly as a power cut or the OOM killer would. The crash
tests use it to stop a run at every phase boundary deterministically instead of
at a random moment. The phases, in order: ``folder`` (run folder made),
``database`` (run.sqlite in place), ``agents``, ``edges`` (committed),
``first_step`` (step 0 committed), ``checkpoint`` (first checkpoint written),
``last_step`` (last step committed), ``close`` (status and summary recorded).
"""

from __future__ import annotations

import os
import signal

KILL_ENV = "TOWNSQUARE_TEST_KILL_AT"
PHASES = ("folder", "database", "agents", "edges", "first_step", "checkpoint", "last_step",
          "close")


def armed(name: str) -> bool:
    """Whether the process is set to be killed at phase ``name``."""
    return os.environ.get(KILL_ENV) == name


def reached(name: str) -> None:
    """SIGKILL this process if it is set to be killed at phase ``name``."""
    if armed(name):
        os.kill(os.getpid(), signal.SIGKILL)
