"""The CLI as a user meets it: real processes, exit codes, messages, files left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from townsquare.store import SqliteRunReader


def townsquare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "townsquare.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def runs_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.is_dir()) if folder.exists() else []


def test_run_show_export(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    done = townsquare("run", "default", "--agents", "800", "--steps", "6", "--out", str(out),
                      "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "largest cascade" in done.stdout
    [run_dir] = runs_in(out)
    reader = SqliteRunReader(run_dir)
    assert reader.meta()["status"] == "completed"
    assert len(reader.events()) > 0
    assert reader.last_step() == 5

    shown = townsquare("show", "latest", "--runs", str(out), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "default" in shown.stdout

    exported = townsquare("export", "latest", "--runs", str(out), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert (run_dir / "parquet" / "events.parquet").exists()


def test_scenarios_and_validate(tmp_path: Path) -> None:
    listed = townsquare("scenarios", cwd=tmp_path)
    assert listed.returncode == 0 and "default" in listed.stdout
    ok = townsquare("validate", "default", cwd=tmp_path)
    assert ok.returncode == 0 and "valid" in ok.stdout


BAD_SCENARIOS = {
    "malformed TOML": ("name = \n[[oops\n", ["not valid TOML"]),
    "unknown key": ('[population]\nsize = 100\ncolour = "red"\n',
                    ["line 3", "population.colour", "unknown key"]),
    "negative probability": ('[behavior]\nmodel = "social"\nengage_rate = -0.5\n',
                             ["line 3", "behavior.engage_rate", "greater than or equal to 0"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenarios_exit_2_with_a_clear_message(tmp_path: Path, case: str) -> None:
    text, expected = BAD_SCENARIOS[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    for command in (["run", str(path), "--out", str(tmp_path / "runs")],
                    ["validate", str(path)]):
        done = townsquare(*command, cwd=tmp_path)
        assert done.returncode == 2, (case, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr + done.stdout
        assert str(path) in done.stderr
        for fragment in expected:
            assert fragment in done.stderr, (case, fragment, done.stderr)
    assert runs_in(tmp_path / "runs") == []


def test_edge_list_with_a_bad_line(tmp_path: Path) -> None:
    edges = tmp_path / "edges.csv"
    edges.write_text("0,1\n1,2\n2\n3,0\n")
    path = tmp_path / "study.toml"
    path.write_text('[population]\nsize = 4\n[network]\nkind = "edgelist"\npath = "edges.csv"\n')
    done = townsquare("run", str(path), "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "edges.csv" in done.stderr and "line 3" in done.stderr
    assert runs_in(tmp_path / "runs") == []


def test_missing_files(tmp_path: Path) -> None:
    done = townsquare("run", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert done.returncode == 2 and "file not found" in done.stderr
    path = tmp_path / "study.toml"
    path.write_text('[network]\nkind = "graphml"\npath = "missing.graphml"\n')
    done = townsquare("run", str(path), "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "missing.graphml" in done.stderr and "Traceback" not in done.stderr
    assert runs_in(tmp_path / "runs") == []
    done = townsquare("show", "nope", "--runs", str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_bad_override(tmp_path: Path) -> None:
    done = townsquare("run", "--set", "population.size=-3", "--out", str(tmp_path / "r"),
                      cwd=tmp_path)
    assert done.returncode == 2
    assert "population.size" in done.stderr
