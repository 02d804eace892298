"""Reports and the dashboard in a real headless Chromium (the system's, never downloaded).

Plots must render (an SVG with content in every ``.js-plotly-plot``, a legend
or colour bar each), pages must log no console errors, the runs list must
lead to a run, and a running simulation's step counter must advance live.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); "
    "browser tests use the system Chromium and never download one")
playwright_api = pytest.importorskip("playwright.sync_api")

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Waits are for a condition (a selector, a function, a started server); this is only the
# ceiling for a page that never gets there, generous so a busy machine is not a failure.
HANG_MS = 300_000
EVIL = "<script>alert(1)</script>"
SMALL = {"population.size": 200, "steps": 6, "seed": 5, "checkpoint_every": 0,
         "platform.moderation.strategy": "hybrid",
         "news": [{"id": "rumour", "topic": "health", "stance": 0.6, "veracity": "false",
                   "text": f"{EVIL} the water is drugged", "seeders": 10},
                  {"id": "report", "topic": "health", "stance": -0.2, "veracity": "true",
                   "text": "All samples within limits.", "seeders": 10}]}


def simulate(runs_dir: Path, on_step: Any = None, **overrides: Any) -> Any:
    from townsquare.engine import Simulation
    from townsquare.scenario import Scenario

    scenario = Scenario.load("default").with_overrides(
        SMALL | {"output_dir": str(runs_dir)} | overrides)
    return Simulation(scenario).run(on_step=on_step)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


# Scroll to the next plot not drawn yet, until every plot of the page is (polled: a live
# page may add plots while it is read).
SCROLL_THROUGH = """() => document.body.dataset.rendered === "true"
    || (window.townsquare && window.townsquare.waiting()?.scrollIntoView(), false)"""


class Page:
    """A browser page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.set_default_timeout(HANG_MS)
        self.page.set_default_navigation_timeout(HANG_MS)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def rendered(self) -> None:
        """Wait for the first screen, then scroll through the page as a reader would (a
        dashboard page draws a plot when it comes into view) until every plot is drawn."""
        self.page.wait_for_selector("body[data-first-screen=true]")
        self.page.wait_for_function(SCROLL_THROUGH, polling=100)
        self.page.evaluate("window.scrollTo(0, 0)")


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    tab = Page(browser)
    yield tab
    tab.page.close()


STATS = """() => Array.from(document.querySelectorAll(".js-plotly-plot"), (plot) => ({
    id: plot.dataset.figure,
    svgs: plot.querySelectorAll("svg.main-svg").length,
    marks: plot.querySelectorAll("svg.main-svg path, svg.main-svg rect").length,
    keys: plot.querySelectorAll(".legend, .colorbar").length}))"""


def check_plots(page: Page) -> int:
    """Every plot has a non-empty SVG and a legend or colour bar; returns the plot count."""
    page.rendered()  # scrolled through: plots added since are drawn too
    figures = json.loads(page.page.locator("#figures").text_content())
    stats = page.page.evaluate(STATS)
    assert sorted(s["id"] for s in stats) == sorted(figures) and stats
    for plot in stats:
        assert plot["svgs"] >= 1 and plot["marks"] > 3, plot
        assert plot["keys"] >= 1, plot
    assert page.errors == []
    return len(stats)


def test_report_renders_every_plot_without_errors(browser: Any, page: Page,
                                                  tmp_path: Path) -> None:
    from townsquare.report import write_report

    run = simulate(tmp_path / "runs")
    report = write_report(run.path, tmp_path / "report.html")
    page.page.goto(report.as_uri())
    page.rendered()
    assert check_plots(page) >= 10
    # escaped post text is shown as text, and never ran as a script
    table = page.page.locator("#cascades table").first.inner_text()
    assert EVIL in table
    assert page.page.evaluate("document.querySelectorAll('main script').length") == 0
    # the contents link to their sections
    page.page.locator('nav.toc a[href="#network"]').click()
    assert page.page.url.endswith("#network")


