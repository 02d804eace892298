"""The dashboard app: lists, pages, live status JSON, and no way out of the runs folder."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import warnings
from pathlib import Path
from urllib.parse import unquote

import pytest

with warnings.catch_warnings():  # starlette suggests httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from townsquare.report.server import create_app
from townsquare.run import Run


@pytest.fixture(scope="module")
def client(runs_dir: Path) -> TestClient:
    return TestClient(create_app(runs_dir), base_url="http://127.0.0.1")


def test_index_lists_runs_and_sweeps(client: TestClient, run_dir: Path) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert f'href="/runs/{run_dir.name}"' in page.text
    assert 'href="/sweeps/sweep-moderation"' in page.text
    listed = client.get("/api/runs").json()
    assert [r["run_id"] for r in listed] == [run_dir.name]
    assert listed[0]["status"] == "completed"


def test_run_page_is_the_report_with_live_updates(client: TestClient, run_dir: Path) -> None:
    page = client.get(f"/runs/{run_dir.name}")
    assert page.status_code == 200
    assert run_dir.name in page.text and 'id="step-counter"' in page.text
    assert f'data-status-url="/api/runs/{run_dir.name}/status"' in page.text
    assert '<script src="/static/plotly.min.js"></script>' in page.text
    bundle = client.get("/static/plotly.min.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]


def test_status_endpoint(client: TestClient, run_dir: Path) -> None:
    status = client.get(f"/api/runs/{run_dir.name}/status")
    assert status.status_code == 200 and status.headers["cache-control"] == "no-store"
    body = status.json()
    run = Run(run_dir)
    meta = run.meta()
    assert body["run_id"] == run_dir.name and body["status"] == "completed"
    assert body["last_step"] == meta["last_step"] == meta["steps"] - 1
    assert body["n_agents"] == 400 and body["scenario"] == "default"
    last = run.metrics().iloc[-1]
    assert body["metrics"]["n_post"] == pytest.approx(last["n_post"])
    assert body["metrics"]["reach_false"] == pytest.approx(last["reach_false"])


def test_figures_endpoint_matches_the_page(client: TestClient, run_dir: Path) -> None:
    body = client.get(f"/api/runs/{run_dir.name}/figures").json()
    assert body["last_step"] == Run(run_dir).meta()["last_step"]
    page = client.get(f"/runs/{run_dir.name}").text
    for figure_id in body["figures"]:
        assert f'data-figure="{figure_id}"' in page


def test_series_endpoint_returns_the_plotted_metrics_after_a_step(client: TestClient,
                                                                  run_dir: Path) -> None:
    run = Run(run_dir)
    metrics, last = run.metrics(), run.meta()["last_step"]
    figures = client.get(f"/api/runs/{run_dir.name}/figures").json()["figures"]
    page = client.get(f"/runs/{run_dir.name}").text
    assert f'data-series-url="/api/runs/{run_dir.name}/series"' in page
    everything = client.get(f"/api/runs/{run_dir.name}/series?since=-1")
    assert everything.headers["cache-control"] == "no-store"
    body = everything.json()
    assert body["last_step"] == last and body["status"] == "completed"
    assert f'data-layout="{body["layout"]}"' in page
    assert {"activity-actions", "beliefs-belief", "reach-reach"} <= set(body["series"])
    for figure_id, traces in body["series"].items():
        for index, points in traces.items():
            trace = figures[figure_id]["data"][int(index)]
            name = trace["meta"]["metric"]  # the trace the page drew from that metric
            assert points["x"] == [int(s) for s in metrics.index]
            assert points["y"] == pytest.approx(metrics[name].to_numpy(float).tolist(),
                                                nan_ok=True)
    tail = client.get(f"/api/runs/{run_dir.name}/series?since={last - 2}").json()
    steps = {tuple(p["x"]) for t in tail["series"].values() for p in t.values()}
    assert steps == {(last - 1, last)}
    assert client.get(f"/api/runs/{run_dir.name}/series?since={last}").json()["series"] == {}
    bad = client.get(f"/api/runs/{run_dir.name}/series?since=two")
    assert bad.status_code == 400 and "since must be a step number" in bad.json()["error"]


def test_pages_are_cached_until_the_run_advances(runs_dir: Path, run_dir: Path,
                                                 tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "runs"
    shutil.copytree(run_dir, copy / run_dir.name)
    app = create_app(copy)
    board = app.state.dashboard
    first = board.run_page(run_dir.name)
    assert board.run_page(run_dir.name) is first
    with sqlite3.connect(copy / run_dir.name / "run.sqlite") as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'last_step'")
    again = board.run_page(run_dir.name)
    assert again is not first and again.doc.last_step == 99


def raw_get(app: object, raw_path: str) -> tuple[int, str]:
    """GET a path exactly as written, as uvicorn passes it (no client-side normalization)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": unquote(raw_path),
             "raw_path": raw_path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80)}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body.decode()


