"""Sweep reports: measures against parameters with t confidence intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_helpers import write_sweep
from scipy import stats

from townsquare.errors import DataError
from townsquare.report import build_document, render_document
from townsquare.report.sweep import load_results, measure_groups


@pytest.fixture
def sweep(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path / "sweep"
    return folder, write_sweep(folder)


def test_bands_are_the_t_intervals_of_the_replicates(sweep: tuple[Path, pd.DataFrame]) -> None:
    folder, table = sweep
    doc, where = build_document(folder)
    assert where == folder and doc.kind == "sweep"
    figure = next(p.figure for p in doc.plots if p.id == "measures-reach_false")
    line = next(t for t in figure.data if t.name == "strategy=none" and t.mode == "lines+markers")
    band = next(t for t in figure.data if t.fill == "toself" and t.legendgroup == line.name)
    for k, x in enumerate(line.x):
        values = table[(table["param_platform_feed_x"] == x)
                       & (table["param_strategy"] == "none")]["reach_false"]
        half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
        assert line.y[k] == pytest.approx(values.mean())
        assert band.y[k] == pytest.approx(values.mean() + half)  # upper edge, left to right
        assert band.y[-1 - k] == pytest.approx(values.mean() - half)  # lower edge, back


def test_sweep_report_sections_and_table(sweep: tuple[Path, pd.DataFrame]) -> None:
    folder, _ = sweep
    doc, _ = build_document(folder)
    assert [s.id for s in doc.sections] == ["overview", "measures", "effects", "table", "runs"]
    html = render_document(doc)
    assert "platform_feed_x" in html and "fact_check" in html and "95% CI" in html
    assert doc.facts["runs"] == "30" and doc.facts["arms"] == "6"


def test_measure_groups_keep_every_headline_first(sweep: tuple[Path, pd.DataFrame]) -> None:
    _, table = sweep
    table["final_reach"] = np.arange(len(table))
    table["constant"] = 1.0
    for k in range(30):  # more varying measures than the old cap of 24
        table[f"extra_{k}"] = np.arange(len(table)) * (k + 1.0)
    main, other, constant = measure_groups(table, ["cascades", "constant", "reach_false"])
    assert main == ["cascades", "constant", "reach_false"]  # a constant headline is kept
    assert set(other) == {"final_reach", *(f"extra_{k}" for k in range(30))}
    assert constant == []  # wall_seconds is a timing, not a measure
    fallback, _, constant = measure_groups(table, [])
    assert fallback[:2] == ["reach_false", "cascades"] and "constant" in constant


def test_a_results_table_without_replicates_is_a_data_error(tmp_path: Path) -> None:
    pd.DataFrame({"param_x": [1, 2], "m": [0.1, 0.2]}).to_parquet(tmp_path / "results.parquet")
    with pytest.raises(DataError, match=r"results\.parquet: missing required column 'replicate'"):
        load_results(tmp_path)


def test_a_corrupt_results_table_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "results.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="cannot be read as Parquet"):
        load_results(tmp_path)
