"""Report speed on a large run: generation time, file size, and time until every plot is drawn.

Runs the built-in ``default`` scenario (100,000 agents, 30 steps by default),
writes its HTML report, then opens it in headless Chromium (the system's
``chromium``, driven by Playwright) and times, per repetition (median): the
first contentful paint (header and tables visible), the moment the page is
parsed (plotly.js loaded, first figure drawn) and the moment all figures are
drawn (``body[data-rendered=true]``). It also times what a live dashboard page costs
the server per committed step: the page rebuilt whole vs one ``series`` answer.

    python bench/bench_report.py                       # 100k agents
    python bench/bench_report.py --agents 10000 --repeat 5
    python bench/bench_report.py --screenshots docs/screenshots   # also the doc screenshots
    python bench/bench_report.py --live 10000 --repeat 5   # a running run's dashboard page

With ``--screenshots DIR`` it also saves ``report.png`` (top of a report),
``agent.png`` (an agent's page), ``dashboard.png`` (the dashboard's start form and runs
list, with a run in progress and a sweep) and ``dashboard-live.png`` (a live run page
with its controls) taken from small runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def make_run(runs: Path, agents: int, steps: int, **overrides: Any) -> Any:
    from townsquare.engine import Simulation
    from townsquare.scenario import Scenario

    scenario = Scenario.load("default").with_overrides(
        {"population.size": agents, "steps": steps, "output_dir": str(runs)} | overrides)
    return Simulation(scenario).run()


def time_generation(run_dir: Path, out: Path) -> dict[str, float]:
    from townsquare.report.extract import extract_run
    from townsquare.report.html import plotly_js, render_document
    from townsquare.report.sections import run_document
    from townsquare.run import Run

    plotly_js()  # the bundle is read once per process; not part of a report's cost
    t0 = time.perf_counter()
    run = Run(run_dir)
    data = extract_run(run)
    t1 = time.perf_counter()
    doc = run_document(data)
    t2 = time.perf_counter()
    html = render_document(doc)
    out.write_text(html, encoding="utf-8")
    t3 = time.perf_counter()
    return {"extract_s": t1 - t0, "figures_s": t2 - t1, "render_s": t3 - t2,
            "total_s": t3 - t0, "bytes": out.stat().st_size,
            "figure_json_bytes": len(doc.figures_json()), "figures": len(doc.plots)}


def time_browser(report: Path, repeat: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    parsed, drawn, paint = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                    args=CHROMIUM_ARGS)
        for _ in range(repeat):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            t0 = time.perf_counter()
            page.goto(report.as_uri(), wait_until="domcontentloaded")
            parsed.append(time.perf_counter() - t0)
            page.wait_for_selector("body[data-rendered=true]", timeout=120_000)
            drawn.append(time.perf_counter() - t0)
            paint.append(page.evaluate(
                "performance.getEntriesByName('first-contentful-paint')[0].startTime") / 1000)
            if errors:
                raise RuntimeError(f"page errors: {errors}")
            page.close()
        browser.close()
    return {"first_paint_s": statistics.median(paint), "parsed_s": statistics.median(parsed),
            "all_plots_s": statistics.median(drawn),
            "all_plots_min_s": min(drawn), "repeat": repeat}


def time_live_update(run_dir: Path, repeat: int = 20) -> dict[str, float]:
    """What a live page costs the server per step: the whole page rebuilt (as before the
    series endpoint) vs one ``/api/runs/<id>/series?since=<last step - 1>`` answer."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from townsquare.report.server import create_app

    app = create_app(run_dir.parent)
    client = TestClient(app, base_url="http://127.0.0.1")
    t0 = time.perf_counter()
    app.state.dashboard.run_page(run_dir.name)
    rebuild = time.perf_counter() - t0
    last = client.get(f"/api/runs/{run_dir.name}/status").json()["last_step"]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        body = client.get(f"/api/runs/{run_dir.name}/series?since={last - 1}").json()
        times.append(time.perf_counter() - t0)
    points = sum(len(p["x"]) for t in body["series"].values() for p in t.values())
    return {"page_rebuild_s": rebuild, "series_step_s": statistics.median(times),
            "series_points_per_step": points}


# Scroll to the next plot not drawn yet, until every plot of the page is (a dashboard page
# draws a plot when it comes into view; a live page may add plots while it is read).
SCROLL_THROUGH = """() => document.body.dataset.rendered === "true"
    || (window.townsquare && window.townsquare.waiting()?.scrollIntoView(), false)"""


def draw_every_plot(page: Any, timeout_ms: int = 300_000) -> None:
    """Scroll through the page as a reader would until every plot is drawn, then to the top."""
    page.wait_for_selector("body[data-first-screen=true]", timeout=timeout_ms)
    page.wait_for_function(SCROLL_THROUGH, polling=50, timeout=timeout_ms)
    page.evaluate("window.scrollTo(0, 0)")


