"""`townsquare report` and `townsquare serve` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from townsquare.cli import app
from townsquare.errors import UserError
from townsquare.report.commands import check_host

runner = CliRunner()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.org", "::"])
def test_serve_refuses_a_remote_host_without_allow_remote(host: str, runs_dir: Path) -> None:
    result = runner.invoke(app, ["serve", str(runs_dir), "--host", host])
    assert result.exit_code == 2
    assert f"refusing to serve on {host}" in result.output and "--allow-remote" in result.output


def test_check_host() -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        check_host(host, allow_remote=False)
    check_host("0.0.0.0", allow_remote=True)
    with pytest.raises(UserError, match="--allow-remote"):
        check_host("0.0.0.0", allow_remote=False)


def test_serve_needs_an_existing_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_report_writes_the_html_file(runs_dir: Path, run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "r.html"
    result = runner.invoke(app, ["report", run_dir.name, "--runs", str(runs_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and run_dir.name in out.read_text(encoding="utf-8")


def test_report_of_a_sweep_defaults_to_its_folder(runs_dir: Path) -> None:
    result = runner.invoke(app, ["report", "sweep-moderation", "--runs", str(runs_dir)])
    assert result.exit_code == 0, result.output
    assert (runs_dir / "sweep-moderation" / "report.html").is_file()


def test_report_of_an_unknown_run_exits_2(runs_dir: Path) -> None:
    result = runner.invoke(app, ["report", "nope", "--runs", str(runs_dir)])
    assert result.exit_code == 2 and "no run 'nope'" in result.output


def test_png_without_a_browser_says_how_to_get_one(runs_dir: Path, run_dir: Path,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    result = runner.invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "r.html"),
                                 "--png", str(tmp_path / "png")])
    assert result.exit_code == 2
    assert "needs Chromium" in result.output and "apt-get install chromium" in result.output
