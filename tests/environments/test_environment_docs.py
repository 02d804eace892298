"""docs/environments.md: its example environment runs on the engine as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "environments.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_the_guide_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    assert len(code) == 2
    namespace: dict[str, object] = {}
    for block in code:
        exec(compile(block, str(PAGE), "exec"), namespace)
    run = namespace["run"]
    assert run.meta()["status"] == "completed"  # type: ignore[attr-defined]
    assert len(run.metrics()) == 20  # type: ignore[attr-defined]