def test_png_export_writes_real_images(tmp_path: Path) -> None:
    import struct

    from townsquare.report.document import Document, Plot, Section
    from townsquare.report.png import export_pngs
    from townsquare.report.style import base_figure

    fig = base_figure(height=300)
    fig.add_scatter(x=[0, 1, 2], y=[1, 3, 2], name=EVIL)
    doc = Document("t", "", {}, [Section("s", "S", [Plot("a-line", fig), Plot("b/x", fig)])])
    paths = export_pngs(doc, tmp_path / "png", width=500, height=300, scale=2)
    assert [p.name for p in paths] == ["a-line.png", "b_x.png"]
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (1000, 600)


# -- the dashboard -------------------------------------------------------------------------


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The dashboard served by uvicorn on a free loopback port, for a fresh runs folder."""
    import uvicorn

    from townsquare.report.server import create_app

    runs = tmp_path / "runs"
    runs.mkdir()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(runs), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():  # up, or failed to start
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", runs
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_dashboard_click_through_from_runs_list_to_run(dashboard: tuple[str, Path],
                                                       page: Page) -> None:
    base, runs = dashboard
    run = simulate(runs)
    page.page.goto(base + "/")
    link = page.page.locator("a.run-link", has_text=run.id)
    assert link.count() == 1
    assert page.page.locator(f'tr[data-run="{run.id}"] .badge').inner_text() == "completed"
    link.click()
    page.page.wait_for_url(f"{base}/runs/{run.id}")
    page.rendered()
    assert check_plots(page) >= 10
    assert page.page.locator("#step-counter").inner_text() == str(run.meta()["last_step"])
    page.page.locator("#back-to-runs").click()
    page.page.wait_for_url(base + "/")


class _Stop(Exception):
    pass


@contextlib.contextmanager
def slow_run(runs: Path, steps: int = 400) -> Iterator[str]:
    """A run in a thread, paced so a page sees it in progress; yields its id once a step is in.

    On exit the run is stopped at its next step.
    """
    from townsquare.store import list_runs

    stop = threading.Event()

    def pace(step: int, metrics: dict[str, float]) -> None:
        time.sleep(0.15)
        if stop.is_set():
            raise _Stop

    def work() -> None:
        with contextlib.suppress(_Stop):
            simulate(runs, on_step=pace, steps=steps)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        while True:  # until the run commits a step, or ends
            alive = worker.is_alive()
            found = [r for r in list_runs(runs) if r["last_step"] is not None]
            if found or not alive:
                break
            time.sleep(0.1)
        assert found, "the run never committed a step"
        yield found[0]["run_id"]
    finally:
        stop.set()
        worker.join()


def committed_step(runs: Path, run_id: str) -> int:
    """The run's latest committed step, read from its store."""
    from townsquare.store import open_reader

    with open_reader(runs / run_id) as reader:
        return int(reader.meta()["last_step"])


ACTIVITY = "document.querySelector('[data-figure=\"activity-actions\"]')"


def test_live_run_step_counter_advances(dashboard: tuple[str, Path], page: Page) -> None:
    base, runs = dashboard
    with slow_run(runs) as run_id:
        page.page.goto(f"{base}/runs/{run_id}")
        page.rendered()
        assert page.page.locator("#run-status").inner_text() == "running"
        first = int(page.page.locator("#step-counter").inner_text())
        # the activity plot's steps (x, possibly a base64 typed array) as drawn now
        points = f"JSON.stringify({ACTIVITY}.data[0].x)"
        plotted = page.page.evaluate(points)
        page.page.wait_for_function(
            "(s) => Number(document.getElementById('step-counter').textContent) > s + 2",
            arg=first)
        page.page.wait_for_function(f"(before) => {points} !== before", arg=plotted)
        assert page.errors == []


