from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import add_llm_calls, make_run, write_sweep


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with one complete run (with LLM calls added) and one sweep."""
    folder = tmp_path_factory.mktemp("runs")
    add_llm_calls(make_run(folder))
    write_sweep(folder / "sweep-moderation")
    return folder


@pytest.fixture(scope="session")
def run_dir(runs_dir: Path) -> Path:
    return next(p for p in runs_dir.iterdir() if (p / "run.sqlite").is_file())
