"""Scenario loading: built-ins, TOML round trip, and errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townsquare.errors import ScenarioError
from townsquare.scenario import Scenario, builtin_names, dumps_toml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_builtin_loads_and_round_trips() -> None:
    assert "default" in builtin_names()
    for name in builtin_names():
        scenario = Scenario.load(name)
        again = Scenario.from_toml(scenario.to_toml())
        assert again == scenario, name


def test_unknown_key_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\n\n[network]\nkind = "erdos_renyi"\nfoo = 3\n')
    with pytest.raises(ScenarioError) as info:
        Scenario.load(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 5" in message
    assert "network.foo" in message
    assert "unknown key" in message


def test_negative_probability_is_rejected_with_field(tmp_path: Path) -> None:
    path = write(tmp_path, '[behavior]\nmodel = "independent_cascade"\np = -0.2\n')
    with pytest.raises(ScenarioError) as info:
        Scenario.load(path)
    message = str(info.value)
    assert "behavior.p" in message
    assert "line 3" in message
    assert "greater than or equal to 0" in message


def test_malformed_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "name = \n[[[\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        Scenario.load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        Scenario.load(tmp_path / "nope.toml")


def test_unknown_builtin_lists_known_names() -> None:
    with pytest.raises(ScenarioError, match="default"):
        Scenario.load("no-such-study")


def test_news_topic_must_be_a_population_topic(tmp_path: Path) -> None:
    path = write(tmp_path, '[[news]]\nid = "a"\ntopic = "sports"\n')
    with pytest.raises(ScenarioError, match="sports"):
        Scenario.load(path)


def test_overrides_are_validated() -> None:
    scenario = Scenario.load("default")
    changed = scenario.with_overrides({"population.size": 123, "behavior.engage_rate": 0.2})
    assert changed.population.size == 123
    assert changed.behavior.engage_rate == pytest.approx(0.2)
    with pytest.raises(ScenarioError, match=r"population\.size"):
        scenario.with_overrides({"population.size": 0})


def test_relative_data_paths_resolve_next_to_the_scenario(tmp_path: Path) -> None:
    path = write(tmp_path, '[network]\nkind = "edgelist"\npath = "edges.csv"\n')
    scenario = Scenario.load(path)
    assert scenario.network.path == tmp_path / "edges.csv"


scalars = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=20),
)
toml_like = st.recursive(
    st.dictionaries(st.text(min_size=1, max_size=10), scalars, max_size=4),
    lambda inner: st.dictionaries(st.text(min_size=1, max_size=10), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_loads_or_fails_cleanly(text: str) -> None:
    check_text(text)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=600), st.builds(dumps_toml, toml_like)))
def test_arbitrary_text_loads_or_fails_cleanly_many(text: str) -> None:
    check_text(text)


def check_text(text: str) -> None:
    """Any text is a scenario or a ScenarioError naming the file."""
    try:
        Scenario.from_toml(text, source="fuzz.toml")
    except ScenarioError as exc:
        assert "fuzz.toml" in str(exc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(toml_like)
def test_arbitrary_tables_load_or_fail_cleanly(data: dict) -> None:
    text = dumps_toml(data)
    try:
        Scenario.from_toml(text, source="fuzz.toml")
    except ScenarioError as exc:
        assert exc.problems


@settings(max_examples=40, deadline=None)
@given(
    size=st.one_of(st.integers(-5, 10**7), st.floats(allow_nan=True), st.text(max_size=5)),
    p=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3)),
)
def test_adversarial_values(size: object, p: object) -> None:
    data = {"population": {"size": size}, "behavior": {"model": "sir", "beta": p}}
    try:
        scenario = Scenario.from_dict(data, source="adv")
    except ScenarioError as exc:
        assert any("population.size" in m or "behavior.beta" in m for m in exc.problems)
    else:
        assert scenario.population.size >= 1
        assert 0 <= scenario.behavior.beta <= 1


def test_a_retired_field_is_refused_in_a_file_and_dropped_from_a_stored_run() -> None:
    text = Scenario.load("default").to_toml().replace(
        'model = "social"', 'model = "social"\nverify_skill = 0.8', 1)
    with pytest.raises(ScenarioError, match=r"behavior.verify_skill: retired.*verifier_discernm"):
        Scenario.from_toml(text, source="old.toml")
    assert Scenario.from_toml(text, source="run x", stored=True) == Scenario.load("default")


def test_the_retired_commons_norm_is_refused_and_dropped_from_a_stored_run() -> None:
    text = Scenario.load("commons").to_toml().replace(
        'kind = "commons"', 'kind = "commons"\nnorm_sustainability = 0.5', 1)
    with pytest.raises(ScenarioError,
                       match=r"environment.norm_sustainability: retired.*environment.attention"):
        Scenario.from_toml(text, source="old.toml")
    assert Scenario.from_toml(text, source="run x", stored=True) == Scenario.load("commons")
