"""Surveys: sampling, the documented response model, and the summary of attitude shifts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from townsquare import Scenario, Simulation
from townsquare.measure.surveys import answer, shifts, summarize
from townsquare.schedules import Question


def test_likert_choice_numeric_and_text_follow_the_response_model() -> None:
    y = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    likert = Question(id="a", text="?", topic="t", kind="likert", scale=5)
    values, texts = answer(likert, y)
    assert values.tolist() == [1, 2, 3, 4, 5]
    assert texts[0] == "strongly disagree" and texts[-1] == "strongly agree"
    choice = Question(id="b", text="?", topic="t", kind="choice", options=["no", "maybe", "yes"])
    assert answer(choice, y)[1] == ["no", "no", "maybe", "yes", "yes"]
    numeric = Question(id="c", text="?", measures="belief", news="n", kind="numeric")
    assert answer(numeric, y)[0].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    text = Question(id="d", text="?", topic="health", kind="text")
    assert "strongly in favour" in answer(text, np.array([0.9]))[1][0]


def test_survey_at_three_steps_shows_the_shift_agents_report(tmp_path: Path) -> None:
    scenario = Scenario.load("default").with_overrides({
        "population.size": 3000, "steps": 12, "output_dir": str(tmp_path),
        "interventions": [{"kind": "shock", "topic": "health", "attitude_shift": 0.3,
                           "when": {"start": 5}}],
        "surveys": [{"id": "panel", "steps": [2, 6, 10], "sample": 600, "stratify_by": "role",
                     "questions": [
                         {"id": "health", "text": "Is the health system doing well?",
                          "measures": "attitude", "topic": "health", "kind": "numeric"},
                         {"id": "likert", "text": "Agree?", "measures": "attitude",
                          "topic": "health", "scale": 7},
                     ]}],
    })
    run = Simulation(scenario).run()
    answers = run.reader.query("SELECT * FROM surveys")
    assert sorted(answers["step"].unique()) == [2, 6, 10]
    per_wave = answers.groupby(["step", "question"])["agent"].apply(frozenset)
    assert per_wave.map(len).eq(600).all()
    assert per_wave.nunique() == 1  # a panel: the same agents at every wave
    agents = run.agents().set_index("agent")
    sampled = agents.loc[sorted(per_wave.iloc[0])]
    share = sampled["role"].value_counts(normalize=True)
    overall = agents["role"].value_counts(normalize=True)
    assert (share - overall).abs().max() < 0.01  # proportional to strata
    table = summarize(answers)
    assert set(table.columns) >= {"mean", "ci_low", "ci_high", "n"}
    moved = shifts(answers).set_index("question")
    assert moved.loc["health", "design"] == "paired"
    assert moved.loc["health", "shift"] == pytest.approx(0.3, abs=0.08)
    assert moved.loc["health", "ci_low"] > 0.15
    assert moved.loc["likert", "shift"] > 0.5


def test_independent_samples_are_compared_unpaired() -> None:
    rng = np.random.default_rng(0)
    answers = pd.DataFrame({
        "survey": "s", "question": "q", "step": np.repeat([0, 5], 200),
        "agent": rng.permutation(1000)[:400], "value": np.r_[rng.normal(0, 1, 200),
                                                             rng.normal(1, 1, 200)],
        "answer": "",
    })
    row = shifts(answers).iloc[0]
    assert row["design"] == "independent"
    assert row["ci_low"] < 1.0 < row["ci_high"]
