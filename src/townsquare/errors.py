"""Exceptions for user errors: bad scenarios, bad data files, missing runs.

Every error a user can cause by their input derives from :class:`UserError`;
the CLI turns these into a one-paragraph message and exit code 2, never a
traceback. Anything else is a bug in townsquare.
"""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A problem with the user's input, reported without a traceback."""


class ScenarioError(UserError):
    """A scenario file that cannot be parsed or does not validate."""

    def __init__(self, source: str | Path, problems: list[str]) -> None:
        self.source = str(source)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid scenario {self.source}:\n{lines}")


class DataError(UserError):
    """A data file (edge list, personas, recorded cascades) with a bad record."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class RunNotFoundError(UserError):
    """A run path or id that does not name a townsquare run database."""


class StoreError(UserError):
    """A run database that is corrupted, foreign or of an unknown schema version."""


class RunStopped(UserError):
    """A run stopped cleanly before finishing (Ctrl-C, SIGTERM, a budget, an outage).

    Its state was checkpointed: ``townsquare resume RUN`` continues it.
    ``exit_code`` is what the CLI exits with.
    """

    exit_code = 130
