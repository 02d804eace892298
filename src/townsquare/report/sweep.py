"""The report of a sweep: measures against swept parameters, over replicates, with CIs.

A sweep is a folder holding ``results.parquet``, one row per run: a
``param_<name>`` column per swept parameter, ``replicate``, ``seed`` and one
column per measure (see :mod:`townsquare.experiments.sweep`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from townsquare.errors import DataError
from townsquare.experiments.stats import measure_columns, summarize_sweep
from townsquare.report.document import (
    Document,
    Grid,
    Item,
    Note,
    Plot,
    Section,
    Table,
    fmt,
)
from townsquare.report.effects import effect_items
from townsquare.report.figures_sweep import measure_vs_parameter, selectable
from townsquare.report.plots import integer_ticks

RESULTS = "results.parquet"
REPORT_FILE = "report.html"  # as build.REPORT_FILE (build imports this module)
SKIPPED_MEASURES = ("wall_seconds",)
FALLBACK_MAIN = 4  # main measures when the sweep names no headline


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


def measure_groups(results: pd.DataFrame, headline: list[str]
                   ) -> tuple[list[str], list[str], list[str]]:
    """(main, other, constant) measures of a results table.

    Main: the scenario's headline measures found in the results, all of them and
    first, varying or not (else the first few varying summary measures). Other:
    every remaining measure that varies (selectable in the report). Constant: the
    rest, listed by name so nothing disappears silently.
    """
    names = [m for m in measure_columns(results) if m not in SKIPPED_MEASURES]
    varying = [m for m in names if results[m].nunique(dropna=True) > 1]
    main = [m for m in headline if m in names]
    if not main:
        primary = [m for m in varying if not m.startswith("final_")] or varying
        main = primary[:FALLBACK_MAIN]
    other = [m for m in varying if m not in main]
    constant = [m for m in names if m not in main and m not in other]
    return main, other, constant


def sweep_headline(folder: Path) -> tuple[list[str], dict[str, str]]:
    """The swept scenario's headline measures and short parameter labels (from the manifest;
    none for a folder holding only a results table)."""
    from townsquare.experiments.grid import MANIFEST, read_manifest
    from townsquare.experiments.sweep import short_labels

    if not (folder / MANIFEST).is_file():
        return [], {}
    return list(read_manifest(folder).scenario.headline), short_labels(folder)


def sweep_document(folder: str | Path,
                   run_href: Callable[[str], str | None] | None = None) -> Document:
    """The report of the sweep in ``folder``.

    ``run_href`` gives the link of each run's report (the dashboard's run pages);
    by default a run links to its ``report.html`` when one has been written.
    """
    folder = Path(folder)
    results = load_results(folder)
    params = [c for c in results.columns if c.startswith("param_")]
    varying = [c for c in params if results[c].nunique(dropna=False) > 1]
    headline, labels = sweep_headline(folder)
    main, other, constant = measure_groups(results, headline)
    measures = main + other
    summary = summarize_sweep(results, measures, by=params) if measures else pd.DataFrame()
    replicates = results.groupby(params, dropna=False).size() if params else pd.Series(
        [len(results)])
    facts = {"runs": fmt(len(results)), "parameters": ", ".join(
        p.removeprefix("param_") for p in params) or "none",
        "arms": fmt(len(replicates)), "replicates per arm": fmt(int(replicates.median()))}
    sections = [
        Section("overview", "Sweep", _overview(results, params)),
        Section("measures", "Measures vs parameters",
                _plots(summary, main, other, constant, varying)),
        Section("effects", "Effects against the reference arm",
                effect_items(results, main, other, params, labels)),
        Section("table", "Means and 95% confidence intervals", _table(summary, params)),
        Section("runs", "Runs", _runs(results, params, folder, run_href)),
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


def _plots(summary: pd.DataFrame, main: list[str], other: list[str], constant: list[str],
           varying: list[str]) -> list[Item]:
    if summary.empty:
        return [Note("No measure varies across the runs.")]
    if not varying:
        return [Note("No parameter varies, so there is nothing to plot against; see the table.")]
    x = max(varying, key=lambda c: summary[c].nunique())
    series = [c for c in varying if c != x][:2]
    plots: list[Plot | Table] = []
    for measure in main:
        figure = measure_vs_parameter(summary, measure, x, series)
        if figure is not None:
            if pd.api.types.is_integer_dtype(summary[x]):
                integer_ticks(figure)
            plots.append(Plot(f"measures-{measure}", figure))
    items: list[Item] = [Grid(plots)] if plots else [Note("No main measure could be plotted.")]
    figures = {m: f for m in other
               if (f := measure_vs_parameter(summary, m, x, series)) is not None}
    if figures:
        items.append(Plot("measures-other", selectable(figures),
                          caption=f"{len(figures)} other measures that vary: pick one in the "
                          "menu at the top left."))
    if constant:
        items.append(Note("Constant across every run (not plotted): "
                          + ", ".join(m.replace("_", " ") for m in constant) + "."))
    return items


def _runs(results: pd.DataFrame, params: list[str], folder: Path,
          run_href: Callable[[str], str | None] | None) -> list[Item]:
    """Every run of the sweep with its arm, replicate and seed, linked to its report."""
    if "run_id" not in results.columns:
        return [Note("This results table names no runs (no run_id column).")]

    def written(run_id: str) -> str | None:
        report = folder / run_id / REPORT_FILE
        return report.resolve().as_uri() if report.is_file() else None

    href = run_href or written
    ordered = results.sort_values([*params, "replicate"]) if params else results
    columns = ["run_id", *params, "replicate", "seed"]
    columns = [c for c in columns if c in ordered.columns]
    ids = [str(r) for r in ordered["run_id"]]
    rows = [[fmt(v) if not isinstance(v, str) else v for v in row]
            for row in ordered[columns].itertuples(index=False)]
    links = [href(run_id) for run_id in ids]
    note = ("Each run links to its report." if run_href else
            f"A run links to its report once written (`townsquare report {folder}/RUN`); "
            f"{sum(1 for link in links if link)} of {len(links)} are.")
    return [Table([c.removeprefix("param_").replace("_", " ") for c in columns], rows, note,
                  links=links)]


def _table(summary: pd.DataFrame, params: list[str]) -> list[Item]:
    if summary.empty:
        return [Note("No measures.")]
    rows = [[*(fmt(getattr(r, p)) for p in params), str(r.measure).replace("_", " "),
             fmt(r.n), fmt(r.mean), f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]"]
            for r in summary.itertuples()]
    columns = [*(p.removeprefix("param_") for p in params), "measure", "n", "mean", "95% CI"]
    return [Table(columns, rows, "Intervals are clipped to each measure's range (counts "
                  "at 0, shares at 0 and 1).")]