def test_live_plots_reach_the_store_and_keep_the_users_zoom(dashboard: tuple[str, Path],
                                                            page: Page) -> None:
    base, runs = dashboard
    with slow_run(runs) as run_id:
        page.page.goto(f"{base}/runs/{run_id}")
        page.rendered()
        # every streamed trace of the activity plot reaches the step the store has committed
        ends = (f"() => {ACTIVITY}.data.map((t) => t.x.length ? Number(t.x[t.x.length - 1])"
                " : -1)")
        for _ in range(2):
            latest = committed_step(runs, run_id)
            page.page.wait_for_function(f"(s) => ({ends})().every((x) => x >= s)", arg=latest)
            length = page.page.evaluate(f"{ACTIVITY}.data[0].x.length")
            assert length >= latest + 1  # steps 0..latest, none repeated
            assert page.page.evaluate(f"new Set({ACTIVITY}.data[0].x).size") == length
        assert float(page.page.locator("#steps-per-s").inner_text()) > 0
        assert ":" in page.page.locator("#eta").inner_text()
        # the user zooms; later updates extend the traces but leave the range alone
        page.page.evaluate(f"Plotly.relayout({ACTIVITY}, {{'xaxis.range': [1, 4]}})")
        before = page.page.evaluate(f"{ACTIVITY}.data[0].x.length")
        page.page.wait_for_function(f"(n) => {ACTIVITY}.data[0].x.length > n",
                                    arg=max(before + 2, 14))
        layout = page.page.evaluate(f"{ACTIVITY}.layout.xaxis")
        assert layout["range"] == [1, 4] and layout["autorange"] is False
        assert layout.get("dtick") is None  # no longer a tick per step past step 12
        assert page.errors == []


def test_a_plot_below_the_fold_is_drawn_on_scrolling_and_gets_the_live_updates(
        dashboard: tuple[str, Path], page: Page) -> None:
    base, runs = dashboard
    with slow_run(runs) as run_id:
        page.page.goto(f"{base}/runs/{run_id}")
        page.page.wait_for_selector("body[data-first-screen=true]")
        assert page.page.evaluate(f"{ACTIVITY}.querySelector('svg.main-svg') !== null")
        # the last streamed plot of the page is below the fold and not drawn yet
        below = page.page.evaluate(
            "() => { const live = new Set(Object.keys(JSON.parse(document.getElementById("
            "'figures').textContent))); const els = Array.from(document.querySelectorAll("
            "'[data-figure]')).filter((el) => el.getBoundingClientRect().top > 2 * "
            "window.innerHeight && live.has(el.dataset.figure) && window.townsquare.figures()"
            "[el.dataset.figure].data.some((t) => t.meta && t.meta.metric)); "
            "return els.length ? els[els.length - 1].dataset.figure : null; }")
        assert below is not None
        plot = f"document.querySelector('[data-figure=\"{below}\"]')"
        assert page.page.evaluate(f"{plot}.querySelector('svg.main-svg')") is None
        # while it waits, the streamed steps reach its figure
        ends = (f"() => window.townsquare.figures()['{below}'].data.filter((t) => t.meta &&"
                " t.meta.metric).map((t) => t.x.length ? Number(t.x[t.x.length - 1]) : -1)")
        latest = committed_step(runs, run_id)
        page.page.wait_for_function(f"(s) => ({ends})().every((x) => x >= s)", arg=latest)
        assert page.page.evaluate(f"{plot}.querySelector('svg.main-svg')") is None
        # scrolled to, it is drawn with those steps, and later updates extend it
        page.page.locator(f'[data-figure="{below}"]').scroll_into_view_if_needed()
        page.page.wait_for_function(f"() => {plot}.querySelector('svg.main-svg') !== null")
        drawn_ends = ends.replace(f"window.townsquare.figures()['{below}']", plot)
        latest = committed_step(runs, run_id)
        page.page.wait_for_function(f"(s) => ({drawn_ends})().every((x) => x >= s)",
                                    arg=latest)
        length = page.page.evaluate(f"{plot}.data.find((t) => t.meta && t.meta.metric).x"
                                    ".length")
        page.page.wait_for_function(
            f"(n) => {plot}.data.find((t) => t.meta && t.meta.metric).x.length > n",
            arg=length)
        xs = page.page.evaluate(f"Array.from({plot}.data.find((t) => t.meta && "
                                "t.meta.metric).x)")
        assert xs == sorted(set(xs))  # no step repeated, none out of order
        assert page.errors == []


