"""The dashboard beyond reports: agent pages, run comparison, downloads, sweep run links,
and survey panels split by answer scale."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pandas as pd
import pytest
from report_helpers import EVIL, make_run

with warnings.catch_warnings():  # starlette suggests httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from townsquare.report.figures_survey import question_scales, survey_means
from townsquare.report.server import create_app
from townsquare.run import Run


@pytest.fixture(scope="module")
def client(runs_dir: Path) -> TestClient:
    return TestClient(create_app(runs_dir), base_url="http://127.0.0.1")


def test_agent_page_shows_persona_posts_and_model_calls(client: TestClient,
                                                        run_dir: Path) -> None:
    run = Run(run_dir)
    posts = run.reader.query("SELECT author, text FROM posts WHERE text LIKE '%drugged%' "
                             "ORDER BY post_id LIMIT 1")
    author = int(posts["author"].iloc[0])
    page = client.get(f"/runs/{run_dir.name}/agents/{author}")
    assert page.status_code == 200
    html = page.text
    assert f"agent {author}" in html and "Persona as stored" in html
    assert "the tap water is drugged" in html  # its post, escaped
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    n_posts = int(run.reader.query("SELECT COUNT(*) AS n FROM posts WHERE author = ?",
                                   (author,))["n"].iloc[0])
    assert f"{n_posts:,} posts" in html
    # an agent with model calls (add_llm_calls gives agents 0..39 one call each)
    calls = client.get(f"/runs/{run_dir.name}/agents/1").text
    assert "Model calls" in calls and "fake-model" in calls
    assert "not the prompt text" in calls
    assert 'id="interview-form"' not in calls  # the scenario configures no model


def test_agent_page_of_an_unknown_agent_says_which_exist(client: TestClient,
                                                         run_dir: Path) -> None:
    page = client.get(f"/runs/{run_dir.name}/agents/400")
    assert page.status_code == 422 and "agents 0..399" in page.text


def test_tables_download_as_csv_and_parquet(client: TestClient, run_dir: Path) -> None:
    stored = Run(run_dir).reader.table("metrics")
    csv = client.get(f"/runs/{run_dir.name}/tables/metrics.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(csv.text))
    assert len(frame) == len(stored) and list(frame.columns) == list(stored.columns)
    parquet = client.get(f"/runs/{run_dir.name}/tables/posts.parquet")
    assert parquet.status_code == 200
    posts = pd.read_parquet(io.BytesIO(parquet.content))
    pd.testing.assert_frame_equal(posts, Run(run_dir).reader.table("posts"),
                                  check_dtype=False)
    assert client.get(f"/runs/{run_dir.name}/tables/nothing.csv").status_code == 404
    assert client.get(f"/runs/{run_dir.name}/tables/metrics.xlsx").status_code == 404
    assert client.get(f"/runs/{run_dir.name}/tables/sqlite_master.csv").status_code == 404


def test_report_file_download_is_self_contained(client: TestClient, run_dir: Path) -> None:
    report = client.get(f"/runs/{run_dir.name}/report.html")
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert '<script src="/static' not in report.text and "Plotly" in report.text
    assert run_dir.name in report.text


def test_run_page_links_downloads_and_agent_lookup(client: TestClient, run_dir: Path) -> None:
    html = client.get(f"/runs/{run_dir.name}").text
    assert f'href="/runs/{run_dir.name}/tables/posts.parquet"' in html
    assert f'href="/runs/{run_dir.name}/report.html"' in html
    assert f'action="/runs/{run_dir.name}/agents/"' in html
    assert 'id="btn-stop"' in html


def test_compare_two_runs_on_the_same_plots(client: TestClient, runs_dir: Path,
                                            run_dir: Path, tmp_path: Path) -> None:
    other = make_run(runs_dir, seed=9, steps=5)
    try:
        page = client.get(f"/compare?run={run_dir.name}&run={other.name}")
        assert page.status_code == 200
        import json
        import re

        figures = json.loads(re.search(r'<script type="application/json" id="figures">(.*?)'
                                       r"</script>", page.text, re.S).group(1))
        reach = figures["compare-reach_false"]["data"]
        assert [t["name"] for t in reach] == [run_dir.name, other.name]
        assert "compare-other" in figures
        single = client.get(f"/compare?run={run_dir.name}")
        assert single.status_code == 422 and "compare 2 to 8 runs" in single.text
    finally:
        import shutil

        shutil.rmtree(other)


def test_sweep_report_links_each_run_and_downloads_results(client: TestClient,
                                                           runs_dir: Path) -> None:
    html = client.get("/sweeps/sweep-moderation").text
    results = pd.read_parquet(runs_dir / "sweep-moderation" / "results.parquet")
    for run_id in results["run_id"]:
        assert f'href="/sweeps/sweep-moderation/runs/{run_id}"' in html
    csv = client.get("/sweeps/sweep-moderation/results.csv")
    assert csv.status_code == 200
    assert len(pd.read_csv(io.StringIO(csv.text))) == len(results)
    parquet = client.get("/sweeps/sweep-moderation/results.parquet")
    assert len(pd.read_parquet(io.BytesIO(parquet.content))) == len(results)
    assert client.get("/sweeps/sweep-moderation/other.csv").status_code == 404
    assert client.get("/sweeps/sweep-moderation/runs/nothing").status_code == 404


SURVEYS = {"surveys": [{"id": "s", "steps": [0], "questions": [
    {"id": "agree", "kind": "likert", "scale": 7, "topic": "health"},
    {"id": "sure", "kind": "numeric", "measures": "belief", "news": "rumour"},
    {"id": "pick", "kind": "choice", "options": ["no", "maybe", "yes"], "topic": "health"},
    {"id": "also", "kind": "likert", "scale": 7, "topic": "politics"}]}]}


def test_survey_questions_on_different_scales_get_their_own_panels() -> None:
    scales = question_scales(SURVEYS)
    assert scales[("s", "agree")] == scales[("s", "also")] == ("Likert point (1-7)", 1.0, 7.0)
    assert scales[("s", "sure")][1:] == (0.0, 1.0)
    assert scales[("s", "pick")][1:] == (0.0, 2.0)
    summary = pd.DataFrame({"survey": "s", "question": ["agree", "sure", "pick", "also"],
                            "step": 0, "n": 10, "mean": [4.0, 0.3, 1.0, 3.0],
                            "ci_low": [3.5, 0.2, 0.8, 2.5], "ci_high": [4.5, 0.4, 1.2, 3.5]})
    fig = survey_means(summary, SURVEYS)
    axes = {trace.name: trace.yaxis for trace in fig.data}
    assert axes["s: agree"] == axes["s: also"]  # the same Likert scale shares a panel
    assert len({axes["s: agree"], axes["s: sure"], axes["s: pick"]}) == 3
    assert list(fig.layout.yaxis.range) == pytest.approx([0.7, 7.3])
    assert "Likert" in fig.layout.yaxis.title.text


def test_interview_endpoint_answers_from_the_agents_state(runs_dir: Path,
                                                          run_dir: Path) -> None:
    local = TestClient(create_app(runs_dir), base_url="http://127.0.0.1",
                       client=("127.0.0.1", 50000))
    url = f"/api/runs/{run_dir.name}/agents/5/interview"
    answer = local.post(url, json={"question": "Is the tap water safe?"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["agent"] == 5 and "Asked: Is the tap water safe?" in body["answer"]
    assert local.post(url, json={"question": "  "}).status_code == 400
    assert local.post(f"/api/runs/{run_dir.name}/agents/4000/interview",
                      json={"question": "hello?"}).status_code == 400
    remote = TestClient(create_app(runs_dir), base_url="http://127.0.0.1",
                        client=("192.168.1.9", 50000))
    assert remote.post(url, json={"question": "hello?"}).status_code == 403


def test_a_quick_page_streams_the_same_plots_and_marks_the_rest_pending(run_dir: Path) -> None:
    from townsquare.report.build import run_report
    from townsquare.report.sections import HEAVY
    from townsquare.report.stream import metric_traces, signature

    run = Run(run_dir)
    quick, whole = run_report(run, quick=True), run_report(run)
    assert quick.pending and not whole.pending
    assert signature(metric_traces(quick)) == signature(metric_traces(whole))
    for section in quick.sections:
        pending = [item for item in section.items if getattr(item, "pending", False)]
        if section.id in HEAVY:
            assert pending and section.items == pending, section.id
        elif section.id != "emotion":
            assert not pending, section.id
    assert {p.id for p in quick.plots} < {p.id for p in whole.plots}
