"""What market traders see (a :class:`MarketObservation`) and decide (an :class:`OrderBatch`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from townsquare.core.behavior import Observation

BUY, SELL = 1, -1


@dataclass
class OrderBatch:
    """Limit orders, one row per order: ``side`` +1 buy / -1 sell, ``limit`` price, shares."""

    agent: np.ndarray
    asset: np.ndarray
    side: np.ndarray
    quantity: np.ndarray
    limit: np.ndarray
    reason: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.agent)

    @classmethod
    def build(
        cls, agent: np.ndarray, asset: np.ndarray, side: np.ndarray, quantity: np.ndarray,
        limit: np.ndarray, reason: list[str | None] | None = None,
    ) -> OrderBatch:
        return cls(np.asarray(agent, np.int64), np.asarray(asset, np.int64),
                   np.asarray(side, np.int8), np.asarray(quantity, np.float64),
                   np.asarray(limit, np.float64), reason)

    @classmethod
    def empty(cls) -> OrderBatch:
        return cls.build(*(np.empty(0),) * 5)

    def select(self, mask: np.ndarray) -> OrderBatch:
        rows = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask)
        reason = None if self.reason is None else [self.reason[i] for i in rows.tolist()]
        return OrderBatch(self.agent[rows], self.asset[rows], self.side[rows],
                          self.quantity[rows], self.limit[rows], reason)

    @classmethod
    def concat(cls, batches: list[OrderBatch]) -> OrderBatch:
        batches = [b for b in batches if len(b)]
        if not batches:
            return cls.empty()
        reason = None
        if any(b.reason is not None for b in batches):
            reason = [r for b in batches for r in (b.reason or [None] * len(b))]
        agent, asset, side, quantity, limit = (
            np.concatenate([getattr(b, name) for b in batches])
            for name in ("agent", "asset", "side", "quantity", "limit"))
        return cls(agent, asset, side, quantity, limit, reason)


@dataclass
class TradeDecision:
    """Orders of one step and how many traders fell back from a model to the heuristic."""

    orders: OrderBatch
    fallbacks: int = 0


@dataclass
class MarketObservation:
    """A market step: the platform's observation plus prices, portfolios and who trades."""

    step: int
    social: Observation
    traders: np.ndarray  # agents sending orders this step
    kind: np.ndarray  # trader kind code per agent (index into TRADER_KINDS)
    assets: list[str]
    topic: np.ndarray  # population topic index of each asset (its sentiment)
    prices: np.ndarray  # (steps so far + 1, assets) price path; the last row is current
    fundamental: np.ndarray  # (assets,) current fundamental values
    cash: np.ndarray  # (agents,)
    shares: np.ndarray  # (agents, assets)
    headlines: list[str] = field(default_factory=list)  # fundamental news so far

    @property
    def price(self) -> np.ndarray:
        return self.prices[-1]

    def sentiment(self, agents: np.ndarray) -> np.ndarray:
        """(agents, assets) attitude of each agent on each asset's topic, in [-1, 1]."""
        return self.social.state.attitude[np.asarray(agents)][:, self.topic].astype(np.float64)

    def subset(self, rows: np.ndarray) -> MarketObservation:
        """The same step with only ``traders[rows]`` trading."""
        return MarketObservation(self.step, self.social, self.traders[rows], self.kind,
                                 self.assets, self.topic, self.prices, self.fundamental,
                                 self.cash, self.shares, self.headlines)
