"""The effects section of a sweep report: every arm against the reference arm.

The same numbers as ``townsquare sweep-summary`` (:func:`effect_sizes`): the
difference in means with its 95% CI and p-value, paired by replicate when the arms
share seeds (else Welch), and Hedges' g. Main measures get a forest plot each; the
table lists every measure that varies, main measures first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from townsquare.experiments.stats import effect_sizes
from townsquare.measure.ranges import measure_range
from townsquare.report.document import Grid, Item, Note, Plot, Table, fmt
from townsquare.report.figures_sweep import effect_forest


def effect_items(results: pd.DataFrame, main: list[str], other: list[str],
                 params: list[str], labels: dict[str, str] | None = None) -> list[Item]:
    """Note, forest plots and table of the effects of each arm against the first arm.

    ``labels`` names parameter columns for display (default: without ``param_``).
    """
    labels = labels or {}
    arms = results[params].drop_duplicates() if params else pd.DataFrame()
    if len(arms) < 2:
        return [Note("One arm only: there is nothing to compare.")]
    effects = all_effects(results, main + other)
    reference = arm_label(arms.iloc[0], params, labels)
    designs = sorted({"paired by replicate" if p else "Welch (unpaired)"
                      for p in effects["paired"]})
    items: list[Item] = [Note(
        f"Reference arm: {reference}. Each other arm's mean minus the reference arm's, with "
        f"its 95% t interval and p-value ({' and '.join(designs)}), and Hedges' g (the "
        "difference over the pooled between-replicate SD, small-sample corrected).")]
    effects["arm"] = [arm_label(row, params, labels) for _, row in effects.iterrows()]
    plots: list[Plot | Table] = [
        Plot(f"effects-{m}", effect_forest(effects[effects["measure"] == m], m))
        for m in main if (effects["measure"] == m).any()]
    if plots:
        items.append(Grid(plots))
    rows = [[r.arm, str(r.measure).replace("_", " "), fmt(r.n), fmt(r.difference),
             f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]", fmt(r.p_value), fmt(r.hedges_g),
             "paired" if r.paired else "Welch"] for r in effects.itertuples()]
    items.append(Table(["arm", "measure", "n", "difference", "95% CI", "p", "Hedges' g",
                        "design"], rows, f"Against {reference}; main measures first."))
    return items


def all_effects(results: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """Effects of every arm on every measure, differences clipped to what the range allows."""
    frames = [effect_sizes(results, measure) for measure in measures]
    effects = pd.concat([f for f in frames if len(f)], ignore_index=True)
    for measure, rows in effects.groupby("measure", sort=False).groups.items():
        low, high = measure_range(str(measure))
        span = high - low  # a difference of two values in [low, high] lies in [-span, span]
        if np.isfinite(span):
            effects.loc[rows, ["ci_low", "ci_high"]] = effects.loc[
                rows, ["ci_low", "ci_high"]].clip(-span, span)
    return effects


def arm_label(row: pd.Series, params: list[str], labels: dict[str, str]) -> str:
    """``strategy=fact_check, x=0.2``: an arm by its parameter values."""
    return ", ".join(f"{labels.get(p, p.removeprefix('param_'))}={fmt(row[p])}"
                     for p in params) or "all runs"
