"""docs/experiments.md runs as written: its commands and code blocks, in order, in one folder."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"```(python|bash)\n(.*?)```", re.DOTALL)


@pytest.mark.slow  # the whole experiments page, ~20 s
def test_experiments_page_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DOCS / "experiments.md").read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    assert sum(lang == "bash" for lang, _ in blocks) >= 4
    assert sum(lang == "python" for lang, _ in blocks) >= 3
    monkeypatch.chdir(tmp_path)
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    namespace: dict[str, object] = {}
    outputs = []
    for lang, body in blocks:
        if lang == "python":
            exec(compile(body, "experiments.md", "exec"), namespace)
            continue
        for line in body.splitlines():
            if not line.startswith("townsquare "):
                continue
            argv = [sys.executable, "-m", "townsquare.cli", *shlex.split(line)[1:]]
            done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=env,
                                  timeout=300)
            assert done.returncode == 0, (line, done.stdout, done.stderr)
            outputs.append(done.stdout)
    assert (tmp_path / "study/moderation/results.parquet").is_file()
    assert (tmp_path / "study/report.html").is_file()
    assert (tmp_path / "study/belief.html").is_file()
    assert "difference from the reference arm" in "".join(outputs)
    assert "stylized facts" in "".join(outputs)
