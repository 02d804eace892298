"""Interventions fire on schedule, hit their targets, and count their cost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from townsquare import Scenario, Simulation
from townsquare.schedules import Schedule


def scenario(tmp_path: Path, interventions: list[dict], **extra: object) -> Scenario:
    base = {"population.size": 2000, "steps": 10, "output_dir": str(tmp_path),
            "interventions": interventions}
    return Scenario.load("default").with_overrides(base | extra)


@pytest.mark.parametrize(("schedule", "due"), [
    ({"start": 3}, [3]),
    ({"start": 2, "every": 3}, [2, 5, 8]),
    ({"start": 1, "every": 2, "until": 6}, [1, 3, 5]),
])
def test_schedule_due_steps(schedule: dict, due: list[int]) -> None:
    when = Schedule(**schedule)
    assert [t for t in range(10) if when.due(t)] == due


def test_each_firing_is_recorded_with_its_cost(tmp_path: Path) -> None:
    run = Simulation(scenario(tmp_path, [
        {"kind": "debunk", "news": "rumour", "cost": 0.5, "when": {"start": 2, "every": 3},
         "target": {"share": 0.25}},
    ])).run()
    table = run.reader.query("SELECT * FROM interventions")
    assert table["step"].tolist() == [2, 5, 8]
    assert table["units"].between(350, 650).all()  # a quarter of 2000 agents, binomially
    assert np.allclose(table["cost"], 0.5 * table["units"])
    assert run.summary()["intervention_cost"] == pytest.approx(table["cost"].sum())
    metrics = run.metrics()
    assert metrics["cost_debunk_0"].iloc[-1] == pytest.approx(table["cost"].sum())


def test_debunk_lowers_belief_compared_with_no_intervention(tmp_path: Path) -> None:
    plain = Simulation(scenario(tmp_path, [])).run().metrics()
    debunked = Simulation(scenario(tmp_path, [
        {"kind": "debunk", "news": "rumour", "strength": 0.9, "when": {"start": 1, "every": 1}},
    ])).run().metrics()
    assert debunked["belief_rumour"].iloc[-1] < 0.5 * plain["belief_rumour"].iloc[-1]
    # the other story is untouched by construction of the random streams
    assert debunked["belief_report"].iloc[0] == pytest.approx(plain["belief_report"].iloc[0])


def test_suspended_accounts_stop_acting(tmp_path: Path) -> None:
    run = Simulation(scenario(tmp_path, [
        {"kind": "suspend", "when": {"start": 3},
         "target": {"sharers_of": "rumour", "top": 20}},
    ])).run()
    fired = run.reader.query("SELECT units FROM interventions")
    assert fired["units"].tolist() == [20]
    assert run.metrics()["suspended"].iloc[-1] == 20
    # the suspended agents: the rumour sharers with most followers at step 3
    events = run.events()
    posts = run.posts()
    early = posts[(posts["news"] == 0) & (posts["step"] <= 3)]["author"].unique()
    late = events[events["step"] > 3]["agent"].unique()
    followers = run.edges()["dst"].value_counts()
    assert len(set(early) - set(late)) >= 1
    assert followers.reindex(early).notna().any()


def test_remove_and_downrank_hide_or_sink_stories(tmp_path: Path) -> None:
    base = Simulation(scenario(tmp_path, [])).run().metrics()
    removed = Simulation(scenario(tmp_path, [
        {"kind": "remove", "content": {"news": ["rumour"]}, "when": {"start": 1}},
    ])).run().metrics()
    assert removed["reach_rumour"].iloc[-1] < base["reach_rumour"].iloc[-1]
    assert removed["reach_rumour"].iloc[-1] == removed["reach_rumour"].iloc[1]


def test_inject_post_and_feed_change_and_shock(tmp_path: Path) -> None:
    run = Simulation(scenario(tmp_path, [
        {"kind": "inject_post", "topic": "health", "text": "Official statement: water is safe",
         "stance": -0.8, "when": {"start": 4}},
        {"kind": "feed_change", "mix": {"random": 1.0}, "length": 5, "when": {"start": 5}},
        {"kind": "shock", "arousal": 0.5, "valence": -0.5, "when": {"start": 6}},
    ])).run()
    posts = run.posts()
    injected = posts[posts["text"] == "Official statement: water is safe"]
    assert len(injected) == 1 and injected["step"].iloc[0] == 4
    author = injected["author"].iloc[0]
    assert author == run.edges()["dst"].value_counts().idxmax()
    metrics = run.metrics()
    assert metrics["feed_length_mean"].loc[5:].max() <= 5
    assert metrics["arousal_mean"].loc[6] > metrics["arousal_mean"].loc[5] + 0.3


def test_prebunking_reduces_belief_in_the_false_item(tmp_path: Path) -> None:
    plain = Simulation(scenario(tmp_path, [])).run().metrics()
    inoculated = Simulation(scenario(tmp_path, [
        {"kind": "prebunk", "strength": 0.9, "when": {"start": 0}},
    ])).run().metrics()
    assert inoculated["belief_rumour"].iloc[-1] < 0.5 * plain["belief_rumour"].iloc[-1]


def test_interventions_must_name_known_news(tmp_path: Path) -> None:
    from townsquare.errors import ScenarioError

    with pytest.raises(ScenarioError, match="nonexistent"):
        scenario(tmp_path, [{"kind": "debunk", "news": "nonexistent"}])
