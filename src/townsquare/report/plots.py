"""Small plotting helpers shared by the figure modules: escaping, lines over steps, panels.

Any text that comes from a run (news ids, topic names, post text, model
output) is passed through :func:`esc` before it enters a figure: plotly
interprets a few HTML tags in labels and hover text, and run text is data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from townsquare.report.stream import metric_meta
from townsquare.report.style import TEMPLATE, UNVERIFIED, base_figure, shade, veracity_colour


def esc(text: object) -> str:
    """Run text made safe for plotly labels and hover text."""
    return html.escape(str(text), quote=True)


def step_lines(frame: pd.DataFrame, columns: Sequence[str], *, names: Sequence[str] | None = None,
               colours: Sequence[str | None] | None = None, title: str | None = None,
               ytitle: str = "", dashes: Sequence[str] | None = None,
               height: int = 360) -> go.Figure:
    """One line per metric column over the step index."""
    fig = base_figure(title, height=height)
    add_step_lines(fig, frame, columns, names=names, colours=colours, dashes=dashes)
    fig.update_layout(xaxis_title="step", yaxis_title=ytitle)
    return fig


def add_step_lines(fig: go.Figure, frame: pd.DataFrame, columns: Sequence[str], *,
                   names: Sequence[str] | None = None,
                   colours: Sequence[str | None] | None = None,
                   dashes: Sequence[str] | None = None, row: int | None = None,
                   col: int | None = None, showlegend: bool = True,
                   legendgroup: Sequence[str] | None = None) -> None:
    steps = frame.index.to_numpy()
    for i, column in enumerate(columns):
        line: dict[str, object] = {"width": 2}
        if colours is not None and colours[i] is not None:
            line["color"] = colours[i]
        if dashes is not None:
            line["dash"] = dashes[i]
        trace = go.Scatter(x=steps, y=frame[column].to_numpy(float), mode="lines",
                           name=esc(names[i] if names else column), line=line,
                           showlegend=showlegend,
                           legendgroup=legendgroup[i] if legendgroup else None,
                           meta=metric_meta(column))
        fig.add_trace(trace, row=row, col=col)


def panels(titles: Sequence[str], *, height: int = 360, shared_x: bool = False) -> go.Figure:
    """A figure of side-by-side panels sharing the template."""
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=[esc(t) for t in titles],
                        shared_xaxes=shared_x, horizontal_spacing=0.1)
    fig.update_layout(template=TEMPLATE, height=height)
    fig.update_annotations(font_size=13)
    return fig


def news_colours(news: pd.DataFrame) -> dict[str, str]:
    """Colour per news id: red shades for false items, blue for true, grey otherwise."""
    out: dict[str, str] = {}
    for veracity, group in news.groupby("veracity", sort=False):
        for k, item in enumerate(group["id"]):
            out[str(item)] = shade(veracity_colour(str(veracity)), k, len(group))
    return out


def colour_of(item: str, colours: dict[str, str]) -> str:
    return colours.get(item, UNVERIFIED)


def integer_ticks(fig: go.Figure) -> None:
    """Whole-number ticks on linear x axes whose data are a few integers (steps, depths)."""
    spans: dict[str, list[float]] = {}
    for trace in fig.data:
        x = getattr(trace, "x", None)
        if x is None or getattr(trace, "type", "") not in ("scatter", "bar", "heatmap"):
            continue
        values = pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce").dropna()
        if len(values) == 0 or not np.all(values.to_numpy(float) % 1 == 0):
            spans.setdefault(trace.xaxis or "x", []).append(np.inf)
            continue
        spans.setdefault(trace.xaxis or "x", []).extend([values.min(), values.max()])
    for axis, bounds in spans.items():
        name = "xaxis" + axis[1:]
        small = np.isfinite(bounds).all() and max(bounds) - min(bounds) <= 12
        if small and fig.layout[name].type != "log":
            fig.layout[name].dtick = 1


def finite(values: np.ndarray) -> bool:
    """Whether an array holds at least one finite number worth plotting."""
    values = np.asarray(values, dtype=float)
    return bool(np.isfinite(values).any())
