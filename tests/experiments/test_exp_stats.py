"""Confidence intervals and effect sizes over replicates, against theory and hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from townsquare.errors import UserError
from townsquare.experiments.stats import effect_sizes, mean_ci, summarize_sweep


def test_t_interval_matches_the_textbook_formula() -> None:
    x = np.array([2.0, 4.0, 4.0, 5.0, 7.0, 9.0])
    mean, low, high = mean_ci(x, level=0.9)
    half = stats.t.ppf(0.95, 5) * x.std(ddof=1) / np.sqrt(6)
    assert mean == pytest.approx(31 / 6)
    assert (low, high) == pytest.approx((31 / 6 - half, 31 / 6 + half))


@pytest.mark.parametrize("method", ["t", "bootstrap"])
def test_intervals_cover_the_true_mean_at_about_the_nominal_rate(method: str) -> None:
    rng = np.random.default_rng(3)
    trials = 300 if method == "t" else 120
    n = 25
    covered = 0
    for _ in range(trials):
        _, low, high = mean_ci(rng.normal(10.0, 2.0, n), method=method, n_boot=400)
        covered += low <= 10.0 <= high
    rate = covered / trials
    # 95% nominal; bootstrap intervals run a little narrow at n = 25
    assert 0.95 - 4 * np.sqrt(0.05 * 0.95 / trials) - (0.03 if method != "t" else 0) < rate
    assert rate < 0.995


def test_degenerate_samples() -> None:
    assert mean_ci([3.0, 3.0, 3.0]) == (3.0, 3.0, 3.0)
    assert mean_ci([3.0, 3.0], method="bootstrap") == (3.0, 3.0, 3.0)
    mean, low, high = mean_ci([1.0])
    assert mean == 1.0 and np.isnan(low) and np.isnan(high)
    assert np.isnan(mean_ci([])[0])
    assert mean_ci([1.0, np.nan, 3.0])[0] == 2.0
    with pytest.raises(UserError, match="confidence level"):
        mean_ci([1.0, 2.0], level=95)
    with pytest.raises(UserError, match="unknown CI method"):
        mean_ci([1.0, 2.0], method="normal")  # type: ignore[arg-type]


def results_table(shared_seeds: bool = True) -> pd.DataFrame:
    """Two arms x 8 replicates; the treated arm adds 1.0 plus small noise to a shared draw."""
    rng = np.random.default_rng(0)
    base = rng.normal(10, 3, 8)  # replicate luck, shared by both arms under CRN
    rows = []
    for arm, shift in enumerate([0.0, 1.0]):
        values = base + shift + rng.normal(0, 0.2, 8) if shared_seeds else rng.normal(
            10 + shift, 3, 8)
        for r, v in enumerate(values):
            seed = r if shared_seeds else 100 * arm + r
            rows.append({"run_id": f"{arm}-r{r}", "arm": arm, "param_x": ["a", "b"][arm],
                         "replicate": r, "seed": seed, "reach": v, "other": float(r)})
    return pd.DataFrame(rows)


def test_summary_has_one_row_per_arm_and_measure() -> None:
    summary = summarize_sweep(results_table(), ["reach", "other"])
    assert list(summary.columns) == ["param_x", "measure", "n", "mean", "sd", "ci_low", "ci_high"]
    assert len(summary) == 4
    row = summary[(summary.param_x == "a") & (summary.measure == "other")].iloc[0]
    assert row["mean"] == 3.5 and row["n"] == 8
    assert row["ci_low"] < 3.5 < row["ci_high"]
    assert set(summarize_sweep(results_table(), by="x")["measure"]) == {"reach", "other"}
    with pytest.raises(UserError, match="no measure 'nope'"):
        summarize_sweep(results_table(), "nope")
    with pytest.raises(UserError, match="no column 'y' to group by"):
        summarize_sweep(results_table(), by="y")


def test_paired_effects_with_shared_seeds_are_much_tighter() -> None:
    paired = effect_sizes(results_table(), "reach").iloc[0]
    assert paired["paired"]
    assert paired["param_x"] == "b"
    assert paired["ci_low"] < paired["difference"] < paired["ci_high"]
    assert abs(paired["difference"] - 1.0) < 0.5
    assert paired["ci_high"] - paired["ci_low"] < 0.6  # shared luck cancels out
    unpaired = effect_sizes(results_table(), "reach", paired=False).iloc[0]
    assert not unpaired["paired"]
    assert unpaired["ci_high"] - unpaired["ci_low"] > 4 * (paired["ci_high"] - paired["ci_low"])
    assert unpaired["difference"] == pytest.approx(paired["difference"])
    independent = effect_sizes(results_table(shared_seeds=False), "reach").iloc[0]
    assert not independent["paired"]
    with pytest.raises(UserError, match="cannot pair"):
        effect_sizes(results_table(shared_seeds=False), "reach", paired=True)


def test_cohens_d_and_hedges_g_by_hand() -> None:
    x, y = np.array([5.0, 6.0, 7.0, 8.0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    rows = [{"param_arm": "t", "v": v} for v in x] + [{"param_arm": "c", "v": v} for v in y]
    frame = pd.DataFrame(rows)
    row = effect_sizes(frame, "v", reference={"arm": "c"}).iloc[0]
    pooled = np.sqrt((3 * x.var(ddof=1) + 4 * y.var(ddof=1)) / 7)
    d = (6.5 - 3.0) / pooled
    assert row["cohens_d"] == pytest.approx(d)
    assert row["hedges_g"] == pytest.approx(d * (1 - 3 / (4 * 7 - 1)), rel=2e-3)
    welch = stats.ttest_ind(x, y, equal_var=False)
    assert row["p_value"] == pytest.approx(welch.pvalue)
    ci = welch.confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
    boot = effect_sizes(frame, "v", reference={"param_arm": "c"}, method="bootstrap").iloc[0]
    assert boot["ci_low"] < 3.5 < boot["ci_high"]


def test_reference_choices() -> None:
    table = results_table()
    assert effect_sizes(table, "reach", reference=1).iloc[0]["param_x"] == "a"
    assert effect_sizes(table, "reach", reference={"x": "b"}).iloc[0]["difference"] < 0
    with pytest.raises(UserError, match="no arm matches"):
        effect_sizes(table, "reach", reference={"x": "zzz"})
    with pytest.raises(UserError, match="unknown parameter"):
        effect_sizes(table, "reach", reference={"y": "a"})
