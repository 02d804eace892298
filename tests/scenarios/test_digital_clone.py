"""Digital cloning: recorded cascades load, reseed, and the clone matches the recording."""

from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_replicates import replicate, summary_of

from statcheck import paired_ci
from townsquare import clone
from townsquare.engine import Simulation
from townsquare.errors import DataError
from townsquare.network.io import read_edgelist
from townsquare.scenario import Scenario

DATA = Path(str(resources.files("townsquare.scenarios"))) / "data"
GOOD = """cascade_id,post_id,parent_post_id,user,step
a,1,,u1,0
a,2,1,u2,1
a,3,2,u3,3
b,4,-1,u2,2
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cascades.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_recorded_cascades_are_measured(tmp_path: Path) -> None:
    recorded = clone.read_cascades(write(tmp_path, GOOD))
    measures = clone.cascade_measures(recorded)
    assert sorted(measures["size"]) == [1, 3]
    assert sorted(measures["depth"]) == [0, 2]
    assert sorted(measures["duration"]) == [0, 3]
    assert sorted(measures["delay"]) == [1, 3]


@pytest.mark.parametrize(("text", "line", "message"), [
    ("cascade_id,post_id,user,step\na,1,u,0\n", 1, "missing required column(s): parent_post_id"),
    (GOOD + "c,5,,u4,soon\n", 6, "step 'soon' is not a non-negative integer"),
    (GOOD + "c,4,,u4,1\n", 6, "post_id '4' appears more than once"),
    (GOOD + "c,5,9,u4,1\n", 6, "parent_post_id '9' is not a post of the file"),
    (GOOD + "c,5,2,u4,4\n", 6, "parent_post_id '2' belongs to another cascade"),
    (GOOD + "a,5,3,u4,1\n", 6, "post '5' (step 1) is earlier than its parent"),
    (GOOD + "b,5,,u4,3\n", 5, "cascade 'b' has 2 roots; expected one"),
    (GOOD + "c,,,u4,3\n", 6, "empty post_id"),
])
def test_bad_recordings_name_line_and_problem(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    with pytest.raises(DataError) as error:
        clone.read_cascades(write(tmp_path, text))
    assert error.value.line == line
    assert message in str(error.value)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=30))
def test_any_chain_of_reshares_is_read_back(rows: list[tuple[int, int]]) -> None:
    """Each row reshares the previous post of its cascade ``delay`` steps later."""
    lines, last, clock = ["cascade_id,post_id,parent_post_id,user,step"], {}, {}
    for i, (cascade, delay) in enumerate(rows):
        clock[cascade] = clock.get(cascade, 0) + delay
        lines.append(f"c{cascade},p{i},{last.get(cascade, '')},u{i % 4},{clock[cascade]}")
        last[cascade] = f"p{i}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cascades.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        measures = clone.cascade_measures(clone.read_cascades(path))
    sizes = pd.Series([cascade for cascade, _ in rows]).value_counts()
    assert sorted(measures["size"]) == sorted(sizes.tolist())
    assert sorted(measures["depth"]) == sorted((sizes - 1).tolist())
    assert len(measures["delay"]) == len(rows) - len(sizes)


def test_example_is_regenerated_deterministically(tmp_path: Path) -> None:
    first = clone.write_example(tmp_path / "a")
    second = clone.write_example(tmp_path / "b")
    for role in ("edges", "cascades"):
        assert first[role].read_bytes() == second[role].read_bytes()


def test_shipped_scenario_seeds_the_shipped_roots() -> None:
    scenario = Scenario.load("digital-clone")
    assert scenario.recorded_cascades == DATA / "clone-cascades.csv"
    recorded = clone.read_cascades(scenario.recorded_cascades)
    _, labels = read_edgelist(scenario.network.path)
    expected = clone.recorded_news(recorded, labels, topic="health")
    assert [(n.step, n.authors) for n in scenario.news] == [(n.step, n.authors) for n in expected]
    assert sum(len(n.authors) for n in scenario.news) == (recorded["parent_row"] < 0).sum()


def test_clone_scenario_builds_the_same_news(tmp_path: Path) -> None:
    built = clone.clone_scenario(DATA / "clone-edges.csv", DATA / "clone-cascades.csv")
    shipped = Scenario.load("digital-clone")
    assert [n.authors for n in built.news] == [n.authors for n in shipped.news]
    assert built.population.size == shipped.population.size


def test_compare_reports_every_measure(tmp_path: Path) -> None:
    scenario = Scenario.load("digital-clone").with_overrides({"checkpoint_every": 0})
    run = Simulation(scenario, run_dir=tmp_path / "run").run()
    table = clone.compare(run, scenario.recorded_cascades)
    assert list(table.index) == list(clone.MEASURES)
    assert (table["recorded_n"] > 0).all() and (table["simulated_n"] > 0).all()
    assert table["ks"].between(0, 1).all()
    # the simulated side counts exactly the seeded roots' cascades
    assert table.loc["size", "simulated_n"] == sum(len(n.authors) for n in scenario.news)
    for measure in clone.MEASURES:
        assert run.summary()[f"clone_ks_{measure}"] == pytest.approx(table.loc[measure, "ks"])


def test_clone_is_close_and_a_wrong_parameter_is_farther(tmp_path: Path) -> None:
    keys = tuple(f"clone_ks_{m}" for m in clone.MEASURES)
    arms = {"clone": {}, "wrong": {"behavior.engage_rate": 0.3}}
    values = replicate("digital-clone", arms, range(1, 7), summary_of(*keys), tmp_path)
    assert np.all(values["clone"][:, :3].mean(axis=0) < 0.12)  # size, depth, duration
    assert values["clone"][:, 3].mean() < 0.2  # reshare delays
    for column, key in enumerate(keys):
        mean, low, high = paired_ci(values["wrong"][:, column], values["clone"][:, column])
        assert low > 0, (key, mean, low, high)
