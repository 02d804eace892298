"""The commons (GovSim): exact logistic dynamics, greed collapses it, discussion saves it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from environment_helpers import llm_table, run
from fake_server import FakeLLMServer

from statcheck import assert_mean_above, assert_mean_below, assert_paired_above
from townsquare import Scenario, Simulation
from townsquare.environments.commons.environment import regrow
from townsquare.environments.commons.llm import parse_harvest
from townsquare.errors import UserError
from townsquare.experiments.sweep import Sweep


def test_informed_agents_take_only_what_grew_back_so_the_stock_holds(tmp_path: Path) -> None:
    """Everyone taking half and everyone reading the lake: after the first catch each round takes
    exactly the observed regrowth, which keeps the stock where the first catch left it."""
    result = run("commons", tmp_path, {"population.size": 20, "steps": 12,
                                       "environment.greed": {"a": 50.0, "b": 50.0},
                                       "environment.attention": 1.0})
    metrics = result.metrics()
    stock = metrics["stock"].to_numpy()
    harvest = metrics["total_harvest"].to_numpy()
    grown = stock[0] - (1000.0 - harvest[0])  # what grew back after the first catch
    assert harvest[0] > 400.0  # half the stock, before anyone has seen the lake fall
    assert np.allclose(stock, stock[0])  # the replacement catch holds the stock
    assert np.allclose(harvest[1:], grown)
    summary = result.summary()
    assert summary["survived"] == 1.0 and summary["survival_time"] == 12
    assert metrics["informed_share"].iloc[-1] == 1.0
    harvests = result.reader.query("SELECT * FROM harvests")
    assert len(harvests) == 20 * 12
    assert np.allclose(harvests.groupby("step")["harvest"].sum(), harvest)


def test_nobody_reads_the_lake_so_talk_changes_nothing(tmp_path: Path) -> None:
    """With attention 0 the norm is only the mean intention: conformity moves catches
    toward it but leaves the total (and so the stock) unchanged."""
    stocks = [run("commons", tmp_path, {"steps": 15, "environment.attention": 0.0,
                                        "environment.conformity": c}).metrics()["stock"]
              for c in (0.0, 0.9)]
    assert np.allclose(stocks[0], stocks[1])


def test_regrowth_is_logistic() -> None:
    assert regrow(500.0, 1.0, 1000.0) == pytest.approx(750.0)
    assert regrow(1000.0, 0.7, 1000.0) == pytest.approx(1000.0)
    assert regrow(100.0, 2.0, 1000.0) == pytest.approx(100 + 2 * 100 * 0.9)


def test_greedier_communities_collapse_sooner(tmp_path: Path) -> None:
    """Over replicates, run as an ordinary sweep of the experiments layer."""
    greed = {"environment.greed.a": [1.0, 9.0], "environment.greed.b": [3.0],  # mean 1/4, 3/4
             "environment.conformity": [0.0]}  # no talk
    results = Sweep("commons", greed, replicates=5, workers=1, out=tmp_path, seed=11).run()
    assert len(results) == 10 and set(results["survival_time"]) <= set(range(61))
    by_arm = results.groupby("param_environment_greed_a")["survival_time"]
    modest, greedy = by_arm.get_group(1.0), by_arm.get_group(9.0)
    # paired by replicate (a sweep's common random numbers)
    assert_paired_above(modest.to_numpy(), greedy.to_numpy(), 30)
    assert_mean_above(modest, 55)  # modest communities survive (nearly) the 60 rounds
    assert_mean_below(greedy, 15)  # greedy ones collapse, soon


def test_discussion_spreading_what_the_lake_shows_saves_a_greedy_community(
    tmp_path: Path,
) -> None:
    """GovSim's ablation: without communication the society collapses. Nobody is told the
    sustainable catch; talk spreads the replacement rule of those who saw the stock fall."""
    outcome = {}
    for conformity in (0.0, 0.8):
        outcome[conformity] = [run("commons", tmp_path, {
            "seed": seed, "steps": 40, "environment.greed": {"a": 7.0, "b": 3.0},
            "environment.conformity": conformity}).summary() for seed in range(4)]
    survived = {c: [s["survived"] for s in rows] for c, rows in outcome.items()}
    assert_paired_above(survived[0.8], survived[0.0], 0.5)  # paired by seed
    assert_mean_above([s["mean_stock_share"] for s in outcome[0.8]], 0.08)


def test_listening_only_to_followees_works_on_the_network(tmp_path: Path) -> None:
    summary = run("commons", tmp_path, {"steps": 20, "environment.discussion": "followees",
                                        "environment.conformity": 0.8}).summary()
    assert summary["survived"] == 1.0 and 0 < summary["harvest_gini"] < 0.5


def test_platform_only_sections_are_refused(tmp_path: Path) -> None:
    scenario = Scenario.load("commons").with_overrides({"output_dir": str(tmp_path), "news": [
        {"id": "n", "topic": "economy", "text": "x"}]})
    with pytest.raises(UserError, match="no social platform; remove news"):
        Simulation(scenario)


def test_llm_fishers_discuss_and_harvest_through_the_llm_layer(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    result = run("commons", tmp_path, {"population.size": 12, "steps": 6,
                                       "llm": llm_table(fake_server, tmp_path, fraction=0.5)})
    calls = result.reader.query("SELECT * FROM llm_calls")
    assert set(calls["purpose"]) == {"harvest"} and len(calls) == 6 * 6
    harvests = result.reader.query("SELECT * FROM harvests")
    spoken = harvests[harvests["message"].notna()]
    assert len(spoken) == 36 and spoken["message"].str.contains("keep the lake alive").all()
    assert set(spoken["agent"]) == set(result.agents().query("behavior == 'llm'")["agent"])
    assert result.summary()["llm_fallback_total"] == 0


def test_llm_prompts_carry_last_rounds_discussion(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.record_payloads = True
    run("commons", tmp_path, {"population.size": 8, "steps": 3,
                              "llm": llm_table(fake_server, tmp_path, fraction=0.25)})
    users = [p["messages"][-1]["content"] for p in fake_server.payloads]
    assert any("nobody has spoken yet" in u for u in users)
    assert any('<message from="member' in u and "keep the lake alive" in u for u in users)
    assert all("Sustainable catch per person this month" in u for u in users)


def test_parse_harvest() -> None:
    assert parse_harvest({"harvest": "12.5", "message": "hi", "reason": "r"}) == (12.5, "hi", "r")
    assert parse_harvest({"catch": 3}) == (3.0, None, None)
    assert isinstance(parse_harvest({"harvest": -1}), str)
    assert isinstance(parse_harvest({"message": "no number"}), str)
