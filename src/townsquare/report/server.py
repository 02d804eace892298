"""The local dashboard: a starlette app listing runs and sweeps and following live runs.

Pages are the same documents as ``townsquare report`` builds, generated on
request and cached per run until its ``last_step`` or status changes. An open
page of a running run is never rebuilt: it polls ``/api/runs/{id}/series`` for
the metrics committed since its last step and appends them to its plots. Every
database is opened read-only (WAL lets a running simulation keep writing).
Run and sweep names in URLs are looked up among the folders actually listed
under the runs folder, never joined into a path unchecked, so no URL reaches
outside it.

Beyond the reports: a form starts runs (:mod:`townsquare.report.control`, endpoints
in :mod:`townsquare.report.actions`), agent pages drill into one agent
(:mod:`townsquare.report.agent`), ``/compare`` overlays runs
(:mod:`townsquare.report.compare`), and every table downloads as CSV or Parquet
(:mod:`townsquare.report.downloads`).
"""

from __future__ import annotations

import contextlib
import html
import math
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from townsquare.errors import UserError
from townsquare.report import actions, downloads
from townsquare.report.build import run_report
from townsquare.report.control import RunManager
from townsquare.report.document import Document, fmt
from townsquare.report.guard import Guard
from townsquare.report.html import Controls, Live, plotly_js, render_document, render_index
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
        self._manager: RunManager | None = None
        self._building: set[tuple[str, str]] = set()  # pages being rebuilt in the background
        self._broken: set[tuple[str, str]] = set()  # whose background build failed

    def manager(self) -> RunManager:
        """The runs this dashboard started (a folder of runs only, not a PostgreSQL store)."""
        if self.store is not None:
            raise UserError("runs are started from the dashboard only for a runs folder; "
                            "start PostgreSQL runs with `townsquare run`")
        with self._lock:
            if self._manager is None:
                self._manager = RunManager(self.runs_dir)
            return self._manager

    def shutdown(self) -> None:
        """Stop the runs this dashboard started (checkpointed: they can be resumed)."""
        if self._manager is not None:
            self._manager.shutdown()

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

    def sweep_run_path(self, name: str, run_id: str) -> Path:
        """The folder of one run of a sweep (listed in the sweep folder, like run_path)."""
        sweep = self.sweep_path(name)
        for path in sweep.iterdir():
            if path.name == run_id and (path / RUN_FILE).is_file():
                return self._inside(path)
        raise HTTPException(404, f"no run {run_id!r} in sweep {name!r}")

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if not resolved.is_relative_to(self.runs_dir):
            raise HTTPException(404, "not found")
        return resolved

    # -- pages

    def run_page(self, run_id: str) -> _Page:
        """A run's page. A finished run's is rebuilt when it changed; a running run's is
        served at once from the cache (its streamed plots catch up from the series
        endpoint) and rebuilt in the background, or, the first time, drawn quick (the
        metric plots only) while the whole page is built in the background."""
        path = self.run_path(run_id)
        with open_reader(path) as reader:
            meta = reader.meta()
        key = (meta.get("last_step"), meta.get("status"))
        name = ("run", run_id)
        with self._lock:
            broken = name in self._broken
            self._broken.discard(name)
        if meta.get("status") != "running" or broken:
            return self._cached(name, key, lambda: self._render_run(path, run_id))
        with self._lock:
            page = self._cache.get(name)
        if page is None:
            page = self._render_run(path, run_id, quick=True)
            page.key = ("quick",)
            with self._lock:
                page = self._cache.setdefault(name, page)  # a full page built meanwhile wins
        if page.key != key:
            self._rebuild_later(name, key, path, run_id)
        return page

    def _rebuild_later(self, name: tuple[str, str], key: tuple[Any, ...],
                       path: Path | PostgresRun, run_id: str) -> None:
        """Build the whole page of a running run in a thread (one at a time per run)."""
        with self._lock:
            if name in self._building:
                return
            self._building.add(name)

        def build() -> None:
            try:
                page = self._render_run(path, run_id)
                page.key = key
                with self._lock:
                    self._cache[name] = page
                    self._cache.move_to_end(name)
                    while len(self._cache) > CACHE_SIZE:
                        self._cache.popitem(last=False)
            except Exception:  # the next request builds it in the open and shows the error
                with self._lock:
                    self._broken.add(name)
            finally:
                with self._lock:
                    self._building.discard(name)

        threading.Thread(target=build, name=f"page-{run_id}", daemon=True).start()

    def page_is_whole(self, run_id: str) -> bool:
        """Whether the cached page of a run has every section drawn (not a quick first draw)."""
        with self._lock:
            page = self._cache.get(("run", run_id))
        return page is not None and not page.doc.pending

    def sweep_page(self, name: str) -> _Page:
        path = self.sweep_path(name)
        stat = (path / RESULTS).stat()
        base = f"/sweeps/{name}/runs/"
        return self._cached(("sweep", name), (stat.st_mtime_ns, stat.st_size),
                            lambda: self._render(sweep_document(path, run_href=lambda r: base + r)))

    def sweep_run_page(self, name: str, run_id: str) -> _Page:
        """A run of a sweep, as a report (not followed live: sweep runs are listed once done)."""
        path = self.sweep_run_path(name, run_id)
        with open_reader(path) as reader:
            meta = reader.meta()
        key = (meta.get("last_step"), meta.get("status"))

        def make() -> _Page:
            run = Run(path)
            try:
                return self._render(run_report(run))
            finally:
                run.reader.close()
        return self._cached(("sweep-run", f"{name}/{run_id}"), key, make)

    def agent_page(self, run_id: str, agent: int) -> str:
        from townsquare.report.agent import agent_document

        with self._run(run_id) as run:
            doc = agent_document(run, agent)
            model = run.scenario().llm is not None
        interview = f"/api/runs/{run_id}/agents/{agent}/interview" if model else None
        return render_document(doc, plotly_src=PLOTLY_URL, dashboard="/",
                               controls=Controls(run_href=f"/runs/{run_id}",
                                                 interview_url=interview))

    def compare_page(self, run_ids: list[str]) -> str:
        from townsquare.report.compare import compare_document

        runs = [Run(self.run_path(r)) for r in dict.fromkeys(run_ids)]
        try:
            doc = compare_document(runs)
        finally:
            for run in runs:
                run.reader.close()
        return render_document(doc, plotly_src=PLOTLY_URL, dashboard="/")

    def interview(self, run_id: str, agent: int, question: str) -> str:
        """Ask an agent; a stored model endpoint is trusted only for runs started here."""
        trusted = self.store is None and self.manager().trusted(run_id)
        with self._run(run_id) as run:
            return str(run.interview(agent, question, trust_endpoint=trusted))

    def table(self, run_id: str, name: str) -> Any:
        """A whole table of a run (only names the store lists: nothing else reaches SQL)."""
        with open_reader(self.run_path(run_id)) as reader:
            if name not in reader.tables():
                raise HTTPException(404, f"run {run_id} has no table {name!r}")
            return reader.table(name)

    def report_file(self, run_id: str) -> str:
        """The self-contained report of a run (plotly.js inlined), as ``townsquare report``."""
        with self._run(run_id) as run:
            return render_document(run_report(run))

    @contextlib.contextmanager
    def _run(self, run_id: str) -> Any:
        run = Run(self.run_path(run_id))
        try:
            yield run
        finally:
            run.reader.close()

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

    def _render_run(self, path: Path | PostgresRun, run_id: str, quick: bool = False) -> _Page:
        run = Run(path)
        try:
            doc = run_report(run, quick=quick)
            tables = tuple(run.reader.tables())
        finally:
            run.reader.close()
        traces = metric_traces(doc)
        live = Live(status_url=f"/api/runs/{run_id}/status",
                    figures_url=f"/api/runs/{run_id}/figures",
                    series_url=f"/api/runs/{run_id}/series", layout=signature(traces))
        controls = Controls(run_href=f"/runs/{run_id}", control_url=f"/api/runs/{run_id}",
                            tables=tables, report_href=f"/runs/{run_id}/report.html",
                            tables_href=f"/runs/{run_id}/tables/")
        return self._render(doc, live, traces, controls)

    def _render(self, doc: Document, live: Live | None = None,
                traces: TraceMap | None = None, controls: Controls | None = None) -> _Page:
        html = render_document(doc, plotly_src=PLOTLY_URL, live=live, dashboard="/",
                               controls=controls)
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
                "steps": meta.get("steps"), "layout": signature(traces), "series": series,
                "whole": self.page_is_whole(run_id)}


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
    scenarios: list[str] = []
    if board.store is None:  # runs are started only into a runs folder
        from townsquare.scenario_files import builtin_names

        scenarios = builtin_names()
    return HTMLResponse(render_index(runs, sweeps, where, scenarios=scenarios))


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


