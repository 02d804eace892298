"""A shared renewable resource (GovSim, "Cooperate or Collapse"): survive or collapse.

Each step is one round (GovSim's month):

1. **observe** — every agent sees the stock, last round's catches and the
   messages of the discussion;
2. **decide** — agents announce proposed catches, discuss, and choose their
   catch (:mod:`~townsquare.environments.commons.heuristic`; LLM agents write a
   message and a catch);
3. **apply** — catches are taken (scaled down pro rata if they exceed the
   stock), then the stock regrows logistically,
   ``x -> x + r x (1 - x / K)``; below ``collapse_level * K`` the resource
   has collapsed for good (the stock is set to zero; nobody harvests again);
4. **measure** — stock against capacity, total catch against the
   sustainable catch ``max(0, R - K/2)`` and the maximum sustainable yield
   ``r K / 4``, inequality (Gini) of cumulative catches, survival.

Catches are recorded in the ``harvests`` table. There is no social platform
here: the discussion is the environment's own round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from townsquare.core.environment import StepRecord
from townsquare.environments.commons.actions import CommonsObservation, HarvestDecision
from townsquare.environments.commons.config import CommonsConfig
from townsquare.environments.measures import gini
from townsquare.network.graph import FollowGraph
from townsquare.population.model import Population
from townsquare.rng import RandomStreams

if TYPE_CHECKING:
    from townsquare.scenario import Scenario


def regrow(stock: float, growth_rate: float, capacity: float) -> float:
    """Logistic regrowth of one round."""
    return stock + growth_rate * stock * (1.0 - stock / capacity)


class CommonsEnvironment:
    """The resource, each agent's greed and catches, and the society's survival."""

    def __init__(
        self, config: CommonsConfig, scenario: Scenario, population: Population,
        graph: FollowGraph, streams: RandomStreams,
    ) -> None:
        self.config = config
        self.scenario = scenario
        self.population = population
        self.graph = graph
        self.n_agents = population.n
        rng = streams["commons"]
        self.greed = rng.beta(config.greed.a, config.greed.b, population.n)
        self.stocks = np.array([config.initial_stock * config.capacity])
        self.harvests = np.zeros(0)  # total catch per round
        self.sustainable = np.zeros(0)  # sustainable catch per round
        self.announced = np.zeros(0)  # total announced per round
        self.cumulative = np.zeros(population.n)
        self.last_harvest = np.zeros(population.n)
        self.last_announced = np.zeros(population.n)
        self.messages: dict[int, str] = {}
        self.informed = np.zeros(population.n, bool)  # who has worked out the replacement
        self.collapsed_at = -1  # step at whose end the resource collapsed

    @property
    def stock(self) -> float:
        return float(self.stocks[-1])

    @property
    def collapsed(self) -> bool:
        return self.collapsed_at >= 0

    def observe(self, step: int) -> CommonsObservation:
        agents = np.empty(0, np.int64) if self.collapsed else np.arange(self.n_agents)
        c = self.config
        last_stock = float(self.stocks[-2]) if len(self.stocks) > 1 else float("nan")
        return CommonsObservation(step, agents, self.stock, c.capacity, c.growth_rate,
                                  self.greed, self.last_harvest, self.last_announced,
                                  self.messages, self.population, self.graph, last_stock,
                                  self.informed)

    def apply(self, step: int, decision: HarvestDecision | None) -> StepRecord:
        record = StepRecord()
        c, stock = self.config, self.stock
        sustainable = max(0.0, stock - c.capacity / 2.0)
        agents = decision.agents if decision is not None else np.empty(0, np.int64)
        harvest = decision.harvest.astype(np.float64) if decision is not None else np.empty(0)
        total = float(harvest.sum())
        if total > stock:
            harvest = harvest * (stock / total)
            total = stock
        remaining = regrow(stock - total, c.growth_rate, c.capacity)
        if not self.collapsed and remaining < c.collapse_level * c.capacity:
            self.collapsed_at = step
        if self.collapsed:
            remaining = 0.0
        self.stocks = np.append(self.stocks, remaining)
        self.harvests = np.append(self.harvests, total)
        self.sustainable = np.append(self.sustainable, sustainable)
        announced = decision.announced if decision is not None else np.empty(0)
        self.announced = np.append(self.announced, float(np.sum(announced)))
        self.cumulative[agents] += harvest
        if decision is not None and decision.informed is not None:
            self.informed = self.informed.copy()
            self.informed[agents] = decision.informed
        self.last_harvest = np.zeros(self.n_agents)
        self.last_harvest[agents] = harvest
        self.last_announced = np.zeros(self.n_agents)
        self.last_announced[agents] = announced
        self.messages = {}
        if decision is not None and decision.message is not None:
            self.messages = {int(a): m for a, m in zip(agents.tolist(), decision.message,
                                                        strict=True) if m}
        if decision is not None and len(agents):
            record.add("harvests", {
                "step": np.full(len(agents), step), "agent": agents,
                "announced": announced.astype(np.float64), "harvest": harvest,
                "message": decision.message, "reason": decision.reason,
            })
        return record

    def measure(self, step: int) -> dict[str, float]:
        c = self.config
        total, sustainable = float(self.harvests[-1]), float(self.sustainable[-1])
        return {
            "informed_share": float(self.informed.mean()),
            "stock": self.stock,
            "stock_share": self.stock / c.capacity,
            "total_harvest": total,
            "announced_harvest": float(self.announced[-1]),
            "sustainable_catch": sustainable,
            "over_harvest": total - sustainable,
            "collapsed": float(self.collapsed),
            "harvest_gini": gini(self.cumulative),
        }

    def summary(self) -> dict[str, float]:
        c = self.config
        rounds = len(self.harvests)
        survival = self.collapsed_at + 1 if self.collapsed else rounds
        msy = c.growth_rate * c.capacity / 4.0
        active = self.harvests[:survival]
        return {
            "survived": float(not self.collapsed),
            "survival_time": float(survival),
            "final_stock_share": self.stock / c.capacity,
            "mean_stock_share": float(self.stocks[1:].mean() / c.capacity) if rounds else 1.0,
            "total_harvest": float(self.harvests.sum()),
            "harvest_to_msy": float(active.mean() / msy) if len(active) else 0.0,
            "over_harvest_share": float(np.mean(active > self.sustainable[:survival] + 1e-9))
            if len(active) else 0.0,
            "harvest_gini": gini(self.cumulative),
        }

    def get_state(self) -> dict[str, Any]:
        return {
            "greed": self.greed, "stocks": self.stocks, "harvests": self.harvests,
            "sustainable": self.sustainable, "announced": self.announced,
            "cumulative": self.cumulative, "last_harvest": self.last_harvest,
            "last_announced": self.last_announced, "collapsed_at": self.collapsed_at,
            "informed": self.informed,
            "messages": {str(k): v for k, v in self.messages.items()},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        for name in ("greed", "stocks", "harvests", "sustainable", "announced", "cumulative",
                     "last_harvest", "last_announced"):
            setattr(self, name, np.array(state[name], dtype=np.float64))
        self.collapsed_at = int(state["collapsed_at"])
        self.informed = np.array(state.get("informed", np.zeros(self.n_agents)), dtype=bool)
        self.messages = {int(k): str(v) for k, v in state["messages"].items()}
