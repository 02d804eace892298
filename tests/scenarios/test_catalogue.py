"""Every built-in scenario lists, validates, runs (small) and prints its headline.

The scenarios are discovered (``builtin_names``), so a new TOML file in
src/townsquare/scenarios is tested without editing this file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from townsquare.cli import app
from townsquare.engine import Simulation
from townsquare.scenario import Scenario, builtin_descriptions, builtin_names

BUILT_IN = builtin_names()
runner = CliRunner()


def test_the_seed_studies_are_among_the_discovered_scenarios() -> None:
    """Discovery finds the files (the list below is what must never go missing)."""
    studies = {"misinfo-moderation", "fake-news-attitudes", "news-evolution", "polarization",
               "inflammatory-messages", "emotion-contagion", "friendship-paradox",
               "community-prototype", "digital-clone", "market", "commons", "election"}
    assert studies <= set(BUILT_IN)


def test_every_study_is_listed_with_a_one_line_description() -> None:
    listed = builtin_descriptions()
    for name in BUILT_IN:
        assert name in listed
        assert 20 < len(listed[name]) <= 160, name
    output = runner.invoke(app, ["scenarios"], terminal_width=200).output
    for name in BUILT_IN:
        assert name in output


@pytest.mark.parametrize("name", BUILT_IN)
def test_headline_measures_are_in_the_summary(name: str, tmp_path: Path) -> None:
    scenario = Scenario.load(name)
    assert scenario.name == name and scenario.headline
    last_news = max((item.step for item in scenario.news), default=0)
    steps = min(scenario.steps, max(12, last_news + 1))
    small = {"steps": steps, "checkpoint_every": 0, "snapshots.max_agents": 50}
    # The clone's size is its recorded network's; a retold story needs a crowd to reach
    # its third generation of versions.
    if name not in ("digital-clone", "news-evolution"):
        small["population.size"] = 300
    run = Simulation(scenario.with_overrides(small), run_dir=tmp_path / "run").run()
    missing = [key for key in scenario.headline if key not in run.summary()]
    assert missing == []


def test_cli_prints_the_headline_first(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["run", "inflammatory-messages", "--agents", "300", "--steps", "5", "--quiet",
              "--out", str(tmp_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    assert rows[0].split("│")[1].strip() == "reach outrage"
