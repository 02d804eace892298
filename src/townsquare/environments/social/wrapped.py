"""What an environment built on the social platform shares with it: its agents."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from townsquare.environments.social.platform import SocialPlatform
    from townsquare.network.graph import FollowGraph
    from townsquare.population.model import AgentState, Population


class OnPlatform:
    """Mixin for an environment wrapping ``self.platform``: interviews, measures and reports
    read the agents, their state and the follow graph from it."""

    platform: SocialPlatform

    @property
    def population(self) -> Population:
        return self.platform.population

    @property
    def state(self) -> AgentState:
        return self.platform.state

    @property
    def graph(self) -> FollowGraph:
        return self.platform.graph
