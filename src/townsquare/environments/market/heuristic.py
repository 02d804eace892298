"""Heuristic traders: fundamentalists, chartists and noise traders, vectorized.

The classic heterogeneous-agent market (Lux & Marchesi 1999; Chiarella,
Iori & Perelló 2009). Each active trader forms an expected log return per
asset:

* fundamentalist: ``phi * log(F / p)`` — the price returns to value;
* chartist: ``chi * (log p_t - log p_{t-L}) / L`` — the recent trend goes on;
* noise: ``N(0, noise_sd)``;

chartists and noise traders also add ``value_anchor`` times the
fundamentalist's expectation (mixed strategies, Chiarella, Iori & Perelló
2009), so a bubble ends once the mispricing outweighs the trend;

plus, for everyone, ``sentiment_weight * attitude`` on the asset's topic on
the social platform (how news and posts move prices) and ``N(0,
belief_noise)``. The trader then sends one limit order per asset at its
reservation price ``p * exp(expected return)``: a buy when it expects a
rise (committing up to ``order_fraction`` of its cash, split over assets),
a sell when it expects a fall (up to ``order_fraction`` of its shares),
the committed share growing with ``|expected return| / return_scale``.
"""

from __future__ import annotations

import numpy as np

from townsquare.core.behavior import BaseBehavior
from townsquare.environments.market.actions import MarketObservation, OrderBatch, TradeDecision
from townsquare.environments.market.config import TRADER_KINDS, MarketConfig

FUNDAMENTALIST, CHARTIST, NOISE = (TRADER_KINDS.index(k) for k in TRADER_KINDS)


class HeuristicTraders(BaseBehavior):
    """Rule-based traders (see the module docstring)."""

    def __init__(self, config: MarketConfig) -> None:
        self.config = config

    def decide(self, obs: MarketObservation, rng: np.random.Generator) -> TradeDecision:
        agents = np.asarray(obs.traders, np.int64)
        if len(agents) == 0:
            return TradeDecision(OrderBatch.empty())
        expected = self.expected_returns(obs, agents, rng)
        return TradeDecision(self.orders(obs, agents, expected))

    def expected_returns(
        self, obs: MarketObservation, agents: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """(agents, assets) expected log return of each trader for each asset."""
        c = self.config
        log_prices = np.log(obs.prices[-(c.chartist_window + 1):])
        trend = (log_prices[-1] - log_prices[0]) / max(len(log_prices) - 1, 1)
        mispricing = np.log(obs.fundamental) - log_prices[-1]
        kind = obs.kind[agents][:, None]
        shape = (len(agents), len(obs.assets))
        noise = rng.normal(0.0, 1.0, shape)
        anchor = np.where(kind == FUNDAMENTALIST, 1.0, c.value_anchor)
        expected = anchor * c.fundamentalist_strength * mispricing
        expected += np.where(kind == CHARTIST, c.chartist_strength * trend, 0.0)
        expected += np.where(kind == NOISE, c.noise_sd * noise, 0.0)
        expected += c.sentiment_weight * obs.sentiment(agents)
        expected += c.belief_noise * rng.normal(0.0, 1.0, shape)
        return expected

    def orders(
        self, obs: MarketObservation, agents: np.ndarray, expected: np.ndarray
    ) -> OrderBatch:
        """One limit order per (trader, asset) at the reservation price ``p exp(e)``."""
        c = self.config
        n_assets = len(obs.assets)
        who = np.repeat(agents, n_assets)
        asset = np.tile(np.arange(n_assets), len(agents))
        e = expected.ravel()
        side = np.where(e > 0, 1, -1)
        limit = obs.price[asset] * np.exp(e)
        commit = c.order_fraction * np.minimum(1.0, np.abs(e) / c.return_scale)
        budget = obs.cash[who] / n_assets
        quantity = np.where(side > 0, commit * budget / limit, commit * obs.shares[who, asset])
        live = (quantity > 1e-9) & (e != 0)
        return OrderBatch.build(who[live], asset[live], side[live], quantity[live], limit[live])
