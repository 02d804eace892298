"""The built-in market, commons and election scenarios: they list, validate, run, print."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from townsquare.cli import app
from townsquare.errors import ScenarioError
from townsquare.scenario import Scenario, builtin_descriptions

ENVIRONMENTS = ["market", "commons", "election"]
runner = CliRunner()


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_the_builtin_runs_from_the_cli_and_prints_its_headline_first(
    name: str, tmp_path: Path
) -> None:
    scenario = Scenario.load(name)
    assert scenario.name == name and scenario.environment.kind == name
    assert 20 < len(builtin_descriptions()[name]) <= 160
    agents = {"market": 300, "commons": 20, "election": 800}[name]
    result = runner.invoke(app, ["run", name, "--agents", str(agents), "--quiet", "--out",
                                 str(tmp_path), "--set", "checkpoint_every=0"],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = [line.split("│")[1].strip() for line in result.output.splitlines()
            if line.startswith("│")]
    headline = [key.replace("_", " ") for key in scenario.headline]
    assert rows[:len(headline)] == headline  # every headline measure is there, first


def test_a_bad_environment_value_names_the_field_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text('name = "x"\n\n[environment]\nkind = "market"\ntrade_rate = 1.5\n',
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"line 5, field 'environment.trade_rate'"):
        Scenario.load(path)
    path.write_text('[environment]\nkind = "casino"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"market.*commons.*election"):
        Scenario.load(path)


def test_an_environment_needs_the_social_agents(tmp_path: Path) -> None:
    from townsquare import Simulation
    from townsquare.errors import UserError

    scenario = Scenario.load("commons").with_overrides({
        "output_dir": str(tmp_path), "behavior": {"model": "voter"}})
    with pytest.raises(UserError, match="needs the social agents"):
        Simulation(scenario)
