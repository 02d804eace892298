"""The run report: every section, self-contained, and run text always escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_helpers import EVIL, EVIL_REASON

from townsquare.report import build_document, render_document, write_report
from townsquare.report.document import fmt, script_safe
from townsquare.report.extract import extract_run
from townsquare.report.sections import SECTIONS
from townsquare.report.style import DASHES, FALSE, TRUE
from townsquare.run import Run

FIGURES = re.compile(r'<script type="application/json" id="figures">(.*?)</script>', re.DOTALL)


@pytest.fixture(scope="module")
def html(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert write_report(run_dir, out) == out
    return out.read_text(encoding="utf-8")


def figures(html: str) -> dict:
    return json.loads(FIGURES.search(html).group(1))


def test_every_section_is_in_the_report_and_the_contents(html: str) -> None:
    for key, title in SECTIONS:
        assert f'<section class="section" id="{key}">' in html
        assert f'<a href="#{key}">' in html
        assert f"<h2>{title}</h2>" in html


def test_each_section_has_its_plots(html: str) -> None:
    ids = set(figures(html))
    expected = {"activity-actions", "beliefs-belief", "attitudes-heatmap", "attitudes-final",
                "emotion-means", "emotion-valence", "cascades-ccdf", "cascades-tree1",
                "reach-reach", "moderation-labels", "moderation-interventions", "network-graph",
                "surveys-means", "llm-calls"}
    assert expected <= ids
    for figure_id in ids:  # every figure has a place on the page, and data to draw
        assert f'data-figure="{figure_id}"' in html
        assert figures(html)[figure_id]["data"]


def test_the_report_is_self_contained(html: str) -> None:
    from plotly.offline import get_plotlyjs

    sources = re.findall(r'<(?:script|link|img|iframe)[^>]*(?:src|href)="([^"]*)"', html)
    assert all(s.startswith("data:") for s in sources), sources  # nothing fetched
    assert get_plotlyjs()[:2000] in html


def test_false_items_are_red_and_true_items_blue(html: str) -> None:
    reach = figures(html)["reach-reach"]["data"]
    colour = {t["name"]: t["line"]["color"] for t in reach}
    assert colour["all false items"] == FALSE and colour["all true items"] == TRUE
    belief = {t["name"]: t["line"]["color"] for t in figures(html)["beliefs-belief"]["data"]}
    assert belief["rumour (false)"] == FALSE and belief["report (true)"] == TRUE
    assert (FALSE, TRUE) == ("#D55E00", "#0072B2")  # Okabe–Ito vermillion and blue


def test_activity_series_differ_by_more_than_hue(html: str) -> None:
    lines = [t for t in figures(html)["activity-actions"]["data"] if t.get("mode") ==
             "lines+markers"]
    assert len(lines) >= 4
    styles = {(t["line"]["color"], t["line"]["dash"], t["marker"]["symbol"]) for t in lines}
    assert len({dash for _, dash, _ in styles}) == min(len(lines), len(DASHES))
    assert len({symbol for _, _, symbol in styles}) == len(lines)


def test_post_text_and_reasons_are_escaped(html: str) -> None:
    assert EVIL not in html and EVIL_REASON not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # news table, cascade table
    assert "&lt;img src=x onerror=alert(2)&gt;" in html  # stated reasons
    # exactly the page's own script elements, none from the data
    assert html.count("<script") == 3


def test_summary_and_scenario_values_are_shown(run_dir: Path, html: str) -> None:
    run = Run(run_dir)
    meta = run.meta()
    assert f"<dd>{meta['seed']}</dd>" in html
    assert run.id in html
    assert "platform.moderation.strategy" in html and "hybrid" in html
    assert f"<td>{fmt(run.summary()['total_posts'])}</td>" in html


def test_histograms_count_every_snapshot(run_dir: Path) -> None:
    run = Run(run_dir)
    data = extract_run(run)
    attitudes = run.attitudes()
    health = data.topics.index("health")
    counts = attitudes[attitudes["topic"] == health].groupby("step").size()
    assert data.focus_topic == "health"  # both news items are about health
    hist = data.focus_attitudes
    np.testing.assert_array_equal(hist.steps, counts.index)
    np.testing.assert_array_equal(hist.counts.sum(axis=1), counts.to_numpy())
    final = attitudes[(attitudes["topic"] == health) & (attitudes["step"] == counts.index[-1])]
    expected, _ = np.histogram(final["value"].clip(-1, 1), bins=hist.edges)
    np.testing.assert_array_equal(hist.counts[-1], expected)
    for topic, ends in data.attitudes.items():  # every topic: first and last snapshot only
        code = data.topics.index(topic)
        rows = attitudes[attitudes["topic"] == code]
        np.testing.assert_array_equal(ends.steps, [rows["step"].min(), rows["step"].max()])
        first = rows[rows["step"] == rows["step"].min()]["value"].clip(-1, 1)
        np.testing.assert_array_equal(ends.counts[0], np.histogram(first, bins=ends.edges)[0])


def test_largest_cascade_tree_matches_the_cascade_table(run_dir: Path) -> None:
    run = Run(run_dir)
    data = extract_run(run)
    largest = run.cascades().sort_values("size").iloc[-1]
    tree = data.trees[0]
    assert tree.size == largest["size"] and tree.root == largest["root"]
    assert tree.positions[:, 0].max() == largest["depth"]
    assert tree.veracity in ("false", "true", "unverified")  # unverified: an ordinary post


def test_a_run_without_optional_tables_still_reports(tmp_path: Path) -> None:
    from report_helpers import make_run

    folder = make_run(tmp_path, **{"surveys": [], "interventions": [],
                                   "platform.moderation.strategy": "none", "steps": 3})
    doc, _ = build_document(folder)
    notes = {s.id: [i.text for i in s.items if i.kind == "note"] for s in doc.sections}
    assert notes["surveys"] == ["No surveys in this run."]
    assert notes["llm"] == ["This run made no LLM calls."]
    assert "moderation strategy: none" in notes["moderation"][0]
    page = render_document(doc)
    assert all(f'id="{key}"' in page for key, _ in SECTIONS)


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.text() | st.integers() | st.none(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12))
def test_script_safe_json_round_trips_and_cannot_close_a_script(value: object) -> None:
    text = script_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert "<" not in text and ">" not in text and "&" not in text


def test_fmt() -> None:
    assert fmt(1234567) == "1,234,567" and fmt(np.int64(3)) == "3"
    assert fmt(2.0) == "2" and fmt(0.123456) == "0.1235" and fmt(float("nan")) == "–"
    assert fmt(None) == "" and fmt("x") == "x" and fmt(True) == "True"
