"""Environments beside the social platform, on the same engine: a market, a commons, an election.

Each implements :class:`townsquare.environment.Environment` (observe -> decide
-> apply -> measure); the market and the election wrap a
:class:`~townsquare.platform.social.SocialPlatform`, so their agents read and
post on it as in any other scenario. See docs/environments.md.

Names are imported lazily so that ``townsquare.scenario`` can import
:mod:`townsquare.environments.config` without an import cycle.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "compose": "build",
    "MarketConfig": "config",
    "CommonsConfig": "config",
    "ElectionConfig": "config",
    "EnvironmentConfig": "config",
    "MarketEnvironment": "market",
    "CommonsEnvironment": "commons",
    "ElectionEnvironment": "election",
    "HeuristicTraders": "traders",
    "HeuristicHarvesters": "harvesters",
    "clear_auction": "orderbook",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"townsquare.environments.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'townsquare.environments' has no attribute {name!r}")
