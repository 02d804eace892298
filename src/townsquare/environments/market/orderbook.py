"""A call auction (batch auction): all of a step's limit orders for one asset cleared at once.

Matching rule, as in the opening auctions of continuous markets (Euronext,
Xetra), vectorized over the candidate prices:

1. **Maximum volume.** For a price ``q``, demand ``D(q)`` is the quantity of
   buy orders with limit >= q and supply ``S(q)`` the quantity of sell
   orders with limit <= q; the executable volume is ``min(D, S)``. Only
   limit prices can be optimal, so they are the candidates.
2. **Minimum surplus** ``|D(q) - S(q)|`` among the maximum-volume prices.
3. **Closest to the reference price** (the last price): between two
   adjacent candidates that are both optimal every price is equally good, so
   the reference price itself is used when it lies in such a range.

At the clearing price every executable order trades at that one price,
with **price priority** on each side (better limits fill first) and
**pro-rata** fills among orders at the marginal limit. Quantities are real
numbers (fractional shares). Orders left unfilled expire: the book is
empty at the start of each step. Without a crossing (no buy limit at or
above a sell limit) nothing trades and the price stays at the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Auction:
    """The outcome of one call auction."""

    price: float  # clearing price (the reference price when nothing traded)
    volume: float  # shares traded
    filled: np.ndarray  # shares filled per order, in the order given
    best_bid: float  # highest buy limit (nan without buy orders)
    best_ask: float  # lowest sell limit (nan without sell orders)


def clear_auction(
    side: np.ndarray, limit: np.ndarray, quantity: np.ndarray, reference: float
) -> Auction:
    """Clear one asset's orders: ``side`` +1 buy / -1 sell, ``limit`` prices, ``quantity``."""
    side = np.asarray(side)
    limit = np.asarray(limit, dtype=np.float64)
    quantity = np.asarray(quantity, dtype=np.float64)
    live = quantity > 0
    buy, sell = live & (side > 0), live & (side < 0)
    best_bid = float(limit[buy].max()) if buy.any() else float("nan")
    best_ask = float(limit[sell].min()) if sell.any() else float("nan")
    filled = np.zeros(len(side))
    if not (buy.any() and sell.any()) or best_bid < best_ask:
        return Auction(float(reference), 0.0, filled, best_bid, best_ask)

    candidates = np.unique(limit[buy | sell])
    bid_sorted, bid_qty = _sorted(limit[buy], quantity[buy])
    ask_sorted, ask_qty = _sorted(limit[sell], quantity[sell])
    demand = bid_qty[-1] - bid_qty[np.searchsorted(bid_sorted, candidates, "left")]
    supply = ask_qty[np.searchsorted(ask_sorted, candidates, "right")]
    volume = np.minimum(demand, supply)
    surplus = np.abs(demand - supply)
    best = np.isclose(volume, volume.max(), rtol=1e-12, atol=0.0)
    best &= np.isclose(surplus, surplus[best].min(), rtol=1e-12, atol=1e-12)
    price = _nearest_in_runs(candidates, best, float(reference))
    executed = float(volume[best][0])

    eligible_buy = buy & (limit >= price)
    eligible_sell = sell & (limit <= price)
    filled[eligible_buy] = _allocate(-limit[eligible_buy], quantity[eligible_buy], executed)
    filled[eligible_sell] = _allocate(limit[eligible_sell], quantity[eligible_sell], executed)
    return Auction(price, executed, filled, best_bid, best_ask)


def _sorted(limits: np.ndarray, quantity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Limits ascending and the cumulative quantity up to each (with a leading 0)."""
    order = np.argsort(limits, kind="stable")
    return limits[order], np.concatenate([[0.0], np.cumsum(quantity[order])])


def _nearest_in_runs(candidates: np.ndarray, best: np.ndarray, reference: float) -> float:
    """The price closest to ``reference`` within runs of adjacent optimal candidates."""
    index = np.flatnonzero(best)
    breaks = np.flatnonzero(np.diff(index) > 1)
    low = candidates[index[np.concatenate([[0], breaks + 1])]]
    high = candidates[index[np.concatenate([breaks, [len(index) - 1]])]]
    proposals = np.clip(reference, low, high)
    return float(proposals[np.argmin(np.abs(proposals - reference))])


def _allocate(priority: np.ndarray, quantity: np.ndarray, volume: float) -> np.ndarray:
    """Fill ``volume`` over orders by ascending ``priority`` key, pro rata within a level."""
    levels, level_of = np.unique(priority, return_inverse=True)
    level_qty = np.bincount(level_of, weights=quantity, minlength=len(levels))
    before = np.cumsum(level_qty) - level_qty
    level_fill = np.clip(volume - before, 0.0, level_qty)
    ratio = np.divide(level_fill, level_qty, out=np.zeros(len(levels)), where=level_qty > 0)
    return quantity * ratio[level_of]
