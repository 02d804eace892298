"""The ``townsquare`` command (typer + rich); one module per group of commands."""

from __future__ import annotations

from townsquare.cli import runs, start, study, view  # noqa: F401 - registers the commands
from townsquare.cli.app import app, parse_assignments, print_summary, user_errors

__all__ = ["app", "main", "parse_assignments", "print_summary", "user_errors"]


def main() -> None:  # pragma: no cover - console script entry
    app()
