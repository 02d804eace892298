"""What commons agents see and decide, and the heuristic harvester with its discussion round.

Heuristic model (vectorized over agents). With stock ``R``, ``n`` harvesting
agents and the sustainable catch ``h*(R) = max(0, R - K/2)``:

* **Intention** (announced in the discussion): the sustainable share
  ``f = h*/n`` plus a greedy part, ``f + g_i (R/n - f)``, where ``g_i`` in
  [0, 1] is the agent's greed (``R/n`` is its per-capita share of the whole
  stock).
* **Discussion**: each agent hears the announcements of everyone (or of the
  accounts it follows) and forms a norm ``s f + (1 - s) mean(heard)`` with
  ``s = norm_sustainability``.
* **Harvest**: the intention moved toward the norm by ``conformity``.

With conformity ``c`` the group behaves as if its greed were ``g (1 - c)``;
the stock survives at small levels only if ``(1 - g_eff)(1 + r) > 1``, so
greedier groups collapse and discussion (conformity toward a sustainable
norm) saves them — GovSim's finding that communication is critical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from townsquare.core.behavior import BaseBehavior
from townsquare.environments.commons.config import CommonsConfig
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
                                  self.graph)


@dataclass
class HarvestDecision:
    """Announced intentions and catches of the agents of one round."""

    agents: np.ndarray
    announced: np.ndarray
    harvest: np.ndarray
    message: list[str | None] | None = None
    reason: list[str | None] | None = None
    fallbacks: int = 0


class HeuristicHarvesters(BaseBehavior):
    """Rule-based harvesters with a discussion round (see the module docstring)."""

    def __init__(self, config: CommonsConfig) -> None:
        self.config = config

    def decide(self, obs: CommonsObservation, rng: np.random.Generator) -> HarvestDecision:
        agents = np.asarray(obs.agents, np.int64)
        n = len(agents)
        if n == 0:
            return HarvestDecision(agents, np.empty(0), np.empty(0))
        fair = obs.fair_share
        per_capita = obs.stock / n
        intention = fair + obs.greed[agents] * (per_capita - fair)
        heard = self._heard(obs, agents, intention)
        s = self.config.norm_sustainability
        norm = s * fair + (1.0 - s) * heard
        harvest = intention + self.config.conformity * (norm - intention)
        return HarvestDecision(agents, intention, np.maximum(harvest, 0.0))

    def _heard(self, obs: CommonsObservation, agents: np.ndarray,
               intention: np.ndarray) -> np.ndarray:
        """Mean announcement each agent hears (its own when it follows nobody who speaks)."""
        if self.config.discussion == "all":
            return np.full(len(agents), intention.mean())
        spoken = np.zeros(obs.graph.n)
        speaks = np.zeros(obs.graph.n)
        spoken[agents], speaks[agents] = intention, 1.0
        following = obs.graph.following[agents]
        total, count = following @ spoken, following @ speaks
        return np.divide(total, count, out=intention.copy(), where=count > 0)