def test_a_live_page_drawn_quick_fills_in_the_rest_and_keeps_the_zoom(
        dashboard: tuple[str, Path], page: Page) -> None:
    base, runs = dashboard
    with slow_run(runs) as run_id:
        page.page.goto(f"{base}/runs/{run_id}")  # first visit of a running run: drawn quick
        page.rendered()
        assert "Being drawn" in page.page.locator("#network").inner_text()
        page.page.evaluate(f"Plotly.relayout({ACTIVITY}, {{'xaxis.range': [0, 3]}})")
        page.page.wait_for_selector("body[data-whole=true]")  # the whole page, filled in
        assert page.page.locator("#network p.note[data-pending]").count() == 0
        assert page.page.locator('#network [data-figure="network-graph"]').count() == 1
        assert page.page.evaluate(f"{ACTIVITY}.layout.xaxis.range") == [0, 3]
        check_plots(page)


def test_a_run_started_after_the_list_loaded_appears(dashboard: tuple[str, Path],
                                                     page: Page) -> None:
    base, runs = dashboard
    page.page.goto(base + "/")
    assert page.page.locator("#no-runs").is_visible()
    run = simulate(runs)  # started after the page loaded
    row = page.page.locator(f'tr[data-run="{run.id}"]')
    row.locator('.badge:text("completed")').wait_for()
    assert row.locator("a.run-link").inner_text() == run.id
    assert not page.page.locator("#no-runs").is_visible()
    row.locator("a.run-link").click()
    page.page.wait_for_url(f"{base}/runs/{run.id}")
    page.rendered()
    assert page.errors == []


def test_sweep_report_draws_effects_and_switches_measures(browser: Any, page: Page,
                                                          tmp_path: Path) -> None:
    from townsquare.experiments import Sweep
    from townsquare.report import write_report
    from townsquare.scenario import Scenario

    base = Scenario.load("default").with_overrides(SMALL)
    grid = {"platform.moderation.strategy": ["none", "fact_check"]}
    Sweep(base, grid, replicates=3, out=tmp_path / "sweep", workers=1).run()
    report = write_report(tmp_path / "sweep", tmp_path / "sweep.html")
    page.page.goto(report.as_uri())
    page.rendered()
    figures = json.loads(page.page.locator("#figures").text_content())
    for measure in base.headline:
        assert f"measures-{measure}" in figures and f"effects-{measure}" in figures
    stats = page.page.evaluate(STATS)
    assert sorted(s["id"] for s in stats) == sorted(figures)
    assert all(s["svgs"] >= 1 and s["marks"] > 3 for s in stats), stats
    # the menu of other measures switches the plotted measure
    other = page.page.locator('[data-figure="measures-other"]')
    before = other.locator(".gtitle").text_content()
    other.locator(".updatemenu-header-group").click()
    other.locator(".updatemenu-dropdown-button").nth(1).click()
    page.page.wait_for_function(  # until plotly has redrawn the title
        """(before) => document.querySelector('[data-figure="measures-other"] .gtitle')
            .textContent !== before""", arg=before)
    assert page.errors == []


# -- controls and drill-down -----------------------------------------------------------------


def test_start_stop_and_resume_a_run_from_the_dashboard(dashboard: tuple[str, Path],
                                                        page: Page) -> None:
    base, runs = dashboard
    page.page.goto(base + "/")
    page.page.select_option("#start-scenario", "default")
    page.page.fill("#start-agents", "1500")
    page.page.fill("#start-steps", "2000")
    page.page.fill("#start-seed", "21")
    page.page.fill("#start-checkpoint", "5")
    page.page.locator("#start-button").click()
    page.page.wait_for_url(f"{base}/runs/*")
    run_id = page.page.url.rsplit("/", 1)[1]
    page.rendered()
    assert page.page.locator("#run-status").inner_text() == "running"
    assert (runs / run_id / "run.sqlite").is_file()
    stop = page.page.locator("#btn-stop")
    stop.wait_for(state="visible")
    page.page.wait_for_function("() => !document.getElementById('btn-stop').disabled")
    page.page.wait_for_function(  # the plots follow the run before it is stopped
        "() => Number(document.getElementById('step-counter').textContent) >= 1")
    stop.click()
    page.page.wait_for_function(
        "() => document.getElementById('control-state').dataset.state === 'interrupted'")
    assert page.page.locator("#run-status").inner_text() == "interrupted"
    from townsquare.store import open_reader

    with open_reader(runs / run_id) as reader:
        meta = reader.meta()
    assert meta["status"] == "interrupted" and meta["checkpoint_step"] == meta["last_step"]
    assert page.page.locator("#btn-pause").is_disabled()
    resume = page.page.locator("#btn-resume")
    page.page.wait_for_function("() => !document.getElementById('btn-resume').disabled")
    with page.page.expect_navigation():  # the page reloads to follow the resumed run live
        resume.click()
    page.rendered()
    page.page.wait_for_function(
        "(s) => Number(document.getElementById('step-counter').textContent) > s",
        arg=meta["last_step"])
    page.page.wait_for_function("() => !document.getElementById('btn-stop').disabled")
    page.page.locator("#btn-stop").click()
    page.page.wait_for_function(
        "() => document.getElementById('control-state').dataset.state === 'interrupted'")
    assert page.errors == []


