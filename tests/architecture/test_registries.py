"""A toy environment and a toy recommender, defined here, run from a scenario.

Nothing outside this file is edited: registering them makes the scenario valid
(its ``[environment]`` union and feed mix are read from the registries), the
world builds them, the engine runs them and the store records them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from pydantic import Field

from townsquare import Scenario, Simulation
from townsquare.core.behavior import BaseBehavior
from townsquare.core.environment import StepRecord
from townsquare.core.registry import (
    ENVIRONMENTS,
    RECOMMENDERS,
    register_environment,
    register_recommender,
)
from townsquare.errors import ScenarioError
from townsquare.reference import reference_markdown
from townsquare.scenario_types import Section


class CoinConfig(Section):
    """A toy world: each step every agent flips a biased coin; heads are counted."""

    kind: Literal["coin"] = Field(description="selects this environment")
    bias: float = Field(default=0.7, ge=0, le=1, description="chance of heads")


class CoinEnvironment:
    """Observes the number of agents, applies the flips, measures the share of heads."""

    def __init__(self, config: CoinConfig, n_agents: int) -> None:
        self.config = config
        self.n_agents = n_agents
        self.heads = np.zeros(n_agents, np.int64)
        self.last = 0.0

    def observe(self, step: int) -> int:
        return self.n_agents

    def apply(self, step: int, decision: np.ndarray | None) -> StepRecord:
        assert decision is not None
        self.heads += decision
        self.last = float(decision.mean())
        return StepRecord()

    def measure(self, step: int) -> dict[str, float]:
        return {"heads_share": self.last}

    def summary(self) -> dict[str, float]:
        return {"mean_heads": float(self.heads.mean())}

    def get_state(self) -> dict[str, Any]:
        return {"heads": self.heads}

    def set_state(self, state: dict[str, Any]) -> None:
        self.heads = np.asarray(state["heads"], np.int64)


class Flippers(BaseBehavior):
    """Every agent flips; ``fallbacks`` is there because the engine records it."""

    def __init__(self, bias: float) -> None:
        self.bias = bias

    def decide(self, obs: int, rng: np.random.Generator) -> Any:
        flips = (rng.random(obs) < self.bias).astype(np.int64)
        return _Flips(flips)


class _Flips(np.ndarray):
    fallbacks = 0

    def __new__(cls, values: np.ndarray) -> _Flips:
        return np.asarray(values).view(cls)


def build_coin(config: CoinConfig, parts: Any) -> tuple[CoinEnvironment, Flippers]:
    parts.social.close()
    return CoinEnvironment(config, parts.population.n), Flippers(config.bias)


def cheerful(ctx: Any, candidates: Any) -> np.ndarray:
    """A toy recommender: posts with the most positive stance first."""
    return (np.asarray(ctx.content.stance[candidates.post], dtype=np.float64) + 1.0) / 2.0


@pytest.fixture
def coin() -> Iterator[None]:
    register_environment("coin", CoinConfig, build_coin)
    yield
    ENVIRONMENTS.remove("coin")


@pytest.fixture
def cheer() -> Iterator[None]:
    register_recommender("cheerful", cheerful)
    yield
    RECOMMENDERS.remove("cheerful")


SMALL = {"population.size": 200, "steps": 4, "checkpoint_every": 0}


def test_a_registered_environment_runs_from_a_scenario(coin: None, tmp_path: Path) -> None:
    text = '[population]\nsize = 200\n[environment]\nkind = "coin"\nbias = 0.9\n'
    scenario = Scenario.from_toml(text).with_overrides(SMALL | {"output_dir": str(tmp_path)})
    assert isinstance(scenario.environment, CoinConfig)
    run = Simulation(scenario).run()
    share = run.metrics()["heads_share"]
    assert len(share) == 4
    # 200 flips of a 0.9 coin: the mean share over 4 steps is within 4 standard errors
    assert abs(share.mean() - 0.9) < 4 * np.sqrt(0.9 * 0.1 / 800)
    assert run.summary()["mean_heads"] == pytest.approx(share.sum(), rel=1e-9)
    assert 'kind = "coin"' in scenario.to_toml()
    assert '[environment] kind = "coin"' in reference_markdown()


def test_an_unregistered_environment_is_an_error_naming_the_field() -> None:
    with pytest.raises(ScenarioError, match="environment"):
        Scenario.from_toml('[environment]\nkind = "coin"\n')


def test_a_registered_environments_config_is_validated(coin: None) -> None:
    with pytest.raises(ScenarioError, match=r"line 3, field 'environment.bias'"):
        Scenario.from_toml('[environment]\nkind = "coin"\nbias = 2.0\n')


def test_a_registered_recommender_ranks_feeds(cheer: None, tmp_path: Path) -> None:
    base = SMALL | {"output_dir": str(tmp_path), "steps": 6}
    scenario = Scenario.load("default").with_overrides(
        base | {"platform.feed.mix": {"cheerful": 1.0}})
    cheerful_run = Simulation(scenario).run()
    plain = Simulation(Scenario.load("default").with_overrides(base)).run()
    # the stance of what feeds showed, over every exposure of the run
    seen = ("SELECT SUM(p.stance * e.count) / SUM(e.count) AS s "
            "FROM exposures e JOIN posts p ON p.post_id = e.post")
    shown = float(cheerful_run.reader.query(seen)["s"].iloc[0])
    shown_plain = float(plain.reader.query(seen)["s"].iloc[0])
    assert shown > shown_plain + 0.04  # same seed: 0.18 against 0.10


def test_an_unregistered_recommender_is_an_error() -> None:
    with pytest.raises(ScenarioError, match="unknown recommender 'cheerful'"):
        Scenario.load("default").with_overrides({"platform.feed.mix": {"cheerful": 1.0}})
