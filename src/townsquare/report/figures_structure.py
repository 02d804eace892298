"""Figures of structure: cascade size distribution, the largest cascade trees, the network.

All traces are SVG (no WebGL), so reports render the same in headless browsers and PNG export.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from townsquare.measure.cascades import cascade_size_distribution
from townsquare.report.extract import Network, Tree
from townsquare.report.plots import esc
from townsquare.report.style import (
    ATTITUDE_SCALE,
    FALSE,
    TRUE,
    UNVERIFIED,
    base_figure,
    veracity_colour,
)

KIND_SYMBOLS = {"post": "star", "repost": "circle", "quote": "diamond", "comment": "square"}


def size_ccdf(cascades: pd.DataFrame) -> go.Figure | None:
    """P(size >= s) on log-log axes, all cascades and split by veracity."""
    if cascades.empty:
        return None
    fig = base_figure()
    groups = [("all cascades", cascades, "#3e4c59")]
    for code, name, colour in ((2, "false", FALSE), (1, "true", TRUE)):
        part = cascades[cascades["veracity"] == code]
        if len(part):
            groups.append((f"{name} items", part, colour))
    for name, part, colour in groups:
        dist = cascade_size_distribution(part)
        fig.add_trace(go.Scatter(x=dist["size"], y=dist["ccdf"], mode="lines+markers",
                                 line_shape="hv", name=name,
                                 line={"color": colour, "width": 2}, marker={"size": 5}))
    fig.update_layout(xaxis_type="log", yaxis_type="log", xaxis_title="cascade size (posts)",
                      yaxis_title="P(size ≥ s)")
    return fig


def _segments(positions: np.ndarray, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Line coordinates (with None breaks) for edges child -> parent."""
    child = np.flatnonzero(parent >= 0)
    xs = np.full(3 * len(child), np.nan)
    ys = np.full(3 * len(child), np.nan)
    xs[0::3], ys[0::3] = positions[child, 0], positions[child, 1]
    xs[1::3], ys[1::3] = positions[parent[child], 0], positions[parent[child], 1]
    return xs, ys


def cascade_tree(tree: Tree) -> go.Figure:
    """One cascade: depth left to right, posts as markers by kind, coloured by veracity."""
    colour = veracity_colour(tree.veracity)
    fig = base_figure(height=max(300, min(640, 120 + 2 * len(tree.parent))))
    xs, ys = _segments(tree.positions, tree.parent)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#c5cdd6", "width": 1},
                             hoverinfo="skip", name="reshare link"))
    kinds = np.array(tree.kind)
    for kind in dict.fromkeys(tree.kind):
        rows = np.flatnonzero(kinds == kind)
        fig.add_trace(go.Scatter(
            x=tree.positions[rows, 0], y=tree.positions[rows, 1], mode="markers",
            name=esc(kind), marker={"color": colour, "symbol": KIND_SYMBOLS.get(kind, "circle"),
                                    "size": 12 if kind == "post" else 6,
                                    "line": {"color": "white", "width": 0.5}},
            customdata=tree.step[rows], hovertemplate=f"{esc(kind)}<br>step %{{customdata}}"
            "<br>depth %{x}<extra></extra>"))
    fig.update_layout(xaxis_title="depth (reshares from the original)",
                      yaxis={"visible": False}, showlegend=True)
    return fig


def network(net: Network) -> go.Figure:
    """The sampled follow graph, nodes coloured by final attitude or by leaning (grey: none)."""
    fig = base_figure(height=560)
    pos = net.positions
    lines = np.full((3 * len(net.src), 2), np.nan)
    lines[0::3], lines[1::3] = pos[net.src], pos[net.dst]
    fig.add_trace(go.Scatter(x=lines[:, 0], y=lines[:, 1], mode="lines", hoverinfo="skip",
                               line={"color": "rgba(120,130,140,0.25)", "width": 0.6},
                               name="follow"))
    known = np.isfinite(net.attitude)
    degree = np.bincount(np.concatenate([net.src, net.dst]), minlength=len(net.agents))
    size = 4 + 10 * np.sqrt(degree / max(degree.max(), 1))
    if (~known).any():
        rows = np.flatnonzero(~known)
        fig.add_trace(go.Scatter(
            x=pos[rows, 0], y=pos[rows, 1], mode="markers", name=f"{net.coloured_by} not recorded",
            marker={"color": UNVERIFIED, "size": size[rows], "opacity": 0.6},
            customdata=net.agents[rows], hovertemplate="agent %{customdata}<extra></extra>"))
    if known.any():
        rows = np.flatnonzero(known)
        label = (f"final attitude on {esc(net.topic)}" if net.coloured_by == "attitude"
                 else "political leaning")
        fig.add_trace(go.Scatter(
            x=pos[rows, 0], y=pos[rows, 1], mode="markers", name=f"agents ({label})",
            marker={"color": net.attitude[rows], "colorscale": ATTITUDE_SCALE, "cmin": -1,
                    "cmax": 1, "size": size[rows], "line": {"color": "white", "width": 0.4},
                    "colorbar": {"title": {"text": f"{net.coloured_by}<br>(-1 to 1)"},
                                 "thickness": 12}},
            customdata=np.column_stack([net.agents[rows], net.attitude[rows]]),
            hovertemplate=f"agent %{{customdata[0]}}<br>{net.coloured_by} "
            "%{customdata[1]:.2f}<extra></extra>"))
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
                      legend={"orientation": "h", "y": -0.02})
    return fig
