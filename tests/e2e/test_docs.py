"""The examples in docs/ run as written (python blocks in-process, CLI blocks as commands)."""

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


def blocks(page: str, language: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [body for lang, body in BLOCK.findall(text) if lang == language]


@pytest.mark.parametrize("page", [
    pytest.param("python-api.md", marks=pytest.mark.slow),  # the whole page as written, ~15 s
    "personas.md", "architecture.md"])
def test_python_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    found = blocks(page, "python")
    assert found, f"{page} has no python examples"
    for code in found:
        # dont_inherit: the page runs as a user would run it, without this module's __future__
        exec(compile(code, f"{page}", "exec", dont_inherit=True), namespace)


@pytest.mark.slow  # every CLI example of the docs, ~80 s
def test_cli_examples_run(tmp_path: Path) -> None:
    commands = [line for block in blocks("cli.md", "bash") for line in block.splitlines()
                if line.startswith("townsquare ")]
    assert len(commands) >= 5
    bin_dir = Path(sys.executable).parent
    env = os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                        "XDG_CACHE_HOME": str(tmp_path / "cache")}  # query's Parquet cache
    for command in commands:
        argv = shlex.split(command)
        argv = [sys.executable, "-m", "townsquare.cli", *argv[1:]]
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
