"""A new user's first commands: init, scenarios --show, --version, runs, validate-run, summaries."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import townsquare
from townsquare.cli.app import fmt, plural
from townsquare.experiments import validate_run
from townsquare.scenario import Scenario, builtin_names, read_scenario_text
from townsquare.scenario_template import commented_toml
from townsquare.store import SqliteRunReader

DEFAULT_LINE = re.compile(r"(?m)^# (?=\[|[\w\"-]+ = )")  # a commented-out default or section


def townsquare_cli(*args: str, cwd: Path, columns: int | None = None
                   ) -> subprocess.CompletedProcess[str]:
    env = None
    if columns is not None:
        import os

        env = os.environ | {"COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-m", "townsquare.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


def test_init_default_then_run_it(tmp_path: Path) -> None:
    made = townsquare_cli("init", "default", "-o", "s.toml", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    text = (tmp_path / "s.toml").read_text()
    assert "# base chance of engaging with one feed item" in text
    ran = townsquare_cli("run", "s.toml", "--agents", "600", "--steps", "4", "--quiet",
                         cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    [run_dir] = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    reader = SqliteRunReader(run_dir)
    assert reader.meta()["status"] == "completed"
    assert reader.meta()["scenario_name"] == "default"
    assert len(reader.events()) > 0


def test_init_keeps_an_existing_file_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text("name = 'mine'\n")
    refused = townsquare_cli("init", "polarization", "-o", "mine.toml", cwd=tmp_path)
    assert refused.returncode == 2
    assert "mine.toml already exists" in refused.stderr and "Traceback" not in refused.stderr
    assert (tmp_path / "mine.toml").read_text() == "name = 'mine'\n"
    forced = townsquare_cli("init", "polarization", "-o", "mine.toml", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert Scenario.load(tmp_path / "mine.toml").name == "polarization"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.toml"]  # no temporary left behind


def test_init_writes_scenario_toml_by_default_and_rejects_unknown_names(tmp_path: Path) -> None:
    assert townsquare_cli("init", "market", cwd=tmp_path).returncode == 0
    assert Scenario.load(tmp_path / "market.toml").name == "market"
    unknown = townsquare_cli("init", "nosuchscenario", cwd=tmp_path)
    assert unknown.returncode == 2 and "built-ins:" in unknown.stderr
    assert not (tmp_path / "nosuchscenario.toml").exists()


@pytest.mark.parametrize("name", builtin_names())
def test_commented_toml_loads_to_the_same_scenario(name: str, tmp_path: Path) -> None:
    text = commented_toml(name)
    original = Scenario.load(name).model_dump()
    path = tmp_path / "copy.toml"
    path.write_text(text)
    assert Scenario.load(path).model_dump() == original  # runs from any folder (data paths)
    # every '# key = value' line is the default: uncommenting them all changes nothing
    uncommented = DEFAULT_LINE.sub("", text)
    assert uncommented != text
    assert Scenario.from_toml(uncommented).model_dump() == original


def test_scenarios_show_prints_the_shipped_toml(tmp_path: Path) -> None:
    shown = townsquare_cli("scenarios", "--show", "misinfo-moderation", cwd=tmp_path, columns=60)
    assert shown.returncode == 0, shown.stderr
    assert tomllib.loads(shown.stdout) == tomllib.loads(read_scenario_text(
        "misinfo-moderation")[0])  # whole lines, not cut at the terminal width
    missing = townsquare_cli("scenarios", "--show", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "built-ins:" in missing.stderr


def test_version(tmp_path: Path) -> None:
    done = townsquare_cli("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == f"townsquare {townsquare.__version__}"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    done = townsquare_cli("run", "default", "--agents", "2000", "--steps", "5", "--seed", "1",
                          "--quiet", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.mark.parametrize("columns", [40, 200])
def test_runs_never_cuts_run_ids(small_run: Path, columns: int) -> None:
    listed = townsquare_cli("runs", cwd=small_run, columns=columns)
    assert listed.returncode == 0, listed.stderr
    ids = [p.name for p in (small_run / "runs").iterdir() if p.is_dir()]
    assert ids and all(run_id in listed.stdout for run_id in ids)
    assert "…" not in listed.stdout


def test_validate_run_exit_code_follows_the_checks(small_run: Path) -> None:
    found = validate_run("latest", runs_dir=small_run / "runs")
    assert not found.passed  # this seed's small run fails the activity-tail check
    strict = townsquare_cli("validate-run", "latest", cwd=small_run, columns=200)
    assert "FAIL" in strict.stdout
    assert strict.returncode == 1
    lenient = townsquare_cli("validate-run", "latest", "--no-strict", cwd=small_run)
    assert lenient.returncode == 0 and "FAIL" in lenient.stdout


def test_summary_shows_a_measure_equal_by_definition_once(small_run: Path) -> None:
    shown = townsquare_cli("show", "latest", cwd=small_run, columns=200)
    assert shown.returncode == 0, shown.stderr
    assert "reach rumour = reach false" in shown.stdout
    assert "reach report = reach true" in shown.stdout
    rows = [line.strip("│ ").split("│")[0].strip() for line in shown.stdout.splitlines()]
    assert "reach false" not in rows and "reach true" not in rows
    assert "2,000 agents" in shown.stdout


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_integers_get_thousands_separators(value: int) -> None:
    text = fmt(value)
    assert text.replace(",", "") == str(value)
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*", text)
    assert fmt(float(value)) == text  # a whole float reads like the integer


@given(st.floats(min_value=1000, max_value=1e12) | st.floats(min_value=-1e12, max_value=-1000))
def test_large_floats_get_separators(value: float) -> None:
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})+", fmt(value))


def test_plural() -> None:
    assert plural(1, "agent") == "1 agent"
    assert plural(0, "agent") == "0 agents"
    assert plural(12000, "step") == "12,000 steps"
