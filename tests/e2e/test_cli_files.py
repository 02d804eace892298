"""validate checks the data files a scenario names; run headers give the real size (#20)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def townsquare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "townsquare.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _scenario(folder: Path, source: str) -> Path:
    path = folder / "study.toml"
    path.write_text(f'name = "files"\nsteps = 2\n[population]\nsource = "{source}"\n'
                    '[network]\nkind = "erdos_renyi"\nk = 4\n', encoding="utf-8")
    return path


def test_validate_refuses_a_missing_persona_file(tmp_path: Path) -> None:
    done = townsquare("validate", str(_scenario(tmp_path, "people.csv")), cwd=tmp_path)
    assert done.returncode == 2
    assert "population.source" in done.stderr and "people.csv" in done.stderr
    assert "file not found" in done.stderr and "Traceback" not in done.stderr


def test_validate_and_run_give_the_persona_file_size(tmp_path: Path) -> None:
    rows = "\n".join("0.1,0.5,0.5" for _ in range(300))
    (tmp_path / "people.csv").write_text("leaning,activity,susceptibility\n" + rows + "\n")
    path = _scenario(tmp_path, "people.csv")
    done = townsquare("validate", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "300 agents" in done.stdout
    done = townsquare("run", str(path), "--quiet", "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "300 agents" in done.stdout and "10,000 agents" not in done.stdout
