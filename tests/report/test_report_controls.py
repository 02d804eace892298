"""Starting, pausing, stopping and resuming runs from the dashboard (real worker processes).

A start request is checked before any process starts (a bad scenario or override is a
400 with the scenario's message and nothing is written); control requests come only from
this machine, as JSON, and not from another site's page.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette suggests httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from townsquare.report.server import create_app
from townsquare.store import list_runs, open_reader

LOCAL = ("127.0.0.1", 50000)
WAIT_S = 600  # ceiling for a condition on a busy machine; never reached when things work


def wait_for(condition: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def meta(runs: Path, run_id: str) -> dict[str, Any]:
    with open_reader(runs / run_id) as reader:
        return reader.meta()


@pytest.fixture
def board(tmp_path: Path) -> Any:
    runs = tmp_path / "runs"
    runs.mkdir()
    with TestClient(create_app(runs), base_url="http://127.0.0.1", client=LOCAL) as client:
        yield client, runs


@pytest.mark.parametrize(("body", "message"), [
    ({"scenario": "nope"}, "unknown scenario 'nope'"),
    ({"scenario": "../../etc/passwd"}, "unknown scenario"),
    ({"scenario": "default", "agents": "many"}, "agents must be a whole number"),
    ({"scenario": "default", "steps": 0}, "steps"),
    ({"scenario": "default", "set": "platform.feed.length = 'x'"}, "platform.feed.length"),
    ({"scenario": "default", "set": "no equals sign"}, "line 1"),
    ({"scenario": "default", "set": "output_dir = '/tmp'"}, "cannot be set"),
    ({"toml": "name = 'mine'\nsteps = 'ten'\n"}, "line 2, field 'steps'"),
])
def test_a_bad_start_request_is_refused_before_anything_runs(board: Any, body: dict[str, Any],
                                                             message: str) -> None:
    client, runs = board
    answer = client.post("/api/runs/start", json=body)
    assert answer.status_code == 400 and message in answer.json()["error"]
    assert list_runs(runs) == []


def test_control_requests_only_from_this_machine_as_json(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    app = create_app(runs)
    remote = TestClient(app, base_url="http://127.0.0.1", client=("10.0.0.5", 4000))
    assert remote.post("/api/runs/start", json={"scenario": "default"}).status_code == 403
    local = TestClient(app, base_url="http://127.0.0.1", client=LOCAL)
    form = local.post("/api/runs/start", data={"scenario": "default"})
    assert form.status_code == 415  # a cross-site HTML form cannot send JSON
    other_site = local.post("/api/runs/start", json={"scenario": "default"},
                            headers={"Origin": "http://evil.example"})
    assert other_site.status_code == 403
    other_port = local.post("/api/runs/start", json={"scenario": "nope"},
                            headers={"Origin": "http://127.0.0.1:9999"})
    assert other_port.status_code == 403
    same = local.post("/api/runs/start", json={"scenario": "nope"},
                      headers={"Origin": "http://127.0.0.1"})
    assert same.status_code == 400  # through the checks, refused for its unknown scenario
    assert local.post("/api/runs/nothing/stop", json={}).status_code == 404
    assert list_runs(runs) == []


def test_start_pause_stop_resume_a_run(board: Any) -> None:
    client, runs = board
    started = client.post("/api/runs/start", json={
        "scenario": "default", "agents": 1500, "steps": 400, "seed": 11,
        "checkpoint_every": 5, "set": "platform.feed.length = 12"})
    assert started.status_code == 201, started.text
    run_id = started.json()["run_id"]
    assert started.json()["href"] == f"/runs/{run_id}"
    assert meta(runs, run_id)["status"] == "running" and meta(runs, run_id)["seed"] == 11
    assert client.get(f"/runs/{run_id}").status_code == 200
    wait_for(lambda: meta(runs, run_id).get("last_step") is not None, "step 0")

    paused = client.post(f"/api/runs/{run_id}/pause", json={})
    assert paused.json()["state"] == "paused"
    pid = client.app.state.dashboard.manager()._workers[run_id].process.pid
    assert wait_for(lambda: _proc_state(pid) == "T", "the worker to be suspended")
    state = client.get(f"/api/runs/{run_id}/control").json()
    assert state["managed"] and state["state"] == "paused" and state["status"] == "running"

    assert client.post(f"/api/runs/{run_id}/stop", json={}).status_code == 200  # paused too
    wait_for(lambda: client.get(f"/api/runs/{run_id}/control").json()["state"] == "stopped",
             "the worker to stop")
    stopped = meta(runs, run_id)
    assert stopped["status"] == "interrupted"
    assert stopped["checkpoint_step"] == stopped["last_step"] < 399  # checkpointed on stop
    refused = client.post(f"/api/runs/{run_id}/pause", json={})
    assert refused.status_code == 400 and "not running" in refused.json()["error"]

    resumed = client.post(f"/api/runs/{run_id}/resume", json={})
    assert resumed.json()["state"] == "running"
    wait_for(lambda: (meta(runs, run_id).get("last_step") or 0) > stopped["last_step"],
             "a step after the checkpoint")
    client.post(f"/api/runs/{run_id}/stop", json={})
    wait_for(lambda: meta(runs, run_id)["status"] == "interrupted", "the second stop")


def test_an_uploaded_scenario_runs_and_is_stopped_resumably_when_the_dashboard_exits(
        tmp_path: Path) -> None:
    from townsquare.scenario import Scenario

    runs = tmp_path / "runs"
    runs.mkdir()
    toml = Scenario.load("default").with_overrides({"name": "uploaded-study"}).to_toml()
    with TestClient(create_app(runs), base_url="http://127.0.0.1", client=LOCAL) as client:
        started = client.post("/api/runs/start", json={
            "toml": toml, "agents": 1000, "steps": 1000, "checkpoint_every": 0})
        assert started.status_code == 201, started.text
        run_id = started.json()["run_id"]
        assert meta(runs, run_id)["scenario_name"] == "uploaded-study"
    assert meta(runs, run_id)["status"] == "interrupted"  # checkpointed: resumable


def _proc_state(pid: int) -> str:
    """The state letter of a process (``T``: stopped by a signal), from /proc."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2]
