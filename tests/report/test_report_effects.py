"""Sweep reports: every headline measure, effects with CIs against the reference arm, and
intervals that stay inside what a measure can take."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from townsquare import Scenario
from townsquare.experiments import Sweep, effect_sizes, summarize_sweep
from townsquare.measure.ranges import measure_range, unit
from townsquare.report import build_document, render_document
from townsquare.report.effects import all_effects


@pytest.fixture(scope="module")
def moderation_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("sweeps") / "moderation"
    base = Scenario.load("misinfo-moderation").with_overrides(
        {"population.size": 300, "steps": 8})
    grid = {"platform.moderation.strategy": ["none", "fact_check", "community_notes"]}
    results = Sweep(base, grid, replicates=3, out=folder, workers=1).run()
    return folder, results


def test_every_headline_measure_gets_a_plot_and_effects(moderation_sweep) -> None:
    folder, _ = moderation_sweep
    headline = Scenario.load("misinfo-moderation").headline
    assert {"reach_true", "moderation_cost"} <= set(headline)  # the ones dropped before
    doc, _ = build_document(folder)
    ids = {plot.id for plot in doc.plots}
    for measure in headline:
        assert f"measures-{measure}" in ids and f"effects-{measure}" in ids
    html = render_document(doc)
    assert "Hedges" in html and "Reference arm: strategy=none" in html


def test_effects_are_those_of_sweep_summary(moderation_sweep) -> None:
    folder, results = moderation_sweep
    doc, _ = build_document(folder)
    forest = next(p.figure for p in doc.plots if p.id == "effects-reach_false")
    expected = effect_sizes(results, "reach_false")
    np.testing.assert_allclose(forest.data[0].x, expected["difference"])
    upper = np.asarray(forest.data[0].error_x.array, float)
    np.testing.assert_allclose(np.asarray(forest.data[0].x) + upper,
                               expected["ci_high"].fillna(expected["difference"]))
    assert list(forest.data[0].y) == ["strategy=fact_check", "strategy=community_notes"]
    assert "agents" in forest.layout.xaxis.title.text


def test_other_measures_are_selectable_not_dropped(moderation_sweep) -> None:
    folder, results = moderation_sweep
    doc, _ = build_document(folder)
    menu = next(p.figure for p in doc.plots if p.id == "measures-other")
    labels = {b.label for b in menu.layout.updatemenus[0].buttons}
    headline = set(Scenario.load("misinfo-moderation").headline)
    varying = {m for m in results.columns if m not in headline and not m.startswith("param_")
               and m not in ("run_id", "arm", "replicate", "seed", "wall_seconds")
               and pd.api.types.is_numeric_dtype(results[m]) and results[m].nunique() > 1}
    assert {m.replace("_", " ") for m in varying} == labels
    shown = [t.visible for t in menu.data]
    assert any(shown) and not all(shown)  # one measure at a time


def test_intervals_are_clipped_to_the_measure_range() -> None:
    rng = np.random.default_rng(3)
    results = pd.DataFrame({
        "param_x": np.repeat([0, 1], 4), "replicate": np.tile(range(4), 2),
        "seed": np.tile(range(4), 2),
        "reach_false": [0, 0, 0, 9, 1, 0, 0, 12],            # a count near zero
        "believers_rumour": [1, 1, 0.9, 0.2, 0.95, 1, 1, 0.1],  # a share near one
        "attitude_shift": rng.normal(0, 1, 8)})                 # unbounded: left alone
    summary = summarize_sweep(results).set_index(["param_x", "measure"])
    assert (summary.xs("reach_false", level="measure")["ci_low"] == 0).all()
    assert (summary.xs("believers_rumour", level="measure")["ci_high"] == 1).all()
    raw = results.loc[results["param_x"] == 0, "attitude_shift"]
    half = 3.182446 * raw.std(ddof=1) / 2
    assert summary.loc[(0, "attitude_shift"), "ci_low"] == pytest.approx(raw.mean() - half)
    effects = all_effects(results, ["believers_rumour"])
    assert (effects["ci_low"] >= -1).all() and (effects["ci_high"] <= 1).all()


@given(st.sampled_from(["reach_rumour", "sharers_false", "total_posts", "largest_cascade",
                        "moderation_cost", "llm_cost", "polarization_esteban_ray"]),
       st.floats(-1e9, 1e9))
def test_counts_and_costs_are_never_negative(name: str, value: float) -> None:
    low, high = measure_range(name)
    assert low == 0 and high == float("inf")
    assert max(low, min(high, value)) >= 0


def test_units() -> None:
    assert unit("reach_true") == "agents"
    assert unit("believers_rumour") == "share of agents"
    assert unit("llm_cost").startswith("currency")
    assert unit("something_new") == "value"