def time_live_page(agents: int, repeat: int, warmup_steps: int = 20) -> dict[str, Any]:
    """A running run's dashboard page: seconds from navigation until the server answers,
    the first streamed plot (activity) is drawn, the first screen is drawn
    (``body[data-first-screen]``: the plots in view; the others are drawn when scrolled
    to), and every plot is drawn after scrolling through the page top to bottom; then
    until the streamed traces reach the step the store had committed at that moment.
    The first load (empty browser cache: plotly.js fetched and compiled, the page drawn
    quick) is reported apart from the median of ``repeat`` further loads in the same
    browser profile, as a user reopening the page sees them.

    The run is started the way the dashboard's form starts one (a worker process of
    ``RunManager``), with enough steps to stay running; it is stopped at the end.
    """
    from playwright.sync_api import sync_playwright

    from townsquare.report.control import RunManager
    from townsquare.store import open_reader

    with tempfile.TemporaryDirectory(prefix="townsquare-bench-live-") as tmp:
        runs = Path(tmp) / "runs"
        runs.mkdir()
        manager = RunManager(runs)
        run_id = manager.start("default", None, {"agents": agents, "steps": 100_000,
                                                 "checkpoint_every": 0})

        def committed() -> int:
            with open_reader(runs / run_id) as reader:
                last = reader.meta().get("last_step")
            return -1 if last is None else int(last)

        while committed() < warmup_steps:
            time.sleep(0.2)
        t_start, s_start = time.perf_counter(), committed()
        base, server, thread = serve(runs)
        drawn, caught_up, lag, served, first, screen = [], [], [], [], [], []
        ends = ("() => document.querySelector('[data-figure=\"activity-actions\"]').data"
                ".map((t) => t.x.length ? Number(t.x[t.x.length - 1]) : -1)")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                            args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                for _ in range(repeat + 1):  # the first load fills the browser's cache
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(f"{base}/runs/{run_id}", wait_until="commit")
                    served.append(time.perf_counter() - t0)
                    page.wait_for_function(  # the first streamed plot is on screen
                        "() => { const el = document.querySelector("
                        "'[data-figure=\"activity-actions\"]');"
                        " return el && el.querySelector('svg.main-svg') !== null; }",
                        timeout=300_000)
                    first.append(time.perf_counter() - t0)
                    page.wait_for_selector("body[data-first-screen=true]", timeout=300_000)
                    screen.append(time.perf_counter() - t0)
                    draw_every_plot(page)
                    drawn.append(time.perf_counter() - t0)
                    target = committed()
                    t1 = time.perf_counter()
                    page.wait_for_function(f"(s) => ({ends})().every((x) => x >= s)",
                                           arg=target, timeout=300_000)
                    caught_up.append(time.perf_counter() - t1)
                    lag.append(committed() - min(page.evaluate(ends)))
                    page.close()
                browser.close()
            rate = (committed() - s_start) / (time.perf_counter() - t_start)
        finally:
            manager.stop(run_id)
            manager.shutdown()
            server.should_exit = True
            thread.join(timeout=10)
    return {"live_agents": agents, "live_first_load_drawn_s": drawn[0],
            "live_page_drawn_s": statistics.median(drawn[1:]),
            "live_page_drawn_max_s": max(drawn[1:]),
            "live_page_served_s": statistics.median(served[1:]),
            "live_first_load_activity_s": first[0],
            "live_activity_drawn_s": statistics.median(first[1:]),
            "live_first_load_first_screen_s": screen[0],
            "live_first_screen_drawn_s": statistics.median(screen[1:]),
            "live_first_screen_drawn_max_s": max(screen[1:]),
            "load_average_1min": os.getloadavg()[0], "cpus": os.cpu_count(),
            "live_catch_up_s": statistics.median(caught_up),
            "live_steps_behind_store": max(lag), "live_run_steps_per_s": rate,
            "live_repeat": repeat}


# -- screenshots ------------------------------------------------------------------------------


def serve(runs: Path) -> tuple[str, Any, Any]:
    import uvicorn

    from townsquare.report.server import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(runs), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def section_clip(page: Any, last_section: str) -> dict[str, float]:
    bottom = page.evaluate(f"document.getElementById('{last_section}')"
                           ".getBoundingClientRect().bottom + window.scrollY + 24")
    return {"x": 0, "y": 0, "width": 1400, "height": bottom}


