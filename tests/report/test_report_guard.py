"""The dashboard answers loopback host names only, or token holders with --allow-remote (#20)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("httpx")
from starlette.testclient import TestClient

from townsquare.report.guard import host_name
from townsquare.report.server import create_app


@pytest.mark.parametrize("base", ["http://127.0.0.1", "http://localhost:8765",
                                  "http://[::1]:8765"])
def test_loopback_host_names_are_answered(runs_dir: Path, base: str) -> None:
    assert TestClient(create_app(runs_dir), base_url=base).get("/api/runs").status_code == 200


@pytest.mark.parametrize("host", ["evil.example.com", "127.0.0.1.evil.example.com",
                                  "localhost.evil", "", "10.0.0.1:8765"])
def test_other_host_headers_are_refused(runs_dir: Path, host: str) -> None:
    client = TestClient(create_app(runs_dir), base_url="http://127.0.0.1")
    response = client.get("/api/runs", headers={"Host": host})
    assert response.status_code == 403
    assert "127.0.0.1" in response.text and "run_id" not in response.text


def test_a_remote_dashboard_needs_its_token(runs_dir: Path, run_dir: Path) -> None:
    client = TestClient(create_app(runs_dir, token="s3cret"), base_url="http://dash.example.org")
    assert client.get("/api/runs").status_code == 403
    assert client.get("/api/runs?token=wrong").status_code == 403
    bearer = TestClient(create_app(runs_dir, token="s3cret"), base_url="http://dash.example.org")
    assert bearer.get("/api/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    first = client.get(f"/runs/{run_dir.name}?token=s3cret")
    assert first.status_code == 200 and "townsquare_token" in first.headers["set-cookie"]
    assert client.get("/api/runs").status_code == 200  # the cookie now carries it


def test_host_name_parsing() -> None:
    assert host_name("LOCALHOST:80") == "localhost"
    assert host_name("[::1]:8765") == "::1" and host_name("::1") == "::1"
    assert host_name("evil.com:80") == "evil.com"


def test_a_symlinked_run_outside_the_folder_is_not_listed_or_served(run_dir: Path,
                                                                  tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    outside = tmp_path / "elsewhere" / run_dir.name
    shutil.copytree(run_dir, outside)
    os.symlink(outside, served / "linked")
    client = TestClient(create_app(served), base_url="http://127.0.0.1")
    assert client.get("/api/runs").json() == []
    assert client.get("/runs/linked").status_code == 404
    assert "/runs/linked" not in client.get("/").text
