"""The studies in examples/ run as shipped (at small sizes) and write what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from townsquare import Run, Scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def script(path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, str(path), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, (path, done.stdout, done.stderr)
    return done


@pytest.mark.parametrize("study", sorted(p.parent.name for p in EXAMPLES.glob("*/study.toml")))
def test_every_example_scenario_is_valid(study: str) -> None:
    scenario = Scenario.load(EXAMPLES / study / "study.toml")
    assert scenario.name == study
    assert scenario.headline


def test_examples_are_listed() -> None:
    listed = (EXAMPLES / "README.md").read_text()
    for folder in (p.parent.name for p in EXAMPLES.glob("*/study.toml")):
        assert f"[{folder}]({folder}/)" in listed


@pytest.mark.parametrize(("study", "file", "arm_column", "arms"), [
    ("rumour-moderation", "compare.py", "param_platform_moderation_strategy",
     {"fact_check", "community_notes"}),
    ("feed-polarization", "compare.py", "param_platform_feed_mix_engagement", {1.0, 4.0}),
])
def test_sweep_examples_report_paired_effects(study: str, file: str, arm_column: str,
                                              arms: set, tmp_path: Path) -> None:
    done = script(EXAMPLES / study / file, "--agents", "300", "--steps", "4", "--replicates",
                  "3", "--workers", "1", "--out", "sweep", cwd=tmp_path)
    assert "paired by replicate" in done.stdout
    effects = pd.read_csv(tmp_path / "sweep" / "effects.csv")
    assert set(effects[arm_column]) == arms  # every arm against the reference, none missing
    assert (effects["n"] == 3).all() and effects["paired"].all()
    assert (effects["ci_low"] <= effects["difference"]).all()
    assert (effects["difference"] <= effects["ci_high"]).all()
    runs = [p for p in (tmp_path / "sweep").iterdir() if (p / "run.sqlite").exists()]
    assert len(runs) == 3 * (len(arms) + 1)


def test_personas_example_counts_sharers_from_the_run(tmp_path: Path) -> None:
    done = script(EXAMPLES / "personas-from-csv" / "by_role.py", "--steps", "8", "--out",
                  "runs", cwd=tmp_path)
    table = pd.read_csv(tmp_path / "runs" / "sharing_by_role.csv")
    personas = pd.read_csv(EXAMPLES / "personas-from-csv" / "personas.csv")
    by_role = table[table["by"] == "role"].set_index("group")["agents"]
    assert by_role.to_dict() == personas["role"].value_counts().to_dict()
    run = Run.open("latest", tmp_path / "runs")
    assert len(run.agents()) == len(personas)
    np.testing.assert_allclose(run.agents()["leaning"], personas["leaning"], atol=1e-6)
    posts = run.posts()
    sharers = posts.loc[posts["kind"].isin(["repost", "quote"]) & (posts["news"] == 0), "author"]
    assert table[table["by"] == "side"]["sharers"].sum() == sharers.nunique()
    assert f"{sharers.nunique():,} reshared the rumour" in done.stdout
    assert ((table["ci_low"] <= table["share"]) & (table["share"] <= table["ci_high"])).all()