def screenshots(out_dir: Path) -> list[Path]:
    """report.png, agent.png, dashboard.png and dashboard-live.png from small runs."""
    import pandas as pd
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="townsquare-shots-") as tmp:
        runs = Path(tmp) / "runs"
        done = make_run(runs, 5000, 30, **{"platform.moderation.strategy": "hybrid"})
        sweep = runs / "sweep-feed-mix"
        sweep.mkdir()
        rows = [{"run_id": f"a{i}-r{r}", "arm": i, "param_platform_feed_length": length,
                 "replicate": r, "seed": r, "reach_false": 1000 + 40 * length + 30 * r}
                for i, length in enumerate((10, 20, 40)) for r in range(5)]
        pd.DataFrame(rows).to_parquet(sweep / "results.parquet")
        stop = threading.Event()

        def pace(step: int, metrics: dict[str, float]) -> None:
            time.sleep(0.3)
            if stop.is_set():
                raise KeyboardInterrupt

        def live() -> None:
            with contextlib.suppress(KeyboardInterrupt):
                _paced(runs, pace)

        worker = threading.Thread(target=live, daemon=True)
        worker.start()
        base, server, thread = serve(runs)
        written = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                            args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{base}/runs/{done.id}")
                draw_every_plot(page)
                path = out_dir / "report.png"
                page.screenshot(path=path, clip=section_clip(page, "beliefs"), full_page=True)
                written.append(path)
                author = int(done.reader.query(  # the most prolific author: a page with posts
                    "SELECT author, COUNT(*) AS n FROM posts GROUP BY author ORDER BY n DESC "
                    "LIMIT 1")["author"].iloc[0])
                page.goto(f"{base}/runs/{done.id}/agents/{author}")
                draw_every_plot(page)
                path = out_dir / "agent.png"
                clip = section_clip(page, "posts") | {}
                clip["height"] = min(clip["height"], 1700.0)  # the first rows of its posts
                page.screenshot(path=path, clip=clip, full_page=True)
                written.append(path)
                page.goto(base + "/")
                page.wait_for_function(  # the live run is listed with a few steps in
                    "() => Array.from(document.querySelectorAll('[data-field=last_step]'))"
                    ".some((c) => Number(c.textContent) >= 3)", timeout=120_000)
                path = out_dir / "dashboard.png"
                page.screenshot(path=path, full_page=False)
                written.append(path)
                live_id = [r for r in json.loads(page.evaluate(
                    "fetch('/api/runs').then(r => r.text())")) if r["status"] == "running"]
                page.goto(f"{base}/runs/{live_id[0]['run_id']}")
                draw_every_plot(page)
                page.wait_for_function(  # a few steps streamed in: the rate and ETA show
                    "() => document.getElementById('eta').textContent.includes(':')",
                    timeout=120_000)
                path = out_dir / "dashboard-live.png"
                page.screenshot(path=path, clip=section_clip(page, "activity"), full_page=True)
                written.append(path)
                browser.close()
        finally:
            stop.set()
            worker.join(timeout=60)
            server.should_exit = True
            thread.join(timeout=10)
    return written


def _paced(runs: Path, pace: Any) -> None:
    from townsquare.engine import Simulation
    from townsquare.scenario import Scenario

    scenario = Scenario.load("default").with_overrides(
        {"population.size": 2000, "steps": 200, "output_dir": str(runs)})
    Simulation(scenario).run(on_step=pace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3, help="browser loads to time")
    parser.add_argument("--run", type=Path, help="report on this existing run instead")
    parser.add_argument("--screenshots", type=Path, help="also save doc screenshots here")
    parser.add_argument("--live", type=int, metavar="AGENTS",
                        help="only time a running run's dashboard page (AGENTS agents)")
    args = parser.parse_args()
    if args.live is not None:
        print(json.dumps(time_live_page(args.live, args.repeat) | {
            "machine": f"{platform.machine()} {platform.python_version()}"}, indent=2))
        return
    with tempfile.TemporaryDirectory(prefix="townsquare-bench-report-") as tmp:
        if args.run is None:
            t0 = time.perf_counter()
            run_dir = make_run(Path(tmp) / "runs", args.agents, args.steps).path
            simulate_s = time.perf_counter() - t0
        else:
            run_dir, simulate_s = args.run, float("nan")
        from townsquare.run import Run

        meta = Run(run_dir).meta()
        report = Path(tmp) / "report.html"
        result = {"agents": meta["n_agents"], "steps": meta["steps"], "simulate_s": simulate_s,
                  **time_generation(run_dir, report), **time_browser(report, args.repeat),
                  **time_live_update(Path(run_dir)),
                  "machine": f"{platform.machine()} {platform.python_version()}"}
    print(json.dumps(result, indent=2))
    if args.screenshots is not None:
        for path in screenshots(args.screenshots):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