@pytest.mark.parametrize("url", [
    "/runs/..%2F..%2Fetc%2Fpasswd", "/runs/..", "/runs/%2e%2e", "/runs/..%2F", "/runs/.",
    "/api/runs/..%2Fsecret/status", "/api/runs/../status", "/api/runs/nope/status",
    "/api/runs/..%2F..%2Frun/figures", "/api/runs/../figures",
    "/api/runs/..%2Fx/series", "/sweeps/..%2F..",
    "/sweeps/..", "/sweeps/nope", "/runs/nope", "/static/..%2F..%2Fsecret",
    "/runs/..%2F..%2Fetc/tables/passwd.csv", "/runs/../report.html", "/runs/..%2Fx/agents/1",
    "/sweeps/..%2F../results.csv", "/sweeps/..%2F../runs/x", "/sweeps/nope/report.html",
    "/compare?run=..%2Fx&run=..", "/api/runs/..%2Fx/control",
])
def test_unknown_and_traversal_ids_are_404(runs_dir: Path, url: str) -> None:
    status, _ = raw_get(create_app(runs_dir), url)
    assert status == 404, url


def test_a_run_name_inside_a_traversal_is_still_404(runs_dir: Path, run_dir: Path) -> None:
    app = create_app(runs_dir)
    assert raw_get(app, f"/runs/{run_dir.name}")[0] == 200
    for url in (f"/runs/..%2F{runs_dir.name}%2F{run_dir.name}",
                f"/runs/.%2F{run_dir.name}", f"/api/runs/..%2F{run_dir.name}/status"):
        assert raw_get(app, url)[0] == 404, url


def test_404_messages_are_escaped(client: TestClient) -> None:
    response = client.get("/runs/%3Cb%20onmouseover%3Dalert(1)%3E")
    assert response.status_code == 404
    assert "<b onmouseover" not in response.text
    assert "&lt;b onmouseover=alert(1)&gt;" in response.text
    api = client.get("/api/runs/%3Cb%3E/status")
    assert api.status_code == 404 and api.json()["error"] == "no run '<b>' in this dashboard"


def test_a_run_id_that_exists_outside_the_folder_is_not_served(runs_dir: Path,
                                                               run_dir: Path,
                                                               tmp_path: Path) -> None:
    # a real run next to (not inside) the served folder must stay unreachable
    import shutil

    served = tmp_path / "served"
    served.mkdir()
    shutil.copytree(run_dir, tmp_path / "outside")
    client = TestClient(create_app(served), base_url="http://127.0.0.1")
    assert client.get("/runs/..%2Foutside").status_code == 404
    assert client.get("/runs/outside").status_code == 404


def test_sweep_page(client: TestClient) -> None:
    page = client.get("/sweeps/sweep-moderation")
    assert page.status_code == 200
    figures = json.loads(page.text.split('id="figures">', 1)[1].split("</script>", 1)[0])
    assert set(figures) == {"measures-reach_false", "measures-cascades",
                            "effects-reach_false", "effects-cascades"}


def test_the_layout_fingerprint_changes_when_a_plot_gains_a_streamed_line() -> None:
    import plotly.graph_objects as go

    from townsquare.report.document import Document, Plot, Section
    from townsquare.report.stream import metric_meta, metric_traces, signature

    fig = go.Figure([go.Bar(x=[0], y=[1]), go.Scatter(x=[0], y=[1], meta=metric_meta("n_post"))])
    doc = Document("t", "", {}, [Section("s", "S", [Plot("activity-actions", fig)])])
    traces = metric_traces(doc)
    assert traces == {"activity-actions": {1: "n_post"}}  # the bar is not streamed
    before = signature(traces)
    fig.add_scatter(x=[0], y=[2], meta=metric_meta("n_like"))
    assert signature(metric_traces(doc)) != before
