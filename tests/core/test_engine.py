"""The engine end to end: determinism, what lands in the store, the Python API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from townsquare import Run, Scenario, Simulation, __version__
from townsquare.core.actions import Action


def small(tmp_path: Path, **overrides: object) -> Scenario:
    base = {"population.size": 1500, "steps": 8, "output_dir": str(tmp_path)}
    return Scenario.load("default").with_overrides(base | overrides)


def run_events(scenario: Scenario) -> pd.DataFrame:
    return Simulation(scenario).run().events()


def test_same_seed_same_event_log_different_seed_different(tmp_path: Path) -> None:
    first = run_events(small(tmp_path, seed=11))
    second = run_events(small(tmp_path, seed=11))
    other = run_events(small(tmp_path, seed=12))
    assert len(first) > 100
    pd.testing.assert_frame_equal(first, second)
    assert not first.equals(other)


def test_run_database_holds_scenario_version_and_every_table(tmp_path: Path) -> None:
    scenario = small(tmp_path)
    run = Simulation(scenario).run()
    meta = run.meta()
    assert meta["version"] == __version__
    assert meta["status"] == "completed"
    assert Scenario.from_toml(meta["scenario_toml"]) == scenario
    assert run.scenario() == scenario
    agents = run.agents()
    assert len(agents) == 1500 and {"leaning", "role", "activity"} <= set(agents.columns)
    assert len(run.edges()) > 1500
    posts = run.posts()
    assert {"post_id", "author", "parent", "root", "topic", "stance", "veracity", "text",
            "step"} <= set(posts.columns)
    news_posts = posts[posts["news"] >= 0]
    assert (news_posts["text"].notna()).any()
    metrics = run.metrics()
    assert list(metrics.index) == list(range(8))
    assert {"reach_rumour", "believers_report", "attitude_mean"} <= set(metrics.columns)
    assert len(run.attitudes()) == 8 * 1500 * 4  # every agent, every topic, every step
    assert len(run.beliefs()) == 8 * 1500 * 2


def test_events_reference_real_posts_and_reposts_have_parents(tmp_path: Path) -> None:
    run = Simulation(small(tmp_path)).run()
    events, posts = run.events(), run.posts()
    engaged = events[events["action"].isin(["like", "repost", "quote", "comment", "flag"])]
    assert engaged["post"].isin(posts["post_id"]).all()
    shares = posts[posts["kind"].isin(["repost", "quote", "comment"])]
    assert (shares["parent"] >= 0).all()
    roots = posts.set_index("post_id")["root"]
    assert (roots.loc[shares["parent"]].to_numpy() == shares["root"].to_numpy()).all()
    # an agent shares a story at most once
    reposts = posts[posts["kind"].isin(["repost", "quote"])]
    assert not reposts.duplicated(["author", "root"]).any()


def test_snapshots_are_sampled_when_large(tmp_path: Path) -> None:
    run = Simulation(small(tmp_path, **{"snapshots.max_agents": 100,
                                        "snapshots.every": 4})).run()
    att = run.attitudes()
    assert sorted(att["step"].unique()) == [0, 4]
    assert att.groupby("step")["agent"].nunique().tolist() == [100, 100]


def test_open_latest_and_cascades(tmp_path: Path) -> None:
    Simulation(small(tmp_path)).run()
    run = Run.open("latest", tmp_path)
    cascades = run.cascades()
    assert cascades["size"].sum() == len(run.posts())
    assert run.summary()["largest_cascade"] == cascades["size"].max()


def test_disabled_actions_are_not_taken(tmp_path: Path) -> None:
    run = Simulation(small(tmp_path, **{"platform.actions": ["post", "like"]})).run()
    assert set(run.events()["action"].unique()) <= {"post", "like"}


def test_fact_checks_label_what_checkers_rate_false(tmp_path: Path) -> None:
    """Perfect checkers label only false items; careless ones label true items too."""
    perfect = small(tmp_path, **{"platform.moderation.strategy": "fact_check",
                                 "platform.moderation.fact_check_coverage": 1.0,
                                 "platform.moderation.fact_check_sensitivity": 1.0,
                                 "platform.moderation.fact_check_false_positive": 0.0,
                                 "platform.moderation.match_false_positive": 0.0,
                                 "platform.moderation.fact_check_delay": 2})
    run = Simulation(perfect).run()
    labels = run.labels()
    assert len(labels) > 0 and labels["step"].min() == 2
    labelled_posts = run.posts().set_index("post_id").loc[labels["post"]]
    assert (labelled_posts["veracity"] == 2).all()
    assert run.summary()["labels_on_true"] == 0 and run.summary()["label_precision"] == 1.0
    # a fact check is paid when it is done: every item rated, none before the delay
    checks = run.metrics()["moderation_fact_checks"]
    assert (checks.loc[:1] == 0).all() and checks.iloc[-1] == len(perfect.news)
    careless = perfect.with_overrides({"platform.moderation.fact_check_false_positive": 1.0})
    run = Simulation(careless).run()
    labelled = run.posts().set_index("post_id").loc[run.labels()["post"], "veracity"]
    assert (labelled == 1).sum() == run.summary()["labels_on_true"] > 0  # true stories labelled
    assert run.summary()["label_precision"] < 1.0


@pytest.mark.parametrize("model", ["independent_cascade", "sir", "linear_threshold"])
def test_classic_models_record_cascades(tmp_path: Path, model: str) -> None:
    scenario = Scenario.from_dict({
        "steps": 15, "output_dir": str(tmp_path), "population": {"size": 2000},
        "network": {"kind": "barabasi_albert", "m": 3},
        "behavior": {"model": model, "seeds": 5},
    })
    run = Simulation(scenario).run()
    posts = run.posts()
    assert (posts["kind"] == "post").sum() == 5
    adopters = posts["author"].nunique()
    final = run.summary()["final_size"]
    assert adopters == pytest.approx(final * 2000)
    events = run.events()
    assert set(events["action"].unique()) <= {"post", "repost"}


def test_action_codes_are_stable() -> None:
    # the store keeps actions as integers: renumbering would corrupt old runs
    assert [a.value for a in Action] == list(range(9))
    assert Action.REPOST == 2 and Action.FLAG == 6
    assert np.int8(Action.UNFOLLOW) == 8
