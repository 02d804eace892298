"""Every CLI command that takes a run or a runs folder takes a PostgreSQL URL too (#20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"XDG_CACHE_HOME": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", "townsquare.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def stored(pg_url: str, tmp_path: Path) -> tuple[str, str]:
    """A finished run in a fresh database: (url, run id)."""
    done = cli("run", "default", "--agents", "300", "--steps", "3", "--quiet",
               "--out", str(tmp_path / "runs"), "--set", f"store={pg_url}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [run_id] = [p.name for p in (tmp_path / "runs").iterdir()]
    assert f"#{run_id}" in done.stdout and "run.sqlite" not in done.stdout
    return pg_url, run_id


def test_show_runs_and_url_addresses(stored: tuple[str, str], tmp_path: Path) -> None:
    url, run_id = stored
    for args in (("show", run_id, "--runs", url), ("show", "latest", "--runs", url),
                 ("show", f"{url}#{run_id}")):
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 0, (args, done.stderr)
        assert "completed" in done.stdout
    listed = cli("runs", "--runs", url, cwd=tmp_path)
    assert listed.returncode == 0 and run_id in listed.stdout


def test_query_over_a_postgresql_store(stored: tuple[str, str], tmp_path: Path) -> None:
    url, run_id = stored
    done = cli("query", url, "SELECT run_id, COUNT(*) AS n FROM events GROUP BY run_id",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert run_id in done.stdout
    refused = cli("query", url, "SELECT * FROM read_csv('/etc/passwd')", cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_report_and_export_of_a_postgresql_run(stored: tuple[str, str], tmp_path: Path) -> None:
    url, run_id = stored
    page = tmp_path / "page.html"
    done = cli("report", f"{url}#{run_id}", "--out", str(page), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert page.stat().st_size > 10_000
    exported = cli("export", run_id, "--runs", url, "--out", str(tmp_path / "pq"), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "pq" / "events.parquet").is_file()


def test_resume_of_a_stopped_postgresql_run(pg_url: str, tmp_path: Path) -> None:
    killed = subprocess.run(
        [sys.executable, "-m", "townsquare.cli", "run", "default", "--agents", "300", "--steps",
         "4", "--quiet", "--out", str(tmp_path / "runs"), "--set", f"store={pg_url}",
         "--set", "checkpoint_every=2"],
        env=os.environ | {"TOWNSQUARE_TEST_KILL_AT": "checkpoint"}, capture_output=True,
        text=True, timeout=300, cwd=tmp_path)
    assert killed.returncode < 0
    [run_id] = [p.name for p in (tmp_path / "runs").iterdir()]
    done = cli("resume", f"{pg_url}#{run_id}", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"#{run_id}" in done.stdout
    assert "completed" in cli("show", run_id, "--runs", pg_url, cwd=tmp_path).stdout


def test_sweeps_into_one_database(pg_url: str, tmp_path: Path) -> None:
    with_password = pg_url.replace("postgres@", "postgres:hunter2@")  # trust auth ignores it
    for name in ("a", "b"):
        done = cli("sweep", "default", "--param", "behavior.engage_rate=0.05,0.1",
                   "--agents", "200", "--steps", "2", "--workers", "1", "--quiet",
                   "--out", str(tmp_path / name), "--set", f"store={with_password}",
                   cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "(2 runs)" in done.stdout
        assert "hunter2" not in (tmp_path / name / "sweep.json").read_text()
        assert "hunter2" not in done.stdout + done.stderr
    listed = cli("runs", "--runs", pg_url, cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.count("completed") == 4
    again = cli("sweep", "default", "--param", "behavior.engage_rate=0.05,0.1",
                "--agents", "200", "--steps", "2", "--workers", "1", "--quiet",
                "--out", str(tmp_path / "a"), "--set", f"store={with_password}", cwd=tmp_path)
    assert again.returncode == 0 and "0 runs to do" in again.stdout and "(2 runs)" in again.stdout


def test_the_dashboard_serves_a_postgresql_store(stored: tuple[str, str]) -> None:
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from townsquare.report.server import create_app

    url, run_id = stored
    client = TestClient(create_app(url), base_url="http://127.0.0.1")
    assert [r["run_id"] for r in client.get("/api/runs").json()] == [run_id]
    assert client.get(f"/runs/{run_id}").status_code == 200
    status = client.get(f"/api/runs/{run_id}/status").json()
    assert status["status"] == "completed" and status["last_step"] == 2
    series = client.get(f"/api/runs/{run_id}/series?since=0").json()  # steps 1 and 2
    assert series["last_step"] == 2 and series["series"]
    assert {tuple(p["x"]) for t in series["series"].values() for p in t.values()} == {(1, 2)}
    assert client.get("/runs/nope").status_code == 404
