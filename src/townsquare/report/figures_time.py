"""Figures of measures over steps: activity, belief, reach, emotion, moderation, LLM calls.

Each function takes already-extracted data and returns a plotly figure, or
None when the run recorded nothing to draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from townsquare.core.registry import metric_kind
from townsquare.environments.social.metrics import ACTION_COUNTS, COSTS
from townsquare.report.plots import (
    add_step_lines,
    colour_of,
    esc,
    finite,
    news_colours,
    panels,
    step_lines,
)
from townsquare.report.stream import metric_meta
from townsquare.report.style import FALSE, SERIES, TRUE, UNVERIFIED, base_figure, series_style


def activity(metrics: pd.DataFrame) -> go.Figure | None:
    """Actions per step, with the number of active agents dashed."""
    columns = [name for name in ACTION_COUNTS.names if name in metrics and metrics[name].sum() > 0]
    if not columns and "active" not in metrics:
        return None
    fig = base_figure(height=360)
    steps = metrics.index.to_numpy()
    for i, column in enumerate(columns):  # colour, dash and marker: never hue alone
        fig.add_trace(go.Scatter(x=steps, y=metrics[column].to_numpy(float),
                                 mode="lines+markers", name=esc(column[2:] + "s"),
                                 meta=metric_meta(column), **series_style(i)))
    if "active" in metrics:
        fig.add_trace(go.Scatter(x=steps, y=metrics["active"].to_numpy(float), mode="lines",
                                 name="active agents", meta=metric_meta("active"),
                                 line={"color": "#52606d", "dash": "dot", "width": 2}))
    fig.update_layout(xaxis_title="step", yaxis_title="actions (or agents) per step")
    return fig


def _news_metric(metrics: pd.DataFrame, news: pd.DataFrame, prefix: str) -> list[str]:
    return [str(i) for i in news["id"] if f"{prefix}{i}" in metrics]


def beliefs(metrics: pd.DataFrame, news: pd.DataFrame) -> go.Figure | None:
    """Mean belief in each news item and the share of agents who believe it (> 0.5)."""
    items = _news_metric(metrics, news, "belief_")
    if not items:
        return None
    colours = news_colours(news)
    fig = panels(["mean belief", "share of believers (belief > 0.5)"])
    veracity = dict(zip(news["id"].astype(str), news["veracity"], strict=True))
    names = [f"{i} ({veracity.get(i, 'unverified')})" for i in items]
    cols = [colour_of(i, colours) for i in items]
    add_step_lines(fig, metrics, [f"belief_{i}" for i in items], names=names, colours=cols,
                   row=1, col=1, legendgroup=items)
    believers = [i for i in items if f"believers_{i}" in metrics]
    add_step_lines(fig, metrics, [f"believers_{i}" for i in believers],
                   names=[names[items.index(i)] for i in believers],
                   colours=[colour_of(i, colours) for i in believers], row=1, col=2,
                   showlegend=False, legendgroup=believers)
    fig.update_xaxes(title_text="step")
    return fig


def reach(metrics: pd.DataFrame, news: pd.DataFrame) -> go.Figure | None:
    """Agents reached (exposed) and sharers of false vs true items, and of each item."""
    if not any(c.startswith(("reach_", "sharers_")) for c in metrics.columns):
        return None
    colours = news_colours(news)
    fig = panels(["agents reached", "agents who shared"])
    for col, prefix in ((1, "reach_"), (2, "sharers_")):
        for name, colour in (("false", FALSE), ("true", TRUE)):
            column = f"{prefix}{name}"
            if column in metrics and finite(metrics[column]):
                fig.add_trace(go.Scatter(
                    x=metrics.index, y=metrics[column], mode="lines", name=f"all {name} items",
                    line={"color": colour, "width": 3}, legendgroup=name,
                    meta=metric_meta(column),
                    showlegend=col == 1), row=1, col=col)
        items = _news_metric(metrics, news, prefix)
        for item in items:
            fig.add_trace(go.Scatter(
                x=metrics.index, y=metrics[f"{prefix}{item}"], mode="lines", name=esc(item),
                line={"color": colour_of(item, colours), "width": 1.5, "dash": "dot"},
                legendgroup=f"item-{item}", showlegend=col == 1,
                meta=metric_meta(f"{prefix}{item}")), row=1, col=col)
    fig.update_xaxes(title_text="step")
    return fig


def emotion_means(metrics: pd.DataFrame) -> go.Figure | None:
    """Mean valence and arousal over steps."""
    columns = [c for c in ("valence_mean", "arousal_mean") if c in metrics]
    if not columns:
        return None
    return step_lines(metrics, columns, names=[c.split("_")[0] for c in columns],
                      colours=[SERIES[2], SERIES[1]][: len(columns)],
                      dashes=["solid", "dash"][: len(columns)],
                      ytitle="mean (valence -1 to 1, arousal 0 to 1)")


LABEL_NAMES = {1: "fact check", 2: "community note", 3: "removed"}


def moderation(labels: pd.DataFrame, metrics: pd.DataFrame) -> go.Figure | None:
    """Labels applied per step (bars by kind) and cumulative moderation cost (lines)."""
    cost_columns = [c for c in metrics.columns
                    if metric_kind(c) is COSTS and metrics[c].abs().sum() > 0]
    if labels.empty and not cost_columns:
        return None
    fig = panels(["labels applied per step", "cumulative cost (cost units)"])
    if not labels.empty:
        kinds = labels.assign(kind=[LABEL_NAMES.get(int(v), f"label {v}") for v in
                                    labels["label"]])
        table = kinds.pivot_table(index="step", columns="kind", values="n", aggfunc="sum")
        for i, kind in enumerate(table.columns):
            fig.add_trace(go.Bar(x=table.index, y=table[kind].fillna(0), name=esc(kind),
                                 marker_color=SERIES[(i + 2) % len(SERIES)]), row=1, col=1)
        fig.update_layout(barmode="stack")
    for i, column in enumerate(cost_columns):
        fig.add_trace(go.Scatter(x=metrics.index, y=metrics[column], mode="lines",
                                 name=esc(column.replace("_", " ")), meta=metric_meta(column),
                                 line={"color": SERIES[i % len(SERIES)], "width": 2}),
                      row=1, col=2)
    fig.update_xaxes(title_text="step")
    return fig


def interventions(firings: pd.DataFrame) -> go.Figure | None:
    """Units touched by each scheduled intervention per firing."""
    if firings.empty:
        return None
    fig = base_figure()
    for i, (name, group) in enumerate(firings.groupby("name", sort=False)):
        fig.add_trace(go.Bar(x=group["step"], y=group["units"].fillna(0), name=esc(name),
                             marker_color=SERIES[i % len(SERIES)],
                             customdata=group["cost"].fillna(0),
                             hovertemplate="step %{x}<br>units %{y}<br>cost %{customdata}"))
    fig.update_layout(barmode="group", xaxis_title="step", yaxis_title="units touched")
    return fig


def llm_calls(per_step: pd.DataFrame, latency: pd.DataFrame,
              metrics: pd.DataFrame) -> go.Figure | None:
    """LLM calls, cache hits and fallbacks per step; latency p50/p95; cumulative cost."""
    if per_step.empty:
        return None
    fig = panels(["calls per step", "latency of network calls (ms)",
                  "cumulative cost (currency of llm.cost_per_1k_*)"])
    steps = per_step["step"]
    fig.add_trace(go.Bar(x=steps, y=per_step["calls"], name="calls",
                         marker_color=SERIES[0]), row=1, col=1)
    if "cache_hit" in per_step:
        fig.add_trace(go.Bar(x=steps, y=per_step["cache_hit"], name="cache hits",
                             marker_color=SERIES[2]), row=1, col=1)
    fallback = (per_step.set_index("step")["fallback"] if "fallback" in per_step
                else metrics.get("fallbacks"))
    if fallback is not None:
        fig.add_trace(go.Scatter(x=fallback.index, y=fallback.to_numpy(float),
                                 mode="lines+markers", name="fallbacks",
                                 line={"color": FALSE}), row=1, col=1)
    if not latency.empty:
        q = latency.groupby("step")["latency_ms"].quantile([0.5, 0.95]).unstack()
        for quantile, dash in ((0.5, "solid"), (0.95, "dash")):
            fig.add_trace(go.Scatter(x=q.index, y=q[quantile], mode="lines",
                                     name=f"p{int(quantile * 100)} latency",
                                     line={"color": SERIES[3], "dash": dash}), row=1, col=2)
    if "cost" in per_step:
        fig.add_trace(go.Scatter(x=steps, y=np.cumsum(per_step["cost"].fillna(0).to_numpy()),
                                 mode="lines", name="cost", line={"color": UNVERIFIED}),
                      row=1, col=3)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="step")
    return fig
