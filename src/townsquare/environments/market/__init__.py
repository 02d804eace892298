"""A stock market on the social platform (TwinMarket, StockAgent).

Importing the package registers ``[environment] kind = "market"``; the environment
and its deciders load when a run builds them (see build.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from townsquare.core.registry import register_environment
from townsquare.environments.market.config import Asset, FundamentalShock, MarketConfig

if TYPE_CHECKING:
    from townsquare.world import WorldParts


def _build(config: MarketConfig, parts: WorldParts) -> tuple[Any, Any]:
    from townsquare.environments.market.build import build

    return build(config, parts)


register_environment(
    "market",
    MarketConfig,
    _build,
    sections=(("[[environment.assets]]", Asset), ("[[environment.shocks]]", FundamentalShock)),
)
