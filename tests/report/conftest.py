from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_helpers import add_llm_calls, make_run


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


def write_sweep(folder: Path) -> pd.DataFrame:
    """A results table: 3 values of x times 2 strategies times 5 replicates."""
    rng = np.random.default_rng(0)
    rows = []
    for x in (0.1, 0.2, 0.4):
        for strategy in ("none", "fact_check"):
            for replicate in range(5):
                rows.append({"run_id": f"{strategy}-{x}-r{replicate}", "arm": 0,
                             "param_platform_feed_x": x, "param_strategy": strategy,
                             "replicate": replicate, "seed": replicate,
                             "reach_false": 100 * x + rng.normal(0, 2),
                             "cascades": 50 + rng.normal(0, 1), "wall_seconds": 1.0})
    table = pd.DataFrame(rows)
    folder.mkdir(parents=True, exist_ok=True)
    table.to_parquet(folder / "results.parquet")
    return table
