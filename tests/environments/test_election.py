"""The election: campaigns shift the vote their way, polls track the result, LLM voters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from environment_helpers import llm_table, run
from fake_server import FakeLLMServer

from statcheck import assert_mean_below, assert_paired_above
from townsquare import Scenario, Simulation
from townsquare.environments.election.llm import parse_vote
from townsquare.errors import ScenarioError, UserError

SMALL = {"population.size": 1500, "steps": 30, "checkpoint_every": 0,
         "snapshots.max_agents": 100, "environment.benchmark": {},
         "environment.polls": [{"steps": [0, 10, 20, 28], "sample": 400}]}
CAMPAIGN = [{"id": "right-ad", "topic": "politics", "stance": 0.4, "text": "Vote right.",
             "step": 3, "seeders": 75},
            {"id": "right-rally", "topic": "politics", "stance": 0.5, "text": "Rally!",
             "step": 12, "seeders": 75}]


@pytest.fixture(scope="module")
def arms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """Eight replicates of the campaign and of the same election without it."""
    folder = tmp_path_factory.mktemp("election")
    out: dict[str, list] = {"campaign": [], "control": []}
    for seed in range(8):
        out["campaign"].append(run("election", folder, {**SMALL, "seed": seed,
                                                        "news": CAMPAIGN}))
        out["control"].append(run("election", folder, {**SMALL, "seed": seed, "news": [],
                                                       "environment.campaigns": {}}))
    return out


def test_campaign_exposure_shifts_the_vote_toward_its_party(arms: dict[str, list]) -> None:
    treated = np.array([r.summary()["vote_share_right"] for r in arms["campaign"]])
    control = np.array([r.summary()["vote_share_right"] for r in arms["control"]])
    # paired by seed: same population, network and tastes in both arms
    assert_paired_above(treated, control)
    # and the campaign arm swings right from where it started more than the control arm does
    swing = {arm: [r.summary()["swing_right"] for r in runs] for arm, runs in arms.items()}
    assert_paired_above(swing["campaign"], swing["control"])


@pytest.mark.parametrize("knockout", [{"environment.campaign_weight": 0.0},
                                      {"behavior.convergence": 0.0}])
def test_the_campaign_moves_the_vote_through_either_channel_alone(
    knockout: dict[str, float], tmp_path: Path,
) -> None:
    """docs/scenarios.md (election knock-outs): the swing is emergent — with belief in the
    campaign's items out of the vote, or with attitudes fixed, it remains (paired by seed)."""
    share = {"campaign": [], "control": []}
    for seed in range(5):
        base = {**SMALL, **knockout, "seed": seed, "environment.polls": []}
        share["campaign"].append(run("election", tmp_path, {**base, "news": CAMPAIGN})
                                 .summary()["vote_share_right"])
        share["control"].append(run("election", tmp_path, {
            **base, "news": [], "environment.campaigns": {}}).summary()["vote_share_right"])
    assert_paired_above(share["campaign"], share["control"])


def test_polls_track_the_result_and_improve_toward_election_day(arms: dict[str, list]) -> None:
    last = [r.summary()["poll_error_mae"] for r in arms["campaign"]]
    first = [r.summary()["poll_error_first"] for r in arms["campaign"]]
    assert_mean_below(last, 0.05)  # sampling error of 400 respondents is about 0.025
    assert np.mean(first) > np.mean(last)  # the campaign moved opinion after the first poll


def test_polls_are_surveys_and_the_ballots_are_recorded(arms: dict[str, list]) -> None:
    result = arms["campaign"][0]
    answers = result.survey_answers()
    assert set(answers["survey"]) == {"poll"} and set(answers["question"]) == {"vote"}
    assert answers.groupby("step").size().to_dict() == {0: 400, 10: 400, 20: 400, 28: 400}
    assert set(answers["answer"]) == {"left", "right"}
    assert (answers["value"] == answers["answer"].map({"left": 0, "right": 1})).all()
    ballots = result.reader.query("SELECT * FROM votes")
    assert len(ballots) == 1500 and set(ballots["step"]) == {29}
    share = (ballots["party"] == 1).mean()
    assert result.summary()["vote_share_right"] == pytest.approx(share)
    metrics = result.metrics()
    assert metrics["poll_right"].notna().sum() == 4
    assert metrics["vote_share_right"].iloc[-1] == pytest.approx(share)


def test_vote_error_against_the_benchmark(tmp_path: Path) -> None:
    result = run("election", tmp_path, {**SMALL, "steps": 12, "news": [],
                                        "environment.campaigns": {},
                                        "environment.benchmark": {"left": 0.5, "right": 0.5}})
    summary = result.summary()
    expected = abs(summary["vote_share_left"] - 0.5)  # both parties are off by the same
    assert summary["vote_error_mae"] == pytest.approx(expected)
    assert summary["vote_error_max"] == pytest.approx(expected)


def test_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"benchmark names unknown party \['centre'\]"):
        Scenario.load("election").with_overrides({"environment.benchmark": {"centre": 0.2}})
    scenario = Scenario.load("election").with_overrides({
        "output_dir": str(tmp_path), "environment.campaigns": {"missing": "left"}})
    with pytest.raises(UserError, match=r"campaigns names news item\(s\) \['missing'\]"):
        Simulation(scenario)


def test_llm_voters_answer_polls_and_vote(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    result = run("election", tmp_path, {
        **SMALL, "population.size": 200, "steps": 18, "news": CAMPAIGN,
        "environment.polls": [{"steps": [5, 15], "sample": 50}],
        "llm": llm_table(fake_server, tmp_path, fraction=0.2)})
    calls = result.reader.query("SELECT step, COUNT(*) AS n FROM llm_calls "
                                "WHERE purpose = 'vote' GROUP BY step")
    llm_agents = set(result.agents().query("behavior == 'llm'")["agent"])
    assert len(llm_agents) == 40
    assert calls.set_index("step")["n"].get(17) == 40  # every LLM agent votes
    assert set(calls["step"]) <= {5, 15, 17}
    ballots = result.reader.query("SELECT * FROM votes")
    explained = ballots[ballots["reason"].notna()]
    assert set(explained["agent"]) == llm_agents
    assert explained["reason"].str.contains("closest to what I care about").all()
    assert result.summary()["llm_fallback_total"] == 0


def test_parse_vote() -> None:
    assert parse_vote({"vote": " Right ", "reason": "taxes"}, ["left", "right"]) == (1, "taxes")
    assert parse_vote({"party": "left"}, ["left", "right"]) == (0, None)
    assert isinstance(parse_vote({"vote": "green"}, ["left", "right"]), str)
    assert isinstance(parse_vote({}, ["left", "right"]), str)
