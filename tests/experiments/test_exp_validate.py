"""Validation: tail fits against known distributions, checks on runs, recorded cascades."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from townsquare.engine import Simulation
from townsquare.errors import DataError
from townsquare.experiments.recorded import (
    compare_cascades,
    read_recorded,
    recorded_posts,
    to_recorded,
)
from townsquare.experiments.validate import fit_tail, validate_run
from townsquare.run import Run

POSTS_SQL = "SELECT post_id, parent, root, step, author, news FROM posts"


def test_power_law_sample_is_recognised_with_its_exponent() -> None:
    sample = stats.zipf.rvs(2.5, size=4000, random_state=np.random.default_rng(0))
    fit = fit_tail(sample, xmin=1)
    assert fit is not None
    assert fit.alpha == pytest.approx(2.5, abs=0.08)
    # Vuong's test is conservative here: rare huge values make the ratio noisy
    assert fit.loglik_ratio > 0 and fit.p_value < 0.05
    chosen = fit_tail(sample)  # xmin by the KS method: still the right exponent
    assert chosen is not None and chosen.alpha == pytest.approx(2.5, abs=0.15)


def test_exponential_sample_is_not_heavy_tailed() -> None:
    sample = stats.geom.rvs(0.3, size=3000, random_state=np.random.default_rng(1))
    fit = fit_tail(sample, xmin=1)
    assert fit is not None and fit.loglik_ratio < 0 and fit.p_value < 0.01
    assert fit_tail(np.ones(50, int)) is None  # nothing to fit
    assert fit_tail(np.array([1, 2, 3])) is None


def test_checks_on_a_run(small_run: Run) -> None:
    report = validate_run(small_run)
    frame = report.to_frame().set_index("name")
    assert list(frame.columns) == ["status", "value", "expected"]
    assert set(frame.index) >= {"cascade size tail", "cascade size exponent",
                                "most cascades small", "user activity tail",
                                "false news reach further", "false news faster",
                                "follower degree tail"}
    assert set(frame["status"]) <= {"PASS", "FAIL", "SKIP"}
    cascades = small_run.cascades()
    share = (cascades["size"] == 1).mean()
    assert frame.loc["most cascades small", "value"].startswith(f"{share:.1%}")
    assert (frame.loc["most cascades small", "status"] == "PASS") == (share >= 0.5)
    summary = small_run.summary()
    reach_ok = summary["reach_false"] > summary["reach_true"]
    assert frame.loc["false news reach further", "status"] == ("PASS" if reach_ok else "FAIL")
    assert report.passed == ("FAIL" not in set(frame["status"]))
    strict = validate_run(small_run, min_unshared=1.0)
    assert strict.to_frame().set_index("name").loc["most cascades small", "status"] == "FAIL"
    assert not strict.passed


def test_news_checks_run_whatever_the_parameters_and_skip_only_without_both_kinds(
        tmp_path: Path, make_scenario) -> None:
    scenario = make_scenario(tmp_path, **{"behavior.novelty_weight": 0.0, "steps": 6})
    run = Simulation(scenario, run_dir=tmp_path / "r").run()
    frame = validate_run(run).to_frame().set_index("name")
    metrics = run.metrics()
    false, true = metrics["reach_false"].to_numpy(), metrics["reach_true"].to_numpy()
    want = "PASS" if false[-1] > true[-1] else "FAIL"
    assert frame.loc["false news reach further", "status"] == want  # never a SKIP
    k = max(1.0, 0.5 * min(false[-1], true[-1]))
    first = [int(np.argmax(r >= k)) for r in (false, true)]
    assert frame.loc["false news faster", "status"] == ("PASS" if first[0] < first[1]
                                                        else "FAIL")
    only_true = [item.model_dump() | {"veracity": "true"} for item in scenario.news]
    run = Simulation(scenario.with_overrides({"news": only_true}),
                     run_dir=tmp_path / "t").run()
    frame = validate_run(run).to_frame().set_index("name")
    assert frame.loc["false news reach further", "status"] == "SKIP"
    assert frame.loc["false news faster", "status"] == "SKIP"
    assert frame.loc["follower degree tail", "status"] in ("PASS", "FAIL")


def test_a_run_matches_its_own_recording_and_differs_from_another(
        small_run: Run, runs_folder: Path, tmp_path: Path) -> None:
    csv = tmp_path / "recorded.csv"
    to_recorded(small_run.reader.query(POSTS_SQL)).to_csv(csv, index=False)
    same = validate_run(small_run, csv).comparison
    assert same is not None
    assert same["quantity"].tolist() == ["size", "depth", "duration", "delay"]
    assert (same["ks_statistic"] == 0).all() and (same["wasserstein"] == 0).all()
    other = Run(runs_folder / "run-2")
    differ = validate_run(other, csv).comparison
    assert differ is not None and (differ["n_simulated"] != differ["n_recorded"]).any()
    # a recording where nothing was ever reshared is far from any run
    flat = pd.DataFrame({"cascade_id": range(300), "post_id": range(300),
                         "parent_post_id": [""] * 300, "user": range(300), "step": 0})
    flat.to_csv(tmp_path / "flat.csv", index=False)
    far = validate_run(small_run, tmp_path / "flat.csv").comparison.set_index("quantity")
    assert far.loc["size", "ks_statistic"] > 0.2 and far.loc["size", "ks_pvalue"] < 1e-3
    only_news = validate_run(small_run, csv, news_only=True).comparison.set_index("quantity")
    assert only_news.loc["size", "n_simulated"] < same.set_index("quantity").loc[
        "size", "n_simulated"]


def test_recorded_measures_by_hand(tmp_path: Path) -> None:
    # cascade A: a -> b -> c and a -> d ; cascade B: e alone
    text = ("cascade_id,post_id,parent_post_id,user,step\n"
            "A,a,,u1,0\nA,b,a,u2,1.5\nA,c,b,u3,4\nA,d,a,u2,2\nB,e,,u4,3\n")
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    posts = read_recorded(path)
    compared = compare_cascades(posts, posts).set_index("quantity")
    assert compared.loc["size", "mean_recorded"] == 2.5  # sizes 4 and 1
    assert compared.loc["depth", "mean_recorded"] == 1.0  # depths 2 and 0
    assert compared.loc["duration", "mean_recorded"] == 2.0  # 4 - 0 and 0
    assert compared.loc["delay", "mean_recorded"] == pytest.approx((1.5 + 4 + 2) / 3)


HEADER = "cascade_id,post_id,parent_post_id,user,step\n"
BAD_FILES = {
    "missing column": ("cascade_id,post_id,user,step\nA,a,u,0\n",
                       "line 1: missing column(s) ['parent_post_id']"),
    "bad step": (HEADER + "A,a,,u,0\nA,b,a,u,soon\n", "line 3: step 'soon' is not a number"),
    "unknown parent": (HEADER + "A,a,,u,0\nA,b,zz,u,1\n",
                       "line 3: parent_post_id 'zz' is not a post_id"),
    "duplicate": (HEADER + "A,a,,u,0\nA,a,,u,1\n", "line 3: post_id 'a' appears twice"),
    "crossing cascades": (HEADER + "A,a,,u,0\nB,b,,u,0\nB,c,a,u,1\n",
                          "line 4: post 'c' is in cascade 'B' but its parent is in cascade 'A'"),
    "two roots": (HEADER + "A,a,,u,0\nA,b,,u,0\n", "cascade 'A' has 2 posts without"),
    "cycle": (HEADER + "A,a,,u,0\nB,b,c,u,0\nB,c,b,u,0\nB,d,,u,0\n",
              "on or below a cycle of parent links"),
    "empty": ("", "is empty"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_recorded_files_name_the_line(name: str, tmp_path: Path) -> None:
    text, message = BAD_FILES[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")) as info:
        read_recorded(path)
    assert str(path) in str(info.value)


def test_recorded_posts_accepts_numeric_ids() -> None:
    frame = pd.DataFrame({"cascade_id": [1, 1], "post_id": [10, 11],
                          "parent_post_id": ["", "10"], "user": [5, 6], "step": [0, 1]})
    posts = recorded_posts(frame.astype(str))
    assert posts["parent"].tolist() == [-1, 0] and posts["root"].tolist() == [0, 0]
