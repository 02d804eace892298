"""Survey answers over waves, one panel per answer scale.

A Likert point (1..k), a choice index (0..k-1) and a state on its own scale
(belief 0..1, attitude -1..1) are different units: drawn on one axis they would
read as comparable numbers. Each question's scale comes from the scenario as
run (``surveys[].questions[]``: ``kind``, ``scale``, ``options``, ``measures``)
and questions sharing a scale share a panel, with the scale's range and name
on its y axis.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from townsquare.report.plots import esc, panels
from townsquare.report.style import series_style

# the range of a text or numeric answer, by the state it reports (see measure.surveys.answer)
STATE_RANGE = {"belief": (0.0, 1.0), "arousal": (0.0, 1.0), "attitude": (-1.0, 1.0),
               "valence": (-1.0, 1.0)}


def question_scales(scenario: dict[str, Any]) -> dict[tuple[str, str], tuple[str, float, float]]:
    """(survey, question) -> (scale name, low, high) from a run's scenario tree."""
    out: dict[tuple[str, str], tuple[str, float, float]] = {}
    for survey in scenario.get("surveys") or []:
        for question in survey.get("questions") or []:
            kind = question.get("kind", "likert")
            if kind == "likert":
                points = int(question.get("scale", 5))
                scale = (f"Likert point (1-{points})", 1.0, float(points))
            elif kind == "choice":
                options = question.get("options") or []
                scale = (f"choice index (0 = {options[0]} ... {len(options) - 1} = "
                         f"{options[-1]})" if options else "choice index", 0.0,
                         float(max(len(options) - 1, 1)))
            else:
                measures = question.get("measures", "attitude")
                low, high = STATE_RANGE.get(measures, (-1.0, 1.0))
                scale = (f"{measures} ({low:g} to {high:g})", low, high)
            out[(str(survey.get("id")), str(question.get("id")))] = scale
    return out


def survey_means(summary: pd.DataFrame, scenario: dict[str, Any]) -> go.Figure | None:
    """Mean answer per wave with its 95% CI, one line per question, one panel per scale."""
    if summary.empty:
        return None
    scales = question_scales(scenario)
    keys = list(summary.groupby(["survey", "question"], sort=True).groups)
    unknown = ("answer (scale not recorded)", float("nan"), float("nan"))
    order = list(dict.fromkeys(scales.get((str(s), str(q)), unknown) for s, q in keys))
    fig = panels([name for name, _, _ in order], height=380)
    for i, ((survey, question), group) in enumerate(summary.groupby(["survey", "question"],
                                                                    sort=True)):
        scale = scales.get((str(survey), str(question)), unknown)
        col = order.index(scale) + 1
        fig.add_trace(go.Scatter(
            x=group["step"], y=group["mean"], mode="lines+markers",
            name=esc(f"{survey}: {question}"), **series_style(i),
            error_y={"type": "data", "symmetric": False,
                     "array": (group["ci_high"] - group["mean"]).fillna(0),
                     "arrayminus": (group["mean"] - group["ci_low"]).fillna(0)}),
            row=1, col=col)
    for col, (name, low, high) in enumerate(order, start=1):
        fig.update_xaxes(title_text="step (survey wave)", row=1, col=col)
        axis: dict[str, Any] = {"title_text": esc(name)}
        if low == low and high == high:  # not NaN: a known range
            pad = 0.05 * (high - low)
            axis["range"] = [low - pad, high + pad]
        fig.update_yaxes(row=1, col=col, **axis)
    return fig
