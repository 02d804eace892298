"""The sweep plan: parameter parsing, common-random-number seeds, run names, the manifest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.errors import UserError
from townsquare.experiments.grid import (
    SweepPlan,
    parse_param,
    read_manifest,
    replicate_seed,
    write_manifest,
)
from townsquare.scenario import Scenario


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-10**6, 10**6) | st.floats(-1e6, 1e6, allow_nan=False)
                | st.booleans(), min_size=1, max_size=6))
def test_numbers_and_booleans_parse_as_toml(values: list) -> None:
    text = ",".join(("true" if v else "false") if isinstance(v, bool) else repr(v)
                    for v in values)
    name, parsed = parse_param(f"a.b_c={text}")
    assert name == "a.b_c"
    assert parsed == values
    assert [type(v) for v in parsed] == [type(v) for v in values]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)
                .filter(lambda w: w not in ("true", "false", "inf", "nan")),
                min_size=1, max_size=5))
def test_bare_words_are_text(words: list[str]) -> None:
    assert parse_param("platform.moderation.strategy=" + ",".join(words))[1] == words


def test_lists_and_quoted_strings_keep_their_commas() -> None:
    assert parse_param('x=[1, 2],[3]')[1] == [[1, 2], [3]]
    assert parse_param('x="a,b", "c"')[1] == ["a,b", "c"]
    assert parse_param("x=none, [1,2]")[1] == ["none", [1, 2]]


@pytest.mark.parametrize(("text", "message"), [
    ("population.size", "not of the form name=value1,value2"),
    ("population.size=", "empty value"),
    ("population.size=1,,2", "empty value"),
    ("seed=1,2", "set by the sweep itself"),
    ("output_dir=a", "set by the sweep itself"),
    ("bad name=1", "not a dotted scenario path"),
])
def test_bad_params_are_user_errors(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_param(text)


def test_replicate_seeds_are_shared_across_arms_distinct_and_stable() -> None:
    seeds = [replicate_seed(7, r) for r in range(50)]
    assert len(set(seeds)) == 50
    assert seeds == [replicate_seed(7, r) for r in range(50)]
    assert replicate_seed(8, 0) != seeds[0]
    plan = SweepPlan(Scenario().to_toml(), {"steps": [1, 2, 3]}, replicates=4, base_seed=7)
    tasks = plan.tasks(Path("sweep"))
    assert len(tasks) == 12
    by_replicate = {}
    for task in tasks:
        by_replicate.setdefault(task.replicate, set()).add(task.seed)
        assert task.overrides == {"steps": plan.arms[task.arm].params["steps"], "seed": task.seed}
    assert {r: len(s) for r, s in by_replicate.items()} == {0: 1, 1: 1, 2: 1, 3: 1}
    # growing the sweep keeps the seeds of the replicates it already has
    bigger = SweepPlan(plan.scenario_toml, plan.params, replicates=10, base_seed=7)
    assert bigger.seeds[:4] == plan.seeds


def test_seeds_look_independent_across_replicates() -> None:
    draws = np.array([np.random.default_rng(replicate_seed(0, r)).random() for r in range(400)])
    assert abs(draws.mean() - 0.5) < 4 * np.sqrt(1 / 12 / 400)


def test_grid_order_and_run_names() -> None:
    plan = SweepPlan(Scenario().to_toml(), {"a.x": [1, 2], "b": ["u", "v", "w"]},
                     replicates=12, base_seed=0)
    assert [a.params for a in plan.arms[:3]] == [{"a.x": 1, "b": "u"}, {"a.x": 1, "b": "v"},
                                                 {"a.x": 1, "b": "w"}]
    assert plan.run_id(3, 7) == "3-r07"
    names = [t.run_id for t in plan.tasks(Path("s"))]
    assert len(set(names)) == 72
    assert names[:6] == [f"{a}-r00" for a in range(6)]  # replicate-major: every arm early


def test_invalid_arm_is_reported_before_any_run() -> None:
    plan = SweepPlan(Scenario().to_toml(), {"platform.moderation.strategy": ["none", "bogus"]},
                     replicates=1, base_seed=0)
    with pytest.raises(UserError, match=r"arm 1 \(platform.moderation.strategy='bogus'\)"):
        plan.check_arms()


def test_manifest_round_trip(tmp_path: Path) -> None:
    plan = SweepPlan(Scenario(name="m").to_toml(), {"steps": [1, 2], "behavior.post_rate":
                                                    [0.1]}, replicates=3, base_seed=5)
    write_manifest(tmp_path, plan)
    again = read_manifest(tmp_path)
    assert again == plan and again.compatible(plan)
    assert not SweepPlan(plan.scenario_toml, {"steps": [1]}, 3, 5).compatible(plan)
    (tmp_path / "sweep.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="cannot be read as JSON"):
        read_manifest(tmp_path)
    with pytest.raises(UserError, match="not a sweep folder"):
        read_manifest(tmp_path / "nowhere")
