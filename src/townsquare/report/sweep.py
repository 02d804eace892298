"""The report of a sweep: measures against swept parameters, over replicates, with CIs.

A sweep is a folder holding ``results.parquet``, one row per run: a
``param_<name>`` column per swept parameter, ``replicate``, ``seed`` and one
column per measure (see :mod:`townsquare.experiments.sweep`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from townsquare.errors import DataError
from townsquare.experiments.stats import measure_columns, summarize_sweep
from townsquare.report.document import Document, Grid, Item, Note, Plot, Section, Table, fmt
from townsquare.report.figures_sweep import measure_vs_parameter
from townsquare.report.plots import integer_ticks

RESULTS = "results.parquet"
MAX_MEASURES = 24
SKIPPED_MEASURES = ("wall_seconds",)


def is_sweep(path: str | Path) -> bool:
    """Whether ``path`` is a sweep folder (it holds a results table)."""
    return (Path(path) / RESULTS).is_file()


def load_results(folder: str | Path) -> pd.DataFrame:
    """The sweep's results table, checked for the columns a report needs."""
    path = Path(folder) / RESULTS
    try:
        results = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataError(str(path), f"cannot be read as Parquet: {exc}") from None
    if "replicate" not in results.columns:
        raise DataError(str(path), "missing required column 'replicate'")
    return results


def headline_measures(results: pd.DataFrame) -> list[str]:
    """Measures worth a plot: summary measures (not per-metric finals) that vary, at most 24."""
    names = [m for m in measure_columns(results) if m not in SKIPPED_MEASURES]
    varying = [m for m in names if results[m].nunique(dropna=True) > 1]
    primary = [m for m in varying if not m.startswith("final_")]
    return (primary or varying)[:MAX_MEASURES]


def sweep_document(folder: str | Path) -> Document:
    """The report of the sweep in ``folder``."""
    folder = Path(folder)
    results = load_results(folder)
    params = [c for c in results.columns if c.startswith("param_")]
    varying = [c for c in params if results[c].nunique(dropna=False) > 1]
    measures = headline_measures(results)
    summary = summarize_sweep(results, measures, by=params) if measures else pd.DataFrame()
    replicates = results.groupby(params, dropna=False).size() if params else pd.Series(
        [len(results)])
    facts = {"runs": fmt(len(results)), "parameters": ", ".join(
        p.removeprefix("param_") for p in params) or "none",
        "arms": fmt(len(replicates)), "replicates per arm": fmt(int(replicates.median()))}
    sections = [
        Section("overview", "Sweep", _overview(results, params)),
        Section("measures", "Measures vs parameters", _plots(summary, measures, varying)),
        Section("table", "Means and 95% confidence intervals", _table(summary, params)),
    ]
    return Document(title=f"sweep {folder.name}", subtitle=str(folder), facts=facts,
                    sections=sections, kind="sweep")


def _overview(results: pd.DataFrame, params: list[str]) -> list[Item]:
    rows = [[p.removeprefix("param_"), ", ".join(fmt(v) for v in sorted(
        results[p].dropna().unique().tolist(), key=str))] for p in params]
    items: list[Item] = [Table(["parameter", "values"], rows, "Swept parameters")]
    if not params:
        items = [Note("No parameter varies: this is a set of replicates of one scenario.")]
    return items


def _plots(summary: pd.DataFrame, measures: list[str], varying: list[str]) -> list[Item]:
    if summary.empty:
        return [Note("No measure varies across the runs.")]
    if not varying:
        return [Note("No parameter varies, so there is nothing to plot against; see the table.")]
    x = max(varying, key=lambda c: summary[c].nunique())
    series = [c for c in varying if c != x][:2]
    plots: list[Plot | Table] = []
    for measure in measures:
        figure = measure_vs_parameter(summary, measure, x, series)
        if figure is not None:
            if pd.api.types.is_integer_dtype(summary[x]):
                integer_ticks(figure)
            plots.append(Plot(f"measures-{measure}", figure))
    return [Grid(plots)] if plots else [Note("No measure could be plotted.")]


def _table(summary: pd.DataFrame, params: list[str]) -> list[Item]:
    if summary.empty:
        return [Note("No measures.")]
    rows = [[*(fmt(getattr(r, p)) for p in params), str(r.measure).replace("_", " "),
             fmt(r.n), fmt(r.mean), f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]"]
            for r in summary.itertuples()]
    columns = [*(p.removeprefix("param_") for p in params), "measure", "n", "mean", "95% CI"]
    return [Table(columns, rows)]