def test_a_bad_start_form_says_why_and_starts_nothing(dashboard: tuple[str, Path],
                                                      page: Page) -> None:
    from townsquare.store import list_runs

    base, runs = dashboard
    page.page.goto(base + "/")
    page.page.fill("#start-set", "platform.feed.length = 'long'")
    page.page.locator("#start-button").click()
    page.page.locator("#start-message.error").wait_for()
    assert "platform.feed.length" in page.page.locator("#start-message").inner_text()
    assert list_runs(runs) == []


def test_an_agent_page_shows_its_posts(dashboard: tuple[str, Path], page: Page) -> None:
    base, runs = dashboard
    run = simulate(runs)
    author = int(run.reader.query("SELECT author FROM posts WHERE text LIKE '%drugged%' "
                                  "ORDER BY post_id LIMIT 1")["author"].iloc[0])
    page.page.goto(f"{base}/runs/{run.id}")
    page.rendered()
    page.page.fill("#agent-id", str(author))
    page.page.locator("#agent-form button").click()
    page.page.wait_for_url(f"{base}/runs/{run.id}/agents/{author}")
    page.rendered()
    posts = page.page.locator("#posts table").inner_text()
    assert f"{EVIL} the water is drugged" in posts  # shown as text, never run
    assert page.page.evaluate("document.querySelectorAll('main script').length") == 0
    check_plots(page)  # attitude and emotion over time, if the snapshots recorded it
    page.page.locator("#back-to-run").click()
    page.page.wait_for_url(f"{base}/runs/{run.id}")


def test_two_runs_compared_on_the_same_plots(dashboard: tuple[str, Path], page: Page) -> None:
    base, runs = dashboard
    first, second = simulate(runs), simulate(runs, seed=6)
    page.page.goto(base + "/")
    for run in (first, second):
        page.page.locator(f'tr[data-run="{run.id}"] .compare-pick').check()
    page.page.locator("#compare-button").click()
    page.page.wait_for_url(f"{base}/compare?*")
    page.rendered()
    names = page.page.evaluate(
        "Array.from(document.querySelector('[data-figure=\"compare-reach_false\"]').data,"
        " (t) => t.name)")
    assert names == [first.id, second.id]
    check_plots(page)


def test_sweep_page_links_each_run_to_its_report(dashboard: tuple[str, Path],
                                                 page: Page) -> None:
    from townsquare.experiments import Sweep
    from townsquare.scenario import Scenario

    base, runs = dashboard
    scenario = Scenario.load("default").with_overrides(SMALL)
    grid = {"platform.moderation.strategy": ["none", "fact_check"]}
    Sweep(scenario, grid, replicates=2, out=runs / "sweep", workers=1).run()
    page.page.goto(f"{base}/sweeps/sweep")
    page.rendered()
    links = page.page.locator("#runs table a")
    assert links.count() == 4
    first = links.first.inner_text()
    links.first.click()
    page.page.wait_for_url(f"{base}/sweeps/sweep/runs/{first}")
    page.rendered()
    assert first in page.page.locator("h1").inner_text()
    assert check_plots(page) >= 10
