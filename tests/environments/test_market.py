"""The market environment: conservation, the classic chartist result, sentiment, LLM traders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from environment_helpers import llm_table, run
from fake_server import FakeLLMServer
from hypothesis import given, settings
from hypothesis import strategies as st

from statcheck import assert_mean_above, assert_mean_below, assert_paired_above
from townsquare import Scenario, Simulation
from townsquare.environments.market.llm import parse_trade
from townsquare.errors import UserError

QUIET = {"environment.shocks": [], "news": [], "checkpoint_every": 0,
         "snapshots.max_agents": 50}


def test_cash_and_shares_are_conserved_and_fills_respect_limits(tmp_path: Path) -> None:
    scenario = Scenario.load("market").with_overrides({
        "population.size": 300, "steps": 25, "output_dir": str(tmp_path), "checkpoint_every": 0,
        "news": [], "environment.shocks": [{"asset": "ACME", "step": 10, "jump": -0.3}]})
    sim = Simulation(scenario)
    market = sim.world.environment
    cash, shares = market.cash.sum(), market.shares.sum(axis=0)
    result = sim.run()
    assert market.cash.sum() == pytest.approx(cash, rel=1e-9)
    assert market.shares.sum(axis=0) == pytest.approx(shares, rel=1e-9)
    assert (market.cash >= 0).all() and (market.shares >= 0).all()
    orders = result.reader.query("SELECT * FROM orders")
    assert len(orders) > 1000 and (orders["filled"] > 0).mean() > 0.3
    traded = orders[orders["filled"] > 0]
    assert (traded["filled"] <= traded["quantity"] + 1e-9).all()
    assert (traded.query("side == 1")["limit_price"] >= traded.query("side == 1")["price"]
            - 1e-9).all()
    assert (traded.query("side == -1")["limit_price"] <= traded.query("side == -1")["price"]
            + 1e-9).all()
    net = (traded["side"] * traded["filled"]).groupby(traded["step"]).sum()
    assert np.allclose(net, 0.0, atol=1e-6)  # every share bought was sold
    prices = result.metrics()["price_ACME"]
    steps = orders.groupby("step")["price"].first()
    assert np.allclose(prices.loc[steps.index], steps)
    returns = np.diff(np.log(np.r_[100.0, prices.to_numpy()]))
    assert np.log(0.9) - 1e-9 <= returns.min() and returns.max() <= np.log(1.1) + 1e-9  # ±10%
    assert result.metrics()["fundamental_ACME"].iloc[12] < 0.8 * 100  # the shock hit value


def test_chartist_heavy_markets_are_more_volatile_than_fundamentalist_ones(
    tmp_path: Path,
) -> None:
    """Lux & Marchesi (1999): trend followers amplify swings; fundamentalists damp them."""
    arms = {"fundamentalist": {"fundamentalist": 0.7, "chartist": 0.1, "noise": 0.2},
            "chartist": {"fundamentalist": 0.1, "chartist": 0.7, "noise": 0.2}}
    results: dict[str, list[dict]] = {arm: [] for arm in arms}
    for seed in range(4):
        for arm, traders in arms.items():
            summary = run("market", tmp_path, {**QUIET, "population.size": 250, "steps": 50,
                                               "seed": seed,
                                               "environment.traders": traders}).summary()
            results[arm].append(summary)
    vol = {arm: np.array([s["volatility"] for s in rows]) for arm, rows in results.items()}
    drawdown = {arm: np.array([s["max_drawdown"] for s in rows]) for arm, rows in results.items()}
    bubbles = {arm: np.array([s["bubble_share"] for s in rows]) for arm, rows in results.items()}
    # paired by seed; on the log scale, so "1.5 times" is a difference
    assert_paired_above(np.log(vol["chartist"]), np.log(vol["fundamentalist"]), np.log(1.5))
    assert drawdown["chartist"].mean() > 2 * drawdown["fundamentalist"].mean()
    assert_paired_above(bubbles["chartist"], bubbles["fundamentalist"], 0.02)
    assert_mean_below(bubbles["fundamentalist"], 0.01)  # fundamentalists damp bubbles


def test_optimistic_news_on_the_platform_lifts_the_price(tmp_path: Path) -> None:
    """Sentiment spreads from posts into attitudes and from attitudes into orders."""
    gaps = []
    for seed in range(3):
        mean_price = {}
        for stance in (0.8, -0.8):
            news = [{"id": "story", "topic": "economy", "stance": stance, "text": "ACME news",
                     "step": 3, "seeders": 80}]
            metrics = run("market", tmp_path, {**QUIET, "population.size": 400, "steps": 30,
                                               "seed": seed, "news": news}).metrics()
            mean_price[stance] = metrics["price_ACME"].iloc[5:].mean()
        gaps.append(np.log(mean_price[0.8] / mean_price[-0.8]))
    assert_mean_above(gaps, 0.01)  # by more than 1%, over replicates


def test_the_price_lift_is_carried_by_sentiment_in_orders(tmp_path: Path) -> None:
    """docs/scenarios.md (market knock-outs): with sentiment_weight = 0 the same optimistic
    post no longer lifts the price; paired by seed."""
    news = [{"id": "story", "topic": "economy", "stance": 0.8, "text": "ACME news",
             "step": 3, "seeders": 80}]
    lift: dict[float, list[float]] = {0.1: [], 0.0: []}
    for seed in range(4):
        for weight in lift:
            price = {}
            for arm, items in (("post", news), ("quiet", [])):
                metrics = run("market", tmp_path, {
                    **QUIET, "population.size": 400, "steps": 30, "seed": seed, "news": items,
                    "environment.sentiment_weight": weight}).metrics()
                price[arm] = np.log(metrics["price_ACME"].to_numpy()[5:]).mean()
            lift[weight].append(price["post"] - price["quiet"])
    assert_paired_above(lift[0.1], lift[0.0])


def test_an_unknown_asset_topic_is_a_user_error(tmp_path: Path) -> None:
    scenario = Scenario.load("market").with_overrides({
        "output_dir": str(tmp_path), "environment.shocks": [],
        "environment.assets": [{"name": "X", "topic": "sport"}]})
    with pytest.raises(UserError, match=r"environment.assets\[0\].topic 'sport'"):
        Simulation(scenario)


def test_llm_traders_trade_through_the_llm_layer_and_replay_from_the_cache(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    overrides = {**QUIET, "population.size": 150, "steps": 6, "seed": 2,
                 "llm": llm_table(fake_server, tmp_path, fraction=0.3)}
    first = run("market", tmp_path / "a", overrides)
    calls = first.reader.query("SELECT * FROM llm_calls")
    trades = calls[calls["purpose"] == "trade"]
    assert len(trades) > 50 and trades["fault"].isna().all()
    assert first.summary()["llm_fallback_total"] == 0
    orders = first.reader.query("SELECT * FROM orders")
    llm_agents = set(first.agents().query("behavior == 'llm'")["agent"])
    by_model = orders[orders["reason"].notna()]
    assert len(by_model) > 20 and set(by_model["agent"]) <= llm_agents
    assert by_model["reason"].str.contains("ACME looks").all()
    assert (orders[orders["reason"].isna()]["agent"].isin(llm_agents)).sum() == 0
    sent = fake_server.requests
    again = run("market", tmp_path / "b", overrides)
    assert fake_server.requests == sent  # every request answered from the cache
    pd.testing.assert_frame_equal(orders, again.reader.query("SELECT * FROM orders"))


def test_failed_trade_requests_fall_back_to_the_heuristic(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.fail_fraction(1.0, "garbage")
    overrides = {**QUIET, "population.size": 100, "steps": 3,
                 "llm": llm_table(fake_server, tmp_path, fraction=0.5) | {
                     "cache": False, "max_fallback_share": 1.0, "max_run_fallback_share": 1.0}}
    result = run("market", tmp_path, overrides)
    calls = result.reader.query("SELECT * FROM llm_calls WHERE purpose LIKE 'trade%'")
    assert set(calls["purpose"]) == {"trade", "trade-repair"}  # one re-ask, then fallback
    decided = calls[calls["purpose"] == "trade"]
    assert (decided["fault"] == "malformed_json").all()
    summary = result.summary()
    assert summary["llm_fallback_total"] >= len(decided)
    orders = result.reader.query("SELECT * FROM orders")
    assert len(orders) > 0 and orders["reason"].isna().all()


def test_parse_trade_accepts_synonyms_and_rejects_nonsense() -> None:
    assets = ["ACME", "BOLT"]
    parsed = parse_trade({"orders": [{"asset": "acme", "action": "Purchase", "quantity": "5",
                                      "limit_price": 101.5},
                                     {"asset": "BOLT", "action": "sell", "quantity": 2,
                                      "limit": 9}], "reason": "why not"}, assets)
    assert parsed == ([(0, 1, 5.0, 101.5), (1, -1, 2.0, 9.0)], "why not")
    assert parse_trade({"orders": [{"asset": "ACME", "action": "hold", "quantity": 0,
                                    "limit_price": 1}], "reason": "wait"}, assets) == ([],
                                                                                       "wait")
    assert parse_trade({"action": "buy", "quantity": 3, "limit_price": 10}, ["ONE"])[0] == [
        (0, 1, 3.0, 10.0)]  # one order object, the only asset implied
    assert isinstance(parse_trade({"orders": [{"asset": "NOPE", "action": "buy",
                                               "quantity": 1, "limit_price": 1}]}, assets), str)
    assert isinstance(parse_trade({"thoughts": "hmm"}, assets), str)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["orders", "asset", "action", "quantity", "limit_price",
                                       "reason", "x"]), children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(["orders", "order", "action", "reason", "x"]),
                       json_values, max_size=4))
def test_parse_trade_never_raises_and_returns_valid_orders(data: dict) -> None:
    parsed = parse_trade(data, ["ACME"])
    if isinstance(parsed, str):
        return
    orders, _ = parsed
    for asset, side, quantity, limit in orders:
        assert asset == 0 and side in (1, -1) and quantity > 0 and limit > 0