def sweep_run_page(request: Request) -> HTMLResponse:
    page = _dashboard(request).sweep_run_page(request.path_params["name"],
                                             request.path_params["run_id"])
    return HTMLResponse(page.html)


def agent_page(request: Request) -> HTMLResponse:
    return HTMLResponse(_dashboard(request).agent_page(request.path_params["run_id"],
                                                       int(request.path_params["agent"])))


def compare_page(request: Request) -> HTMLResponse:
    ids = [i for raw in request.query_params.getlist("run") for i in raw.split(",") if i]
    return HTMLResponse(_dashboard(request).compare_page(ids))


def run_control_state(request: Request) -> JSONResponse:
    """Whether this dashboard runs the run (and its worker's state), and the store's status."""
    board = _dashboard(request)
    run_id = request.path_params["run_id"]
    with open_reader(board.run_path(run_id)) as reader:
        status = reader.meta().get("status")
    state = board.manager().state(run_id) if board.store is None else None
    return JSONResponse({"run_id": run_id, "status": status, "managed": state is not None}
                        | (state or {}), headers={"Cache-Control": "no-store"})


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


def _lifespan(board: Dashboard) -> Any:
    """At shutdown, stop the runs this dashboard started (they stay resumable)."""
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            board.shutdown()
    return lifespan


