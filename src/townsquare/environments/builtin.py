"""Register the built-in environments, classic models and recommenders.

The social platform's recommenders (social/recommenders.py) and the classic
models (contagion/__init__.py) register themselves when their package loads;
the market, commons and election are registered here with builders that load
them only when a run builds one, so validating a scenario stays cheap. The
order is the scenario reference's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from townsquare.core.registry import register_environment
from townsquare.environments import contagion, social  # noqa: F401  (they register themselves)
from townsquare.environments.commons.config import Beta, CommonsConfig
from townsquare.environments.election.config import ElectionConfig, Party, Poll
from townsquare.environments.market.config import Asset, FundamentalShock, MarketConfig

if TYPE_CHECKING:
    from townsquare.world import WorldParts

Built = tuple[Any, Any]


def _market(config: MarketConfig, parts: WorldParts) -> Built:
    from townsquare.environments.market.build import build

    return build(config, parts)


def _commons(config: CommonsConfig, parts: WorldParts) -> Built:
    from townsquare.environments.commons.build import build

    return build(config, parts)


def _election(config: ElectionConfig, parts: WorldParts) -> Built:
    from townsquare.environments.election.build import build

    return build(config, parts)


register_environment("market", MarketConfig, _market, sections=(
    ("[[environment.assets]]", Asset), ("[[environment.shocks]]", FundamentalShock)))
register_environment("commons", CommonsConfig, _commons, sections=(
    ("[environment.greed]", Beta),))
register_environment("election", ElectionConfig, _election, sections=(
    ("[[environment.parties]]", Party), ("[[environment.polls]]", Poll)))
