"""Render a :class:`Document` (or the runs index) as HTML with jinja2, escaping everything.

Autoescaping is on for every template: table cells, notes, captions, titles
and the scenario text are data and are escaped once, here. Figures travel as
one JSON block made :func:`~townsquare.report.document.script_safe`. A static
report inlines the plotly.js bundle of the installed plotly package, so the
file works offline and draws every figure at once; the dashboard links it once from its
own server instead (``/static/plotly.min.js``, cached by the browser for a day) and draws
each plot only when it scrolls into view (``body[data-lazy]``, see ``report.js``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2

from townsquare import __version__
from townsquare.report.document import Document


@dataclass(frozen=True)
class Live:
    """URLs a dashboard page polls to follow a running run."""

    status_url: str
    figures_url: str
    series_url: str = ""
    layout: str = ""  # fingerprint of the streamed traces; the page reloads when it changes


@dataclass(frozen=True)
class Controls:
    """What a dashboard page offers beyond the report: run controls, downloads, agent
    pages, an interview box (each only when its URL is set)."""

    run_href: str = ""  # the run's page (agent pages link back to it)
    control_url: str = ""  # POST {control_url}/{pause|stop|resume}, GET .../control
    tables: tuple[str, ...] = ()  # the run's tables, downloadable as CSV and Parquet
    tables_href: str = ""
    report_href: str = ""  # the self-contained report file
    interview_url: str | None = None  # POST {"question"} when a model is configured


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("townsquare.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped inside the plotly Python package (no download)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render_document(doc: Document, *, plotly_src: str | None = None, live: Live | None = None,
                    dashboard: str | None = None, controls: Controls | None = None) -> str:
    """A whole report page.

    Parameters
    ----------
    doc
        What to show.
    plotly_src
        URL of plotly.js; None inlines the bundle (a self-contained file).
    live
        Poll these URLs to follow a running run (dashboard only).
    dashboard
        Link back to the dashboard's run list, if served.
    controls
        The dashboard's controls, downloads and links of this page.
    """
    template = _environment().get_template("report.html.j2")
    return template.render(
        doc=doc, version=__version__, plotly_src=plotly_src,
        plotly_js="" if plotly_src else plotly_js(), live=live, dashboard=dashboard,
        figures_json=doc.figures_json(), controls=controls,
    )


def render_index(runs: list[dict[str, Any]], sweeps: list[dict[str, Any]], runs_dir: str,
                 api_runs: str = "/api/runs", scenarios: list[str] | None = None) -> str:
    """The dashboard's list of runs and sweeps; with ``scenarios``, a form to start a run."""
    template = _environment().get_template("index.html.j2")
    return template.render(runs=runs, sweeps=sweeps, runs_dir=runs_dir, api_runs=api_runs,
                           runs_base="/runs/", version=__version__, scenarios=scenarios or [])