def create_app(runs_dir: str | Path, token: str | None = None) -> Guard:
    """The dashboard app for one runs folder (serve it with uvicorn).

    Without ``token`` it answers only requests addressed to a loopback host name;
    with one, any host name but only requests carrying the token (see
    :mod:`townsquare.report.guard`).
    """
    board = Dashboard(runs_dir)  # a folder, or a postgresql:// URL
    app = Starlette(routes=[
        Route("/", index),
        Route("/compare", compare_page),
        Route("/runs/{run_id}", run_page),
        Route("/runs/{run_id}/report.html", downloads.run_report_file),
        Route("/runs/{run_id}/tables/{filename}", downloads.run_table),
        Route("/runs/{run_id}/agents/{agent:int}", agent_page),
        Route("/sweeps/{name}", sweep_page),
        Route("/sweeps/{name}/report.html", downloads.sweep_report_file),
        Route("/sweeps/{name}/runs/{run_id}", sweep_run_page),
        Route("/sweeps/{name}/{filename}", downloads.sweep_table),
        Route("/api/runs", runs_json),
        Route("/api/runs/start", actions.start_run, methods=["POST"]),
        Route("/api/runs/{run_id}/status", run_status),
        Route("/api/runs/{run_id}/figures", run_figures),
        Route("/api/runs/{run_id}/series", run_series),
        Route("/api/runs/{run_id}/control", run_control_state),
        Route("/api/runs/{run_id}/agents/{agent:int}/interview", actions.interview_agent,
              methods=["POST"]),
        Route("/api/runs/{run_id}/{verb}", actions.control_run, methods=["POST"]),
        Route(PLOTLY_URL, plotly_bundle),
    ], exception_handlers={HTTPException: _not_found, UserError: _user_error},
        lifespan=_lifespan(board))
    app.router.redirect_slashes = False  # "/runs/..%2F" is a 404, not a redirect to "/runs/.."
    app.state.dashboard = board
    return Guard(app, token)

