"""Figures of a sweep: a measure against a parameter, mean with its 95% confidence band."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from townsquare.measure.ranges import unit
from townsquare.report.document import fmt
from townsquare.report.plots import esc
from townsquare.report.style import SERIES, base_figure


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def measure_vs_parameter(summary: pd.DataFrame, measure: str, x: str,
                         series: list[str]) -> go.Figure | None:
    """Mean of ``measure`` against parameter column ``x``, one line per ``series`` combination.

    ``summary`` is the output of ``summarize_sweep`` (columns ``measure``,
    ``mean``, ``ci_low``, ``ci_high`` and the parameter columns). Numeric
    parameters get a shaded band; categorical ones error bars.
    """
    rows = summary[summary["measure"] == measure]
    if rows.empty or not np.isfinite(rows["mean"].to_numpy(float)).any():
        return None
    fig = base_figure(height=320)
    numeric = pd.api.types.is_numeric_dtype(rows[x]) and not pd.api.types.is_bool_dtype(rows[x])
    groups = rows.groupby(series, sort=True, dropna=False) if series else [((), rows)]
    for i, (key, group) in enumerate(groups):
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{c.removeprefix('param_')}={v}" for c, v in zip(series, key,
                                                                             strict=True))
        colour = SERIES[i % len(SERIES)]
        group = group.sort_values(x) if numeric else group
        xs = group[x].to_numpy() if numeric else group[x].astype(str).to_numpy()
        name = esc(label or "mean")
        if numeric:
            low, high = group["ci_low"].to_numpy(float), group["ci_high"].to_numpy(float)
            ok = np.isfinite(low) & np.isfinite(high)
            if ok.any():
                fig.add_trace(go.Scatter(
                    x=np.concatenate([xs[ok], xs[ok][::-1]]),
                    y=np.concatenate([high[ok], low[ok][::-1]]), mode="lines", fill="toself",
                    fillcolor=_rgba(colour, 0.18), line={"width": 0}, hoverinfo="skip",
                    name=f"{name} 95% CI", legendgroup=name, showlegend=False))
            fig.add_trace(go.Scatter(x=xs, y=group["mean"], mode="lines+markers", name=name,
                                     line={"color": colour, "width": 2}, legendgroup=name))
        else:
            fig.add_trace(go.Scatter(
                x=xs, y=group["mean"], mode="markers", name=name,
                marker={"color": colour, "size": 9},
                error_y={"type": "data", "symmetric": False,
                         "array": (group["ci_high"] - group["mean"]).fillna(0),
                         "arrayminus": (group["mean"] - group["ci_low"]).fillna(0)}))
    fig.update_layout(title={"text": esc(measure.replace("_", " ")), "x": 0.01,
                             "font": {"size": 14}},
                      xaxis_title=esc(x.removeprefix("param_")),
                      yaxis_title=f"mean ± 95% CI ({esc(unit(measure))})",
                      showlegend=bool(series), margin={"t": 48})
    return fig


def effect_forest(effects: pd.DataFrame, measure: str) -> go.Figure:
    """Difference from the reference arm with its 95% CI, one row per arm, zero marked."""
    fig = base_figure(height=max(220, 60 + 34 * len(effects)))
    low = (effects["difference"] - effects["ci_low"]).fillna(0)
    high = (effects["ci_high"] - effects["difference"]).fillna(0)
    hover = [f"difference {fmt(d)} [{fmt(a)}, {fmt(b)}]<br>p = {fmt(p)}, g = {fmt(g)}"
             for d, a, b, p, g in effects[["difference", "ci_low", "ci_high", "p_value",
                                           "hedges_g"]].itertuples(index=False)]
    fig.add_trace(go.Scatter(
        x=effects["difference"], y=[esc(a) for a in effects["arm"]], mode="markers",
        marker={"color": SERIES[0], "size": 9, "symbol": "diamond"}, name="difference",
        error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low,
                 "color": SERIES[0]},
        hovertext=hover, hoverinfo="text+y"))
    fig.add_vline(x=0, line={"color": "#52606d", "dash": "dash", "width": 1})
    fig.update_layout(title={"text": esc(measure.replace("_", " ")), "x": 0.01,
                             "font": {"size": 14}},
                      xaxis_title=f"difference from the reference arm ({esc(unit(measure))})",
                      showlegend=False, margin={"t": 48})
    return fig


def selectable(figures: dict[str, go.Figure]) -> go.Figure:
    """One figure holding several measures' figures, one shown at a time, chosen in a menu."""
    fig = base_figure(height=360)
    spans, first = [], True
    for measure, figure in figures.items():
        start = len(fig.data)
        for trace in figure.data:
            trace.visible = first
            fig.add_trace(trace)
        spans.append((measure, start, len(fig.data), figure.layout.xaxis.title.text,
                      figure.layout.yaxis.title.text))
        first = False
    buttons = []
    for measure, start, stop, x_title, y_title in spans:
        visible = [start <= i < stop for i in range(len(fig.data))]
        buttons.append({"label": esc(measure.replace("_", " ")), "method": "update",
                        "args": [{"visible": visible},
                                 {"title.text": esc(measure.replace("_", " ")),
                                  "xaxis.title.text": x_title, "yaxis.title.text": y_title}]})
    first_measure, _, _, x_title, y_title = spans[0]
    fig.update_layout(
        title={"text": esc(first_measure.replace("_", " ")), "x": 0.3, "font": {"size": 14}},
        xaxis_title=x_title, yaxis_title=y_title, margin={"t": 60},
        updatemenus=[{"buttons": buttons, "direction": "down", "x": 0.0, "xanchor": "left",
                      "y": 1.18, "yanchor": "top", "showactive": True}])
    return fig
