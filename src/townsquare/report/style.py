"""The report's visual language: one palette, one plotly template, shared by every figure.

False items are vermillion (red) and true items blue everywhere (lines, bars,
tree nodes), so a reader learns the code once; the palette is Okabe–Ito's. The
template is small on purpose: it is written into every figure's JSON.
"""

from __future__ import annotations

import plotly.graph_objects as go

FALSE = "#D55E00"  # Okabe–Ito vermillion
TRUE = "#0072B2"  # Okabe–Ito blue
UNVERIFIED = "#7f7f7f"
VERACITY_COLOURS = {"false": FALSE, "true": TRUE, "unverified": UNVERIFIED}
VERACITY_CODES = {0: "unverified", 1: "true", 2: "false"}

SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
          "#F0E442")
"""Colours for series without a meaning of their own (actions, parameters): the Okabe–Ito
palette, told apart under the common colour-vision deficiencies. Many series still
collapse to a few hues for some readers, so lines also differ by dash and marker."""

DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "triangle-down")


def series_style(i: int) -> dict[str, object]:
    """Line and marker of the i-th series: colour, dash and symbol all differ, so no
    two series depend on hue alone (8 colours x 6 dashes x 8 symbols)."""
    return {"line": {"color": SERIES[i % len(SERIES)], "dash": DASHES[i % len(DASHES)],
                     "width": 2},
            "marker": {"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 7, "maxdisplayed": 12}}


ATTITUDE_SCALE = "RdBu_r"
"""Diverging scale for attitudes in [-1, 1]: negative blue, positive red."""

DENSITY_SCALE = "Viridis"

FONT = "Inter, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT, "size": 13, "color": "#1f2933"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "colorway": list(SERIES),
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "hovermode": "closest",
        "legend": {"bgcolor": "rgba(255,255,255,0.8)", "borderwidth": 0},
        "xaxis": {"showgrid": True, "gridcolor": "#e7ebef", "zeroline": False,
                  "linecolor": "#9aa5b1", "ticks": "outside", "automargin": True},
        "yaxis": {"showgrid": True, "gridcolor": "#e7ebef", "zeroline": False,
                  "linecolor": "#9aa5b1", "ticks": "outside", "automargin": True},
    }
)


def veracity_colour(veracity: str | int) -> str:
    """Colour of a news item or cascade by its veracity (name or store code)."""
    name = VERACITY_CODES.get(veracity, "unverified") if isinstance(veracity, int) else veracity
    return VERACITY_COLOURS.get(str(name), UNVERIFIED)


def shade(colour: str, k: int, n: int) -> str:
    """The k-th of n shades of a colour (for several false or several true items)."""
    if n <= 1:
        return colour
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    t = 0.55 * k / (n - 1)  # blend toward white, at most 55 %
    mix = [round(c + (255 - c) * t) for c in (red, green, blue)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def base_figure(title: str | None = None, *, height: int = 360) -> go.Figure:
    """An empty figure with the report template, a height and an optional title."""
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, height=height,
                      title={"text": title, "x": 0.01, "font": {"size": 14}} if title else None)
    return fig
