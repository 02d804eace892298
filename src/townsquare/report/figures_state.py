"""Figures of agent state distributions: attitude and emotion histograms over steps."""

from __future__ import annotations

import plotly.graph_objects as go

from townsquare.report.extract import Histogram
from townsquare.report.plots import esc
from townsquare.report.style import DENSITY_SCALE, SERIES, base_figure


def distribution_heatmap(hist: Histogram, *, ytitle: str, scale: str = DENSITY_SCALE,
                         height: int = 380) -> go.Figure:
    """Share of agents per bin (rows) and step (columns)."""
    fig = base_figure(height=height)
    fig.add_trace(go.Heatmap(
        x=hist.steps, y=hist.centres, z=hist.shares.T, colorscale=scale,
        colorbar={"title": {"text": "share of agents"}, "thickness": 12},
        hovertemplate="step %{x}<br>" + ytitle + " %{y:.2f}<br>share %{z:.3f}<extra></extra>"))
    fig.update_layout(xaxis_title="step", yaxis_title=ytitle)
    return fig


def attitude_heatmap(hist: Histogram, topic: str) -> go.Figure:
    return distribution_heatmap(hist, ytitle=f"attitude on {esc(topic)}")


def final_attitudes(hists: dict[str, Histogram]) -> go.Figure | None:
    """Attitude distribution per topic at the first and the last snapshot."""
    if not hists:
        return None
    fig = base_figure(height=340)
    for i, (topic, hist) in enumerate(hists.items()):
        colour = SERIES[i % len(SERIES)]
        for row, dash, when in ((0, "dot", "start"), (-1, "solid", "end")):
            fig.add_trace(go.Scatter(
                x=hist.centres, y=hist.shares[row], mode="lines", line_shape="hvh",
                name=f"{esc(topic)} ({when}, step {int(hist.steps[row])})",
                line={"color": colour, "dash": dash, "width": 2}, legendgroup=esc(topic)))
    fig.update_layout(xaxis_title="attitude (-1 to 1)", yaxis_title="share of agents",
                      xaxis_range=[-1, 1])
    return fig


def emotion_heatmap(hist: Histogram) -> go.Figure:
    """Valence distribution over steps: a share per cell, so a sequential scale."""
    return distribution_heatmap(hist, ytitle="valence (-1 to 1)", height=340)
