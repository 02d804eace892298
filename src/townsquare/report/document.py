"""The report as data: sections of figures, tables and notes, before any HTML.

Builders (``run_sections``, ``sweep_sections``) produce a :class:`Document`;
the HTML page, the dashboard and the PNG export all render the same one. Table
cells and notes are plain text here; escaping happens once, in the renderer.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, field
from typing import ClassVar

import plotly.graph_objects as go
import plotly.io as pio


@dataclass
class Plot:
    """One interactive figure with a stable id (used by live updates and PNG names)."""

    kind: ClassVar[str] = "plot"

    id: str
    figure: go.Figure
    caption: str = ""


@dataclass
class Table:
    """A small table of text cells."""

    kind: ClassVar[str] = "table"

    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    links: list[str | None] | None = None  # per row: the first cell links there (if any)


@dataclass
class Note:
    """A paragraph of plain text (why a section is empty, how to read a plot)."""

    kind: ClassVar[str] = "note"

    text: str
    pending: bool = False  # stands for content still being drawn (a live page fills it in)


@dataclass
class Code:
    """Preformatted text (the scenario TOML)."""

    kind: ClassVar[str] = "code"

    text: str
    caption: str = ""


@dataclass
class Grid:
    """Tables or plots shown side by side (two per row on a wide screen)."""

    items: list[Plot | Table]
    kind: ClassVar[str] = "grid"


Item = Plot | Table | Note | Code | Grid


@dataclass
class Section:
    id: str
    title: str
    items: list[Item] = field(default_factory=list)

    @property
    def plots(self) -> list[Plot]:
        found: list[Plot] = []
        for item in self.items:
            if isinstance(item, Plot):
                found.append(item)
            elif isinstance(item, Grid):
                found.extend(i for i in item.items if isinstance(i, Plot))
        return found


@dataclass
class Document:
    """A whole report: header facts, sections, and what the dashboard needs to go live."""

    title: str
    subtitle: str
    facts: dict[str, str]
    sections: list[Section]
    kind: str = "run"  # "run" or "sweep"
    run_id: str | None = None
    status: str | None = None
    last_step: int | None = None
    steps: int | None = None
    pending: bool = False  # some sections are still being drawn (a live page's first draw)

    @property
    def plots(self) -> list[Plot]:
        return [plot for section in self.sections for plot in section.plots]

    def figures_json(self) -> str:
        """All figures as one JSON object ``{id: {data, layout}}``, safe inside ``<script>``."""
        parts = [f"{json.dumps(p.id)}:{pio.to_json(p.figure, validate=False)}"
                 for p in self.plots]
        return script_safe("{" + ",".join(parts) + "}")


def fmt(value: object) -> str:
    """A number as a reader wants it in a table; anything else as text."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            return "–" if math.isnan(value) else str(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def script_safe(text: str) -> str:
    """JSON text that cannot close or confuse an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as JSON unicode escapes, which parse to
    the same strings; so a post text ``</script><script>...`` stays data.
    """
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
