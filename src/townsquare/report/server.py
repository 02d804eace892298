"""The local dashboard: a starlette app listing runs and sweeps and following live runs.

Pages are the same documents as ``townsquare report`` builds, generated on
request and cached per run until its ``last_step`` or status changes. An open
page of a running run is never rebuilt: it polls ``/api/runs/{id}/series`` for
the metrics committed since its last step and appends them to its plots. Every
database is opened read-only (WAL lets a running simulation keep writing).
Run and sweep names in URLs are looked up among the folders actually listed
under the runs folder, never joined into a path unchecked, so no URL reaches
outside it.
"""

from __future__ import annotations

import html
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from townsquare.errors import UserError
from townsquare.report.build import run_report
from townsquare.report.document import Document, fmt
from townsquare.report.guard import Guard
from townsquare.report.html import Live, plotly_js, render_document, render_index
from townsquare.report.stream import TraceMap, metric_traces, series_since, signature
from townsquare.report.sweep import RESULTS, load_results, sweep_document
from townsquare.run import Run
from townsquare.store import RUN_FILE, PostgresRun, list_runs, open_reader
from townsquare.store.postgres.layout import is_store_url, redact_url

PLOTLY_URL = "/static/plotly.min.js"
CACHE_SIZE = 16


@dataclass
class _Page:
    key: tuple[Any, ...]
    doc: Document
    html: str
    figures: str
    traces: TraceMap


class Dashboard:
    """The state behind the app: the runs folder and a small cache of rendered pages."""

    def __init__(self, runs_dir: Path | str) -> None:
        self.store = str(runs_dir) if is_store_url(runs_dir) else None  # a PostgreSQL store
        self.runs_dir = Path(".").resolve() if self.store else Path(runs_dir).resolve()
        self._cache: OrderedDict[tuple[str, str], _Page] = OrderedDict()
        self._lock = threading.Lock()

    # -- finding runs and sweeps

    def runs(self) -> list[dict[str, Any]]:
        """The runs in the folder; a symlink to a run elsewhere is not followed."""
        return list_runs(self.store or self.runs_dir, within=True)

    def sweeps(self) -> list[Path]:
        if self.store is not None or not self.runs_dir.is_dir():
            return []
        return sorted(p for p in self.runs_dir.iterdir()
                      if p.resolve().is_relative_to(self.runs_dir) and (p / RESULTS).is_file())

    def run_path(self, run_id: str) -> Path | PostgresRun:
        """The folder of a listed run; 404 for anything else (``..``, slashes, unknown ids).

        The id is compared with the names of the run folders in the runs folder
        (cheap: no database is opened), never joined into a path; in a PostgreSQL
        store, with the ids in its registry.
        """
        if self.store is not None:
            for info in list_runs(self.store):
                if info["run_id"] == run_id:
                    return cast(PostgresRun, info["path"])
        elif self.runs_dir.is_dir():
            for path in self.runs_dir.iterdir():
                if path.name == run_id and (path / RUN_FILE).is_file():
                    return self._inside(path)
        raise HTTPException(404, f"no run {run_id!r} in this dashboard")

    def sweep_path(self, name: str) -> Path:
        for path in self.sweeps():
            if path.name == name:
                return self._inside(path)
        raise HTTPException(404, f"no sweep {name!r} in this dashboard")

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if not resolved.is_relative_to(self.runs_dir):
            raise HTTPException(404, "not found")
        return resolved

    # -- pages

    def run_page(self, run_id: str) -> _Page:
        path = self.run_path(run_id)
        with open_reader(path) as reader:
            meta = reader.meta()
        key = (meta.get("last_step"), meta.get("status"))
        return self._cached(("run", run_id), key, lambda: self._render_run(path, run_id))

    def sweep_page(self, name: str) -> _Page:
        path = self.sweep_path(name)
        stat = (path / RESULTS).stat()
        return self._cached(("sweep", name), (stat.st_mtime_ns, stat.st_size),
                            lambda: self._render(sweep_document(path)))

    def _cached(self, name: tuple[str, str], key: tuple[Any, ...], make: Any) -> _Page:
        with self._lock:
            page = self._cache.get(name)
            if page is None or page.key != key:
                page = make()
                page.key = key
                self._cache[name] = page
            self._cache.move_to_end(name)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return page

    def _render_run(self, path: Path | PostgresRun, run_id: str) -> _Page:
        run = Run(path)
        try:
            doc = run_report(run)
        finally:
            run.reader.close()
        traces = metric_traces(doc)
        live = Live(status_url=f"/api/runs/{run_id}/status",
                    figures_url=f"/api/runs/{run_id}/figures",
                    series_url=f"/api/runs/{run_id}/series", layout=signature(traces))
        return self._render(doc, live, traces)

    def _render(self, doc: Document, live: Live | None = None,
                traces: TraceMap | None = None) -> _Page:
        html = render_document(doc, plotly_src=PLOTLY_URL, live=live, dashboard="/")
        return _Page(key=(), doc=doc, html=html, figures=doc.figures_json(), traces=traces or {})

    def _traces(self, run_id: str) -> TraceMap:
        """Which traces stream which metrics, from the page last served (rendered if none)."""
        with self._lock:
            page = self._cache.get(("run", run_id))
        return (page or self.run_page(run_id)).traces

    # -- JSON

    def status(self, run_id: str) -> dict[str, Any]:
        """Cheap live status: last step, status and the latest step's metrics."""
        path = self.run_path(run_id)
        with open_reader(path) as reader:
            meta = {k: v for k, v in reader.meta().items() if k != "scenario_toml"}
            rows = reader.query("SELECT name, value FROM metrics WHERE step = "
                                "(SELECT MAX(step) FROM metrics)")
        metrics = {str(n): (float(v) if v is not None and math.isfinite(v) else None)
                   for n, v in zip(rows["name"], rows["value"], strict=True)}
        return {"run_id": run_id, "status": meta.get("status"),
                "last_step": meta.get("last_step"), "steps": meta.get("steps"),
                "n_agents": meta.get("n_agents"), "scenario": meta.get("scenario_name"),
                "metrics": metrics}

    def series(self, run_id: str, since: int) -> dict[str, Any]:
        """The points of the streamed plots at committed steps after ``since``."""
        traces = self._traces(run_id)
        path = self.run_path(run_id)
        with open_reader(path) as reader:
            meta = reader.meta()
            last = meta.get("last_step")
            last_step = None if last is None else int(cast(int, last))
            series = series_since(reader, traces, since, last_step)
        return {"run_id": run_id, "status": meta.get("status"), "last_step": last_step,
                "steps": meta.get("steps"), "layout": signature(traces), "series": series}


