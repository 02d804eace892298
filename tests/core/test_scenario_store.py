"""The scenario stored with a run re-parses to the same scenario, whatever text it holds (#20)."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townsquare.errors import ScenarioError
from townsquare.scenario import Scenario, builtin_names

# every code point class a user can type or paste, control characters included
any_text = st.text(st.characters(codec="utf-8"), max_size=40)
overrides = st.fixed_dictionaries(
    {},
    optional={
        "name": any_text,
        "description": any_text,
        "seed": st.integers(-(2**63), 2**63 - 1),
        "population.leaning_polarization": st.floats(allow_nan=True, allow_infinity=True),
        "population.topics": st.lists(any_text, min_size=1, max_size=4),
        "behavior.engage_rate": st.floats(-1, 2),
        "output_dir": any_text,
        "headline": st.lists(any_text, max_size=3),
    },
)


def _round_trips(scenario: Scenario) -> None:
    text = scenario.to_toml()
    assert tomllib.loads(text)  # valid TOML
    assert Scenario.from_toml(text, source="stored") == scenario


def test_control_characters_in_a_string_survive_the_stored_copy() -> None:
    scenario = Scenario.load("default").with_overrides(
        {"description": "bell\u0007here\x00\x1b[31m\x7f\u2028end"})
    _round_trips(scenario)


@pytest.mark.parametrize("name", builtin_names())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=overrides)
def test_every_accepted_scenario_round_trips(name: str, changes: dict) -> None:
    try:
        scenario = Scenario.load(name).with_overrides(changes)
    except ScenarioError:
        return
    _round_trips(scenario)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=overrides)
def test_every_accepted_scenario_round_trips_many(changes: dict) -> None:
    try:
        scenario = Scenario.load("default").with_overrides(changes)
    except ScenarioError:
        return
    _round_trips(scenario)
