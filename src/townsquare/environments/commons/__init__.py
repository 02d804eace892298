"""A shared renewable resource (GovSim): survive or collapse.

Importing the package registers ``[environment] kind = "commons"``; the environment
and its deciders load when a run builds them (see build.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from townsquare.core.registry import register_environment
from townsquare.environments.commons.config import Beta, CommonsConfig

if TYPE_CHECKING:
    from townsquare.world import WorldParts


def _build(config: CommonsConfig, parts: WorldParts) -> tuple[Any, Any]:
    from townsquare.environments.commons.build import build

    return build(config, parts)


register_environment("commons", CommonsConfig, _build, sections=(("[environment.greed]", Beta),))