# -- endpoints ------------------------------------------------------------------------------


def _dashboard(request: Request) -> Dashboard:
    return request.app.state.dashboard


def index(request: Request) -> HTMLResponse:
    board = _dashboard(request)
    runs = [run | {"href": f"/runs/{run['run_id']}", "agents": fmt(run["n_agents"])}
            for run in board.runs()]
    sweeps = []
    for path in board.sweeps():
        try:
            results = load_results(path)
            params = [c.removeprefix("param_") for c in results if c.startswith("param_")]
            count, measures = len(results), len(results.columns) - len(params)
        except UserError:
            params, count, measures = [], 0, 0
        sweeps.append({"name": path.name, "href": f"/sweeps/{path.name}", "runs": count,
                       "parameters": ", ".join(params) or "–", "measures": measures})
    where = redact_url(board.store) if board.store else str(board.runs_dir)
    return HTMLResponse(render_index(runs, sweeps, where))


def runs_json(request: Request) -> JSONResponse:
    keys = ("run_id", "scenario_name", "status", "created_at", "n_agents", "last_step")
    return JSONResponse([{k: run[k] for k in keys} for run in _dashboard(request).runs()])


def run_page(request: Request) -> HTMLResponse:
    return HTMLResponse(_dashboard(request).run_page(request.path_params["run_id"]).html)


def run_status(request: Request) -> JSONResponse:
    return JSONResponse(_dashboard(request).status(request.path_params["run_id"]),
                        headers={"Cache-Control": "no-store"})


def run_series(request: Request) -> JSONResponse:
    raw = request.query_params.get("since", "-1")
    try:
        since = int(raw)
    except ValueError:
        raise HTTPException(400, f"since must be a step number, not {raw!r}") from None
    return JSONResponse(_dashboard(request).series(request.path_params["run_id"], since),
                        headers={"Cache-Control": "no-store"})


def run_figures(request: Request) -> Response:
    page = _dashboard(request).run_page(request.path_params["run_id"])
    body = f'{{"last_step": {_json_int(page.doc.last_step)}, "figures": {page.figures}}}'
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def sweep_page(request: Request) -> HTMLResponse:
    return HTMLResponse(_dashboard(request).sweep_page(request.path_params["name"]).html)


def plotly_bundle(request: Request) -> Response:
    return Response(plotly_js(), media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})


def _json_int(value: int | None) -> str:
    return "null" if value is None else str(int(value))


async def _not_found(request: Request, exc: Exception) -> Response:
    detail = getattr(exc, "detail", "not found")
    code = getattr(exc, "status_code", 404)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": detail}, status_code=code)
    return HTMLResponse(f"<!doctype html><title>{code}</title><h1>{code}</h1>"
                        f"<p>{_escape(detail)}</p><p><a href='/'>all runs</a></p>",
                        status_code=code)


def _escape(text: object) -> str:
    return html.escape(str(text))


async def _user_error(request: Request, exc: Exception) -> Response:
    """A listed run that cannot be read (corrupt, foreign schema): say so, no traceback."""
    return await _not_found(request, HTTPException(422, str(exc)))


def create_app(runs_dir: str | Path, token: str | None = None) -> Guard:
    """The dashboard app for one runs folder (serve it with uvicorn).

    Without ``token`` it answers only requests addressed to a loopback host name;
    with one, any host name but only requests carrying the token (see
    :mod:`townsquare.report.guard`).
    """
    app = Starlette(routes=[
        Route("/", index),
        Route("/runs/{run_id}", run_page),
        Route("/sweeps/{name}", sweep_page),
        Route("/api/runs", runs_json),
        Route("/api/runs/{run_id}/status", run_status),
        Route("/api/runs/{run_id}/figures", run_figures),
        Route("/api/runs/{run_id}/series", run_series),
        Route(PLOTLY_URL, plotly_bundle),
    ], exception_handlers={HTTPException: _not_found, UserError: _user_error})
    app.router.redirect_slashes = False  # "/runs/..%2F" is a 404, not a redirect to "/runs/.."
    app.state.dashboard = Dashboard(runs_dir)  # a folder, or a postgresql:// URL
    return Guard(app, token)

