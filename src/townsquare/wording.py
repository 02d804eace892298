"""Small wording helpers shared by the CLI and the reports (no heavy imports)."""

from __future__ import annotations

from typing import Any


def plural(count: Any, noun: str) -> str:
    """``1 agent``, ``2,000 agents``; ``? agents`` when the count is unknown."""
    if isinstance(count, bool) or not isinstance(count, int):
        try:
            count = int(count)
        except (TypeError, ValueError):
            return f"? {noun}s"
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
