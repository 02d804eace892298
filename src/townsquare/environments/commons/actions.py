"""What commons agents see (:class:`CommonsObservation`) and decide (:class:`HarvestDecision`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from townsquare.network.graph import FollowGraph
from townsquare.population.model import Population


@dataclass
class CommonsObservation:
    """One round: the resource, who harvests, last round's catches and messages."""

    step: int
    agents: np.ndarray  # who harvests this round (everyone until the collapse)
    stock: float
    capacity: float
    growth_rate: float
    greed: np.ndarray  # (agents,) fixed trait in [0, 1]
    last_harvest: np.ndarray  # (agents,) catch of the previous round
    last_announced: np.ndarray  # (agents,) intention announced in the previous round
    messages: dict[int, str]  # agent -> message written by a model in the previous round
    population: Population
    graph: FollowGraph
    last_stock: float = float("nan")  # the stock a round earlier (NaN in the first round)
    informed: np.ndarray | None = None  # (agents,) who has worked out the replacement catch

    @property
    def replacement_catch(self) -> float:
        """What grew back after the last catch, per harvesting agent (inf before any)."""
        if not np.isfinite(self.last_stock):
            return float("inf")
        grown = self.stock - (self.last_stock - float(self.last_harvest.sum()))
        return max(grown, 0.0) / max(len(self.agents), 1)

    @property
    def declining(self) -> bool:
        """Whether the observed stock fell over the last round."""
        return bool(np.isfinite(self.last_stock) and self.stock < self.last_stock)

    @property
    def sustainable_catch(self) -> float:
        """Total catch that leaves the maximum-yield stock K/2 (GovSim's threshold)."""
        return max(0.0, self.stock - self.capacity / 2.0)

    @property
    def fair_share(self) -> float:
        """The sustainable catch split equally over the harvesting agents."""
        return self.sustainable_catch / max(len(self.agents), 1)

    def subset(self, rows: np.ndarray) -> CommonsObservation:
        """The same round with only ``agents[rows]`` deciding (shares stay group-wide)."""
        return CommonsObservation(self.step, self.agents[rows], self.stock, self.capacity,
                                  self.growth_rate, self.greed, self.last_harvest,
                                  self.last_announced, self.messages, self.population,
                                  self.graph, self.last_stock, self.informed)


@dataclass
class HarvestDecision:
    """Announced intentions and catches of the agents of one round."""

    agents: np.ndarray
    announced: np.ndarray
    harvest: np.ndarray
    message: list[str | None] | None = None
    reason: list[str | None] | None = None
    fallbacks: int = 0
    informed: np.ndarray | None = None  # (agents,) informed after this round's discussion
