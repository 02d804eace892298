"""The call auction: exact clearing on small books, and its invariants on random books."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.environments.market.orderbook import clear_auction

BUY, SELL = 1, -1


def test_one_buyer_one_seller_trade_the_smaller_quantity_at_the_reference_in_between() -> None:
    auction = clear_auction([BUY, SELL], [105.0, 95.0], [10.0, 4.0], reference=100.0)
    assert auction.price == 100.0  # both limits clear 4 shares; the reference lies between
    assert auction.volume == 4.0
    assert auction.filled.tolist() == [4.0, 4.0]
    assert (auction.best_bid, auction.best_ask) == (105.0, 95.0)


def test_reference_outside_the_optimal_range_is_moved_to_its_nearest_end() -> None:
    auction = clear_auction([BUY, SELL], [105.0, 95.0], [4.0, 4.0], reference=120.0)
    assert auction.price == 105.0


def test_excess_demand_pushes_the_price_to_the_marginal_buyer() -> None:
    # Buyers: 5 @ 103, 5 @ 102, 5 @ 101; one seller of 5 @ 99. Volume is 5 at any
    # price up to 103; the surplus D - S is smallest (0) at 103, where only the
    # top buyer is left.
    side = [BUY, BUY, BUY, SELL]
    auction = clear_auction(side, [101.0, 102.0, 103.0, 99.0], [5.0, 5.0, 5.0, 5.0], 100.0)
    assert auction.price == 103.0
    assert auction.filled.tolist() == [0.0, 0.0, 5.0, 5.0]


def test_price_priority_then_pro_rata_at_the_marginal_limit() -> None:
    # Supply 8 at <= 100. Demand at 100: 4 (limit 110) + 6 + 12 (limit 100) = 22.
    # Above 100 only 4 is demanded, so the price is 100 with volume 8: the better
    # buyer fills 4, the two marginal ones share the other 4 pro rata (1 : 2).
    side = [BUY, BUY, BUY, SELL]
    limit = [110.0, 100.0, 100.0, 90.0]
    quantity = [4.0, 6.0, 12.0, 8.0]
    auction = clear_auction(side, limit, quantity, reference=100.0)
    assert auction.price == 100.0 and auction.volume == 8.0
    assert np.allclose(auction.filled, [4.0, 4.0 / 3.0, 8.0 / 3.0, 8.0])


def test_no_crossing_or_one_side_means_no_trade_at_the_reference() -> None:
    apart = clear_auction([BUY, SELL], [99.0, 101.0], [5.0, 5.0], reference=100.0)
    assert apart.volume == 0.0 and apart.price == 100.0 and not apart.filled.any()
    buyers_only = clear_auction([BUY, BUY], [99.0, 101.0], [5.0, 5.0], reference=100.0)
    assert buyers_only.volume == 0.0 and np.isnan(buyers_only.best_ask)
    empty = clear_auction([], [], [], reference=50.0)
    assert empty.price == 50.0 and len(empty.filled) == 0


def _executable_volume(side: np.ndarray, limit: np.ndarray, qty: np.ndarray, q: float) -> float:
    demand = qty[(side > 0) & (limit >= q)].sum()
    supply = qty[(side < 0) & (limit <= q)].sum()
    return float(min(demand, supply))


books = st.lists(
    st.tuples(st.sampled_from([BUY, SELL]),
              st.integers(90, 110).map(float),  # few distinct prices: many ties
              st.floats(0.5, 20.0, allow_nan=False)),
    min_size=0, max_size=40,
)


@settings(max_examples=50, deadline=None)
@given(books, st.floats(80.0, 120.0))
def test_auction_invariants_on_random_books(book: list, reference: float) -> None:
    side = np.array([b[0] for b in book], np.int8)
    limit = np.array([b[1] for b in book])
    qty = np.array([b[2] for b in book])
    auction = clear_auction(side, limit, qty, reference)
    filled = auction.filled
    buys, sells = side > 0, side < 0
    # both sides trade the same volume, never more than ordered, never against their limit
    assert filled[buys].sum() == pytest.approx(auction.volume, abs=1e-9)
    assert filled[sells].sum() == pytest.approx(auction.volume, abs=1e-9)
    assert np.all(filled <= qty + 1e-9) and np.all(filled >= 0)
    assert np.all(limit[buys & (filled > 0)] >= auction.price - 1e-12)
    assert np.all(limit[sells & (filled > 0)] <= auction.price + 1e-12)
    # the volume is the largest executable at any price
    candidates = np.unique(limit) if len(limit) else np.array([reference])
    best = max(_executable_volume(side, limit, qty, q) for q in candidates)
    assert auction.volume == pytest.approx(best, abs=1e-9)
    if auction.volume == 0:
        assert auction.price == reference
