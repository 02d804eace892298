"""The pieces the seed studies added: archetypes, recorded authors, uncivil replies, summaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from townsquare.core.actions import Action, ActionBatch
from townsquare.core.behavior import Decision
from townsquare.engine import Simulation
from townsquare.errors import ScenarioError
from townsquare.measure.summary import tie_strength_paradox
from townsquare.population.config import PopulationConfig
from townsquare.population.model import ROLES, sample_population
from townsquare.rng import RandomStreams
from townsquare.scenario import Scenario
from townsquare.scenario_types import Role
from townsquare.world import make_world

ARCHETYPES = [
    {"name": "calm", "share": 3.0, "leaning": -0.5},
    {"name": "troll", "share": 1.0, "leaning": 0.9, "leaning_spread": 0.05,
     "role": "commentator", "arousal": {"a": 8.0, "b": 2.0}, "description": "stirs things up"},
]


def test_archetypes_fix_shares_leaning_role_and_temperament() -> None:
    config = PopulationConfig(size=4000, archetypes=ARCHETYPES)
    pop = sample_population(config, np.random.default_rng(0))
    troll = pop.archetype == 1
    assert abs(troll.mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 4000)
    assert abs(pop.leaning[troll].mean() - 0.9) < 0.01
    assert abs(pop.leaning[~troll].mean() + 0.5) < 0.02
    assert (pop.role[troll] == ROLES.index(Role.COMMENTATOR)).all()
    assert np.isnan(pop.arousal_baseline[~troll]).all()
    assert abs(np.nanmean(pop.arousal_baseline[troll]) - 0.8) < 0.02
    frame = pop.to_frame()
    assert frame["archetype"].value_counts()["troll"] == troll.sum()
    agent = int(np.flatnonzero(troll)[0])
    assert "Archetype: troll (stirs things up)" in pop.persona_text(agent)


def test_archetype_names_must_be_unique() -> None:
    with pytest.raises(ScenarioError, match="archetype names must be unique"):
        Scenario.from_dict({"population": {"archetypes": [ARCHETYPES[0], ARCHETYPES[0]]}})


def test_recorded_authors_post_at_their_step(tmp_path: Path) -> None:
    scenario = Scenario.from_dict({
        "steps": 4, "checkpoint_every": 0, "population": {"size": 200},
        "news": [{"id": "rec", "topic": "health", "step": 2, "authors": [5, 17, 5],
                  "arousal": 0.9, "stance": 0.8}],
    })
    sim = Simulation(scenario, run_dir=tmp_path / "run")
    run = sim.run()
    posts = run.posts()
    roots = posts[(posts["news"] == 0) & (posts["kind"] == "post")]
    assert sorted(roots["author"]) == [5, 5, 17] and set(roots["step"]) == {2}
    content = sim.world.environment.content
    assert np.allclose(content.arousal[roots["post_id"].to_numpy()], 0.9)
    assert run.metrics()["reach_inflammatory"].iloc[-1] >= run.summary()["reach_rec"]


def test_authors_beyond_the_population_are_an_error() -> None:
    with pytest.raises(ScenarioError, match=r"news\[0\]\.authors names agent 200"):
        Scenario.from_dict({"population": {"size": 200},
                            "news": [{"id": "x", "topic": "health", "authors": [1, 200]}]})


def test_uncivil_replies_are_counted_and_flagged() -> None:
    scenario = Scenario.from_dict({
        "population": {"size": 50, "topics": ["politics"]},
        "platform": {"moderation": {"flag_uncivil": True}},
    })
    world = make_world(scenario, RandomStreams(0))
    platform = world.environment
    platform.observe(0)
    post = ActionBatch.build(np.array([0]), Action.POST, topic=0, stance=-0.9)
    platform.apply(0, Decision(post))
    state = platform.state
    state.attitude[[1, 2, 3], 0] = [0.9, 0.9, -0.8]
    state.arousal[[1, 2, 3]] = [0.8, 0.3, 0.9]  # angry and far, calm and far, angry and close
    platform.observe(1)
    replies = ActionBatch.build(np.array([1, 2, 3]), Action.COMMENT, post=0, topic=0)
    platform.apply(1, Decision(replies))
    metrics = platform.measure(1)
    assert metrics["uncivil_replies"] == 1 and metrics["uncivil_share"] == pytest.approx(1 / 3)
    flags = platform.content.flags
    assert flags.tolist() == [0, 1, 0, 0]  # the post, then the three replies
    assert platform.summary()["uncivil_share"] == pytest.approx(1 / 3)


def test_debunk_memory_inoculates_those_reached(tmp_path: Path) -> None:
    scenario = Scenario.from_dict({
        "steps": 1, "population": {"size": 100},
        "news": [{"id": "fake", "topic": "health", "veracity": "false"}],
        "interventions": [{"kind": "debunk", "news": "fake", "memory": 0.3,
                           "target": {"leaning_min": 0.0}}],
    })
    sim = Simulation(scenario, run_dir=tmp_path / "run")
    sim.run()
    platform = sim.world.environment
    reached = platform.population.leaning >= 0
    assert np.allclose(platform.state.inoculation[reached], 0.3)
    assert np.allclose(platform.state.inoculation[~reached], 0.0)


class _Interactions:
    """A stand-in run store answering the interaction query with fixed pair counts."""

    def __init__(self, pairs: dict[tuple[int, int], int]) -> None:
        self.frame = pd.DataFrame([(s, d, n) for (s, d), n in pairs.items()],
                                  columns=["src", "dst", "n"])

    def query(self, sql: str) -> pd.DataFrame:
        return self.frame


def test_tie_strength_paradox_on_a_known_graph() -> None:
    src = np.array([0, 1, 2, 3, 0])
    dst = np.array([3, 3, 3, 0, 1])
    # interactions per tie: 5, 0, 2, 1, 0 -> median 1: weak ties 1->3, 3->0, 0->1
    reader = _Interactions({(0, 3): 5, (2, 3): 2, (3, 0): 1, (2, 1): 7})
    out = tie_strength_paradox(reader, src, dst, 4)  # type: ignore[arg-type]
    # followers: 0:1, 1:1, 2:0, 3:3. Weak: 1 (1 < 3) yes, 3 (3 < 1) no, 0 (1 < 1) no.
    assert out["paradox_weak_ties"] == pytest.approx(1 / 3)
    # strong: 0 (1 < 3) yes, 2 (0 < 3) yes
    assert out["paradox_strong_ties"] == pytest.approx(1.0)
    assert out["weak_tie_share"] == pytest.approx(3 / 5)


def test_summary_averages_believers_and_totals_engagement(tmp_path: Path) -> None:
    scenario = Scenario.load("fake-news-attitudes").with_overrides(
        {"population.size": 300, "steps": 6, "checkpoint_every": 0})
    run = Simulation(scenario, run_dir=tmp_path / "run").run()
    metrics, summary = run.metrics(), run.summary()
    assert summary["avg_believers_fake"] == pytest.approx(metrics["believers_fake"].mean())
    engaged = metrics[["n_like", "n_repost", "n_quote", "n_comment"]].to_numpy().sum()
    assert summary["total_engagement"] == engaged
    assert summary["valence_mean_min"] == pytest.approx(metrics["valence_mean"].min())
