"""Two or more runs on the same plots: each metric over steps, one line per run.

The main metrics (activity, reach of false and true items, emotion, active
agents) get a figure each when every compared run recorded them; every other
metric recorded by all runs is in one figure with a menu. A table lists the
runs with their settings and summaries side by side.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from townsquare.errors import UserError
from townsquare.measure.ranges import unit
from townsquare.report.document import Document, Grid, Item, Note, Plot, Section, Table, fmt
from townsquare.report.figures_sweep import selectable
from townsquare.report.plots import esc, integer_ticks
from townsquare.report.style import base_figure, series_style
from townsquare.run import Run

MAIN = ("n_post", "n_repost", "active", "reach_false", "reach_true", "valence_mean",
        "arousal_mean", "moderation_cost")
MAX_RUNS = 8


def compare_document(runs: list[Run]) -> Document:
    """The comparison page of ``runs`` (2 to ``MAX_RUNS`` of them)."""
    if not 2 <= len(runs) <= MAX_RUNS:
        raise UserError(f"compare 2 to {MAX_RUNS} runs, not {len(runs)}")
    metrics = {run.id: run.reader.metrics(wide=True) for run in runs}
    common = [c for c in next(iter(metrics.values())).columns
              if all(c in frame.columns for frame in metrics.values())]
    main = [m for m in MAIN if m in common]
    other = [m for m in common if m not in main]
    plots: list[Plot | Table] = []
    for name in main:
        plots.append(Plot(f"compare-{name}", _figure(metrics, name)))
    items: list[Item] = [Grid(plots)] if plots else [
        Note("These runs have no metric in common to plot.")]
    if other:
        items.append(Plot("compare-other", selectable({m: _figure(metrics, m) for m in other}),
                          f"{len(other)} other metrics recorded by every run: pick one in the "
                          "menu at the top left."))
    sections = [Section("runs", "Runs compared", [_table(runs)]),
                Section("metrics", "Metrics over steps", items)]
    names = ", ".join(run.id for run in runs)
    return Document(title=f"{len(runs)} runs compared", subtitle=names,
                    facts={"runs": str(len(runs))}, sections=sections, kind="compare")


def _figure(metrics: dict[str, pd.DataFrame], name: str) -> go.Figure:
    fig = base_figure(name.replace("_", " "), height=360)
    for i, (run_id, frame) in enumerate(metrics.items()):
        fig.add_trace(go.Scatter(x=frame.index.to_numpy(), y=frame[name].to_numpy(float),
                                 mode="lines", name=esc(run_id), **series_style(i)))
    fig.update_layout(xaxis_title="step", yaxis_title=unit(name) or name.replace("_", " "),
                      legend={"orientation": "h", "y": -0.3, "yanchor": "top"},
                      margin={"b": 40 + 22 * len(metrics)})
    integer_ticks(fig)
    return fig


def _table(runs: list[Run]) -> Table:
    metas = [run.meta() for run in runs]
    summaries: list[dict[str, Any]] = []
    for run in runs:
        try:
            summaries.append(run.summary())
        except UserError:
            summaries.append({})
    rows = [["scenario", *(str(m.get("scenario_name") or "") for m in metas)],
            ["status", *(str(m.get("status") or "") for m in metas)],
            ["agents", *(fmt(m.get("n_agents")) for m in metas)],
            ["steps", *(fmt(m.get("steps")) for m in metas)],
            ["seed", *(fmt(m.get("seed")) for m in metas)]]
    keys = [k for k in summaries[0] if all(k in s for s in summaries[1:])]
    rows += [[k.replace("_", " "), *(fmt(s[k]) for s in summaries)] for k in keys
             if all(isinstance(s[k], (int, float)) for s in summaries)]
    return Table(["", *(run.id for run in runs)], rows, "Settings and summaries")
