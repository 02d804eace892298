"""An election campaign on the social platform, with opinion polls (ElectionSim).

Importing the package registers ``[environment] kind = "election"``; the environment
and its deciders load when a run builds them (see build.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from townsquare.core.registry import register_environment
from townsquare.environments.election.config import ElectionConfig, Party, Poll

if TYPE_CHECKING:
    from townsquare.world import WorldParts


def _build(config: ElectionConfig, parts: WorldParts) -> tuple[Any, Any]:
    from townsquare.environments.election.build import build

    return build(config, parts)


register_environment(
    "election",
    ElectionConfig,
    _build,
    sections=(("[[environment.parties]]", Party), ("[[environment.polls]]", Poll)),
)
