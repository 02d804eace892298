"""LLM settings: validation, environment overrides, and which agents an LLM drives."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from townsquare.behavior.llm.config import (
    LLMConfig,
    ModelEndpoint,
    apply_env_overrides,
    model_for_agents,
    select_llm_agents,
)
from townsquare.behavior.llm.faults import LLMConfigError
from townsquare.behavior.llm.records import CALL_COLUMNS, LLM_TABLES, MEMORY_COLUMNS
from townsquare.population.config import PopulationConfig
from townsquare.population.model import ROLES, sample_population


@pytest.fixture
def population():
    return sample_population(PopulationConfig(size=40), np.random.default_rng(1))


def test_fraction_selects_exactly_that_many_reproducibly(population) -> None:
    config = LLMConfig.model_validate({"assign": {"fraction": 0.25}})
    a = select_llm_agents(config, population, np.random.default_rng(7))
    b = select_llm_agents(config, population, np.random.default_rng(7))
    assert a.dtype == bool and a.sum() == 10
    np.testing.assert_array_equal(a, b)


def test_roles_and_ids_are_united(population) -> None:
    config = LLMConfig.model_validate({"assign": {"roles": ["verifier"], "agents": [0, 39]}})
    mask = select_llm_agents(config, population, np.random.default_rng(0))
    expected = population.role == ROLES.index("verifier")
    expected[[0, 39]] = True
    np.testing.assert_array_equal(mask, expected)
    assert not select_llm_agents(LLMConfig(), population, np.random.default_rng(0)).any()


def test_agent_ids_out_of_range_name_the_field(population) -> None:
    config = LLMConfig.model_validate({"assign": {"agents": [3, 40]}})
    with pytest.raises(LLMConfigError, match=r"llm\.assign\.agents: agent id 40 .* 40 agents"):
        select_llm_agents(config, population, np.random.default_rng(0))


def test_model_for_role_must_name_a_model() -> None:
    with pytest.raises(ValidationError, match=r"model_for_role\.bystander = 'cheap' is not one of"):
        LLMConfig.model_validate({"model_for_role": {"bystander": "cheap"}})
    with pytest.raises(ValidationError, match="duplicate names"):
        LLMConfig.model_validate({"models": [{"name": "a"}, {"name": "a"}]})


def test_model_for_agents_maps_roles(population) -> None:
    config = LLMConfig.model_validate({
        "models": [{"name": "big"}, {"name": "small", "model": "tiny"}],
        "model_for_role": {"bystander": "small"},
    })
    which = model_for_agents(config, population, np.arange(40))
    np.testing.assert_array_equal(which == 1, population.role == ROLES.index("bystander"))


@pytest.mark.parametrize(
    ("data", "field"),
    [({"models": []}, "models"), ({"modles": []}, "modles"),
     ({"models": [{"base_url": "localhost:8000"}]}, "base_url"),
     ({"models": [{"temperature": 3}]}, "temperature"),
     ({"assign": {"fraction": 1.5}}, "fraction"), ({"assign": {"roles": ["king"]}}, "roles"),
     ({"memory": {"recency_decay": 0}}, "recency_decay")],
)
def test_bad_values_are_errors_naming_the_field(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        LLMConfig.model_validate(data)
    assert field in str(caught.value)


def test_environment_overrides_only_the_first_model() -> None:
    config = LLMConfig(models=[ModelEndpoint(name="a"), ModelEndpoint(name="b", model="m")])
    env = {"TOWNSQUARE_LLM_BASE_URL": "http://gpu:8000/v1/", "TOWNSQUARE_LLM_MODEL": "qwen"}
    resolved = apply_env_overrides(config, env)
    assert (resolved.models[0].base_url, resolved.models[0].model) == ("http://gpu:8000/v1",
                                                                       "qwen")
    assert resolved.models[1] == config.models[1]
    assert apply_env_overrides(config, {}) is config


def test_tables_match_the_exported_columns() -> None:
    for name, columns in (("memories", MEMORY_COLUMNS), ("llm_calls", CALL_COLUMNS)):
        ddl = LLM_TABLES[name]
        positions = [ddl.index(f"\n            {c} ") for c in columns]
        assert positions == sorted(positions)
    import sqlite3
    db = sqlite3.connect(":memory:")
    for ddl in LLM_TABLES.values():
        db.execute(ddl)
    assert [r[1] for r in db.execute("PRAGMA table_info(llm_calls)")] == list(CALL_COLUMNS)
