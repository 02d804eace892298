"""The user's townsquare cache directory: what townsquare may write outside a run folder."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/townsquare`` (``~/.cache/townsquare``): response and query caches."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "townsquare"
