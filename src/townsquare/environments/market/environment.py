"""A stock market on top of the social platform (TwinMarket, StockAgent).

Every agent is a trader with cash and shares who also uses the social
platform. Each step:

1. **observe** — the platform's step starts (news seeded, feeds built); a
   random ``trade_rate`` share of traders is in the market;
2. **decide** — the social behaviour acts on the platform, the traders send
   limit orders (sentiment = their attitude on the asset's topic, so news
   and posts move prices);
3. **apply** — the platform applies its actions (and interventions,
   surveys); each asset's orders are cleared in one call auction
   (:mod:`~townsquare.environments.market.orderbook`), after orders were capped by
   cash (no borrowing) and shares (no short selling); cash and shares
   settle at the clearing price; fundamentals move (random walk plus
   scheduled shocks); returns may feed back into attitudes;
4. **measure** — prices, volume, mispricing, herding, wealth inequality.

Orders are recorded in the ``orders`` table, one row per order with its fill.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from townsquare.arrays import first_occurrence
from townsquare.behavior.composite import ComposedDecision
from townsquare.core.environment import StepRecord
from townsquare.environments.market.actions import MarketObservation, OrderBatch
from townsquare.environments.market.config import TRADER_KINDS, MarketConfig
from townsquare.environments.market.orderbook import clear_auction
from townsquare.environments.measures import (
    csad,
    gini,
    log_returns,
    lsv_herding,
    max_drawdown,
    volatility,
)
from townsquare.environments.social.platform import SocialPlatform
from townsquare.environments.social.wrapped import OnPlatform
from townsquare.errors import UserError
from townsquare.rng import RandomStreams

if TYPE_CHECKING:
    from townsquare.scenario import Scenario


class MarketEnvironment(OnPlatform):
    """Traders, their portfolios and a call auction per asset, beside a social platform."""

    def __init__(
        self, config: MarketConfig, scenario: Scenario, platform: SocialPlatform,
        streams: RandomStreams,
    ) -> None:
        self.config = config
        self.scenario = scenario
        self.platform = platform
        self.streams = streams
        self.n_agents = platform.n_agents
        self.assets = [a.name for a in config.assets]
        self.topic = np.array([_topic_index(platform, a.topic, i)
                               for i, a in enumerate(config.assets)], np.int64)
        rng = streams["market"]
        weights = np.array([config.traders.get(k, 0.0) for k in TRADER_KINDS])
        n, m = self.n_agents, len(self.assets)
        self.kind = rng.choice(len(TRADER_KINDS), size=n, p=weights / weights.sum()).astype(np.int8)
        spread = config.endowment_spread
        self.cash = config.initial_cash * np.exp(spread * rng.normal(size=n))
        self.shares = config.initial_shares * np.exp(spread * rng.normal(size=(n, m)))
        self.prices = np.array([[a.price for a in config.assets]], np.float64)
        self.fundamentals = np.array([[a.fundamental or a.price for a in config.assets]],
                                     np.float64)
        self.volumes = np.zeros((0, m))
        self.herding = np.zeros((0, m))
        self.dispersion = np.zeros(0)
        self.initial_gini = gini(self.wealth())
        self._orders = OrderBatch.empty()

    # -- what interviews, measures and reports read ----------------------------------------

    def wealth(self) -> np.ndarray:
        """Each trader's cash plus shares at current prices."""
        return self.cash + self.shares @ self.prices[-1]

    # -- the Environment contract ------------------------------------------------------------

    def observe(self, step: int) -> MarketObservation:
        social = self.platform.observe(step)
        rng = self.streams["market_activation"]
        traders = np.flatnonzero(rng.random(self.n_agents) < self.config.trade_rate)
        headlines = [s.text for s in self.config.shocks if s.step <= step and s.text]
        return MarketObservation(step, social, traders, self.kind, self.assets, self.topic,
                                 self.prices, self.fundamentals[-1], self.cash, self.shares,
                                 headlines)

    def apply(self, step: int, decision: ComposedDecision | None) -> StepRecord:
        record = self.platform.apply(step, decision.social if decision is not None else None)
        orders = decision.part.orders if decision is not None else OrderBatch.empty()
        orders = self._affordable(orders)
        price = self.prices[-1].copy()
        filled = np.zeros(len(orders))
        volume, herding = np.zeros(len(self.assets)), np.full(len(self.assets), np.nan)
        for a in range(len(self.assets)):
            rows = np.flatnonzero(orders.asset == a)
            auction = clear_auction(orders.side[rows], orders.limit[rows],
                                    orders.quantity[rows], price[a])
            filled[rows] = auction.filled
            price[a], volume[a] = auction.price, auction.volume
            side = orders.side[rows]
            herding[a] = lsv_herding(int((side > 0).sum()), int((side < 0).sum()))
        self._settle(orders, filled, price)
        self._feedback(price)
        self._move_fundamentals(step)
        self.prices = np.vstack([self.prices, price])
        self.volumes = np.vstack([self.volumes, volume])
        self.herding = np.vstack([self.herding, herding])
        expected = np.log(orders.limit / self.prices[-2][orders.asset])
        self.dispersion = np.append(self.dispersion, csad(expected))
        self._orders = orders
        if len(orders):
            record.add("orders", {
                "step": np.full(len(orders), step), "agent": orders.agent,
                "asset": orders.asset, "side": orders.side.astype(np.int64),
                "quantity": orders.quantity, "limit_price": orders.limit, "filled": filled,
                "price": price[orders.asset], "reason": orders.reason,
            })
        return record

    def _affordable(self, orders: OrderBatch) -> OrderBatch:
        """One order per trader and asset, sells capped by shares, buys by cash."""
        if not len(orders):
            return orders
        keys = orders.agent * len(self.assets) + orders.asset
        orders = orders.select(first_occurrence(keys) & (orders.limit > 0)
                               & np.isfinite(orders.limit) & (orders.quantity > 0))
        band = self.config.price_limit
        if band:
            reference = self.prices[-1][orders.asset]
            orders.limit = np.clip(orders.limit, reference * (1 - band), reference * (1 + band))
        quantity = orders.quantity.copy()
        sell = orders.side < 0
        quantity[sell] = np.minimum(quantity[sell], self.shares[orders.agent[sell],
                                                                orders.asset[sell]])
        buy = ~sell
        cost = np.bincount(orders.agent[buy], weights=quantity[buy] * orders.limit[buy],
                           minlength=self.n_agents)
        scale = np.minimum(1.0, np.divide(self.cash, cost, out=np.ones(self.n_agents),
                                          where=cost > 0))
        quantity[buy] *= scale[orders.agent[buy]]
        orders.quantity = quantity
        return orders.select(quantity > 1e-12)

    def _settle(self, orders: OrderBatch, filled: np.ndarray, price: np.ndarray) -> None:
        delta = orders.side * filled
        np.add.at(self.shares, (orders.agent, orders.asset), delta)
        self.cash -= np.bincount(orders.agent, weights=delta * price[orders.asset],
                                 minlength=self.n_agents)
        np.maximum(self.shares, 0.0, out=self.shares)  # rounding only: fills never exceed
        np.maximum(self.cash, 0.0, out=self.cash)

    def _feedback(self, price: np.ndarray) -> None:
        """Returns move attitudes on the assets' topics (``return_feedback``)."""
        weight = self.config.return_feedback
        if not weight:
            return
        attitude = self.platform.state.attitude
        change = weight * np.log(price / self.prices[-1])
        for topic in np.unique(self.topic):
            shift = change[self.topic == topic].mean()
            attitude[:, topic] = np.clip(attitude[:, topic] + shift, -1, 1)

    def _move_fundamentals(self, step: int) -> None:
        rng = self.streams["market_fundamental"]
        sd = np.array([a.fundamental_volatility for a in self.config.assets])
        log_value = np.log(self.fundamentals[-1]) + sd * rng.normal(size=len(sd))
        for shock in self.config.shocks:
            if shock.step == step:
                log_value[self.assets.index(shock.asset)] += shock.jump
        self.fundamentals = np.vstack([self.fundamentals, np.exp(log_value)])

    # -- measures ------------------------------------------------------------------------------

    def measure(self, step: int) -> dict[str, float]:
        out = self.platform.measure(step)
        price, value = self.prices[-1], self.fundamentals[-1]
        returns = log_returns(self.prices[-2:])[0]
        for a, name in enumerate(self.assets):
            out[f"price_{name}"] = float(price[a])
            out[f"fundamental_{name}"] = float(value[a])
            out[f"return_{name}"] = float(returns[a])
            out[f"volume_{name}"] = float(self.volumes[-1, a])
            out[f"mispricing_{name}"] = float(np.log(price[a] / value[a]))
        orders = self._orders
        out["orders"] = float(len(orders))
        out["buy_share"] = float((orders.side > 0).mean()) if len(orders) else float("nan")
        out["herding_lsv"] = _nanmean(self.herding[-1])
        out["order_csad"] = float(self.dispersion[-1])
        if len(self.assets) > 1:
            out["csad"] = csad(returns)
        out["wealth_gini"] = gini(self.wealth())
        return out

    def summary(self) -> dict[str, float]:
        out = self.platform.summary()
        mispricing = np.log(self.prices / self.fundamentals)
        bubble = np.abs(mispricing) > self.config.bubble_threshold
        for a, name in enumerate(self.assets):
            path = self.prices[:, a]
            out[f"final_price_{name}"] = float(path[-1])
            out[f"volatility_{name}"] = volatility(path)
            out[f"max_drawdown_{name}"] = max_drawdown(path)
            out[f"bubble_peak_{name}"] = float(mispricing[:, a].max())
            out[f"bubble_share_{name}"] = float(bubble[1:, a].mean()) if len(path) > 1 else 0.0
        out["volatility"] = float(np.mean([volatility(self.prices[:, a])
                                           for a in range(len(self.assets))]))
        out["max_drawdown"] = float(max(out[f"max_drawdown_{n}"] for n in self.assets))
        out["bubble_share"] = float(bubble[1:].mean()) if len(self.prices) > 1 else 0.0
        out["mispricing_abs_mean"] = float(np.abs(mispricing[1:]).mean()) \
            if len(self.prices) > 1 else 0.0
        out["volume_total"] = float(self.volumes.sum())
        out["herding_lsv"] = _nanmean(self.herding)
        out["order_csad"] = _nanmean(self.dispersion)
        out["wealth_gini_start"] = self.initial_gini
        out["wealth_gini"] = gini(self.wealth())
        return out

    # -- checkpoints ---------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {
            "platform": self.platform.get_state(), "kind": self.kind, "cash": self.cash,
            "shares": self.shares, "prices": self.prices, "fundamentals": self.fundamentals,
            "volumes": self.volumes, "herding": self.herding, "dispersion": self.dispersion,
            "initial_gini": self.initial_gini,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.platform.set_state(state["platform"])
        for name in ("kind", "cash", "shares", "prices", "fundamentals", "volumes", "herding",
                     "dispersion"):
            setattr(self, name, np.array(state[name]))
        self.initial_gini = float(state["initial_gini"])
        self._orders = OrderBatch.empty()


def _topic_index(platform: SocialPlatform, topic: str | None, i: int) -> int:
    if topic is None:
        return 0
    if topic not in platform.topic_index:
        raise UserError(f"environment.assets[{i}].topic '{topic}' is not one of "
                        f"population.topics {sorted(platform.topic_index)}")
    return platform.topic_index[topic]


def _nanmean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
