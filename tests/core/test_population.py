"""Personas: sampling follows the scenario's distributions; files load or fail clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_population_fuzz import check_loaded

from townsquare.errors import DataError
from townsquare.population.config import PopulationConfig
from townsquare.population.model import ROLES, AgentState, load_population, sample_population
from townsquare.scenario_types import Role

TOPICS = ["politics", "health"]


def test_sampled_columns_follow_the_configured_distributions() -> None:
    config = PopulationConfig(size=40_000, topics=TOPICS, roles={Role.SPREADER: 0.25,
                              Role.BYSTANDER: 0.75})
    pop = sample_population(config, np.random.default_rng(1))
    assert pop.n == 40_000
    assert pop.activity.mean() == pytest.approx(config.activity.mean, abs=0.005)
    assert pop.susceptibility.mean() == pytest.approx(config.susceptibility.mean, abs=0.005)
    assert np.allclose(pop.interests.sum(axis=1), 1.0, atol=1e-5)
    assert pop.role_mask(Role.SPREADER).mean() == pytest.approx(0.25, abs=0.01)
    assert pop.role_mask(Role.VERIFIER).sum() == 0
    assert pop.leaning.min() >= -1 and pop.leaning.max() <= 1


def test_polarization_makes_leaning_bimodal() -> None:
    flat = sample_population(PopulationConfig(size=20_000, leaning_polarization=0.0),
                             np.random.default_rng(2))
    split = sample_population(PopulationConfig(size=20_000, leaning_polarization=1.0),
                              np.random.default_rng(2))
    assert np.abs(split.leaning).mean() > np.abs(flat.leaning).mean() + 0.2


def test_persona_text_describes_the_agent() -> None:
    pop = sample_population(PopulationConfig(size=10, topics=TOPICS), np.random.default_rng(3))
    text = pop.persona_text(4)
    assert text.startswith("Agent 4")
    assert ROLES[pop.role[4]].value in text
    assert any(t in text for t in TOPICS)


def test_frame_has_one_row_per_agent() -> None:
    pop = sample_population(PopulationConfig(size=50, topics=TOPICS), np.random.default_rng(4))
    frame = pop.to_frame()
    assert list(frame["agent"]) == list(range(50))
    assert {"interest_politics", "interest_health", "role", "leaning"} <= set(frame.columns)


def test_load_csv_and_parquet_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "leaning": [-0.5, 0.2, 0.9], "activity": [0.1, 0.5, 1.0],
        "susceptibility": [0.3, 0.6, 0.0], "role": ["Spreader", "verifier", "bystander"],
        "age_group": ["18-29", "65+", "18-29"], "interest_politics": [1, 0, 2],
        "interest_health": [1, 1, 0],
    })
    for path in (tmp_path / "p.csv", tmp_path / "p.parquet"):
        frame.to_csv(path, index=False) if path.suffix == ".csv" else frame.to_parquet(path)
        pop = load_population(path, TOPICS)
        assert pop.n == 3
        assert ROLES[pop.role[0]] is Role.SPREADER
        assert np.allclose(pop.interests[0], [0.5, 0.5])
        assert np.allclose(pop.interests[2], [1.0, 0.0])


def test_bad_value_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("leaning,activity,susceptibility\n0.1,0.2,0.3\n0.4,1.7,0.3\n")
    with pytest.raises(DataError) as info:
        load_population(path, TOPICS)
    assert info.value.line == 3
    assert "activity" in str(info.value) and str(path) in str(info.value)


def test_missing_column_and_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("leaning,activity\n0.1,0.2\n")
    with pytest.raises(DataError, match="susceptibility"):
        load_population(path, TOPICS)
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_population(path, TOPICS)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(st.floats(allow_nan=True), st.text(max_size=4),
                                   st.integers(-10, 10)), min_size=3, max_size=3),
                max_size=6))
def test_arbitrary_rows_load_or_raise_data_error(tmp_path_factory, rows) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "p.csv"
    lines = ["leaning,activity,susceptibility"] + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines), encoding="utf-8")
    check_loaded(path)


def test_habituation_moves_expectations_toward_the_stances_seen() -> None:
    pop = sample_population(PopulationConfig(size=3, topics=["a", "b"]), np.random.default_rng(0))
    state = AgentState.initial(pop, 0, np.random.default_rng(1))
    assert np.array_equal(state.expectation, state.attitude)  # at first: one's own views
    before = state.expectation.copy()
    viewer = np.array([0, 0, 1, 2])
    topic = np.array([1, 1, 0, -1])  # agent 2 saw a post on no topic
    stance = np.array([1.0, 0.0, -1.0, 0.9])
    state.habituate(viewer, topic, stance, rate=0.5)
    want = before.copy()
    want[0, 1] += 0.5 * (0.5 - before[0, 1])  # the mean of what agent 0 saw on topic b
    want[1, 0] += 0.5 * (-1.0 - before[1, 0])
    assert np.allclose(state.expectation, want)
    state.habituate(viewer, topic, stance, rate=0.0)
    assert np.allclose(state.expectation, want)
