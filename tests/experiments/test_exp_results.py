"""SQL over folders of runs, exports, and designs applied to real simulations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from townsquare.engine import Simulation
from townsquare.errors import UserError
from townsquare.experiments import (
    IndependentSetDesign,
    Sweep,
    agent_outcome,
    estimate_effects,
    export_table,
    exposure_probabilities,
    query,
    runs_table,
    scenario_graph,
    undirected_adjacency,
    with_treatment,
)
from townsquare.experiments.results import parquet_cache
from townsquare.network.graph import FollowGraph
from townsquare.run import Run


def test_query_unions_every_run_with_its_id(runs_folder: Path) -> None:
    counts = query("SELECT run_id, COUNT(*) AS n FROM events GROUP BY run_id ORDER BY run_id",
                   runs_folder)
    assert counts["run_id"].tolist() == ["run-1", "run-2"]
    for run_id, n in zip(counts["run_id"], counts["n"], strict=True):
        assert n == len(Run(runs_folder / run_id).events())
    joined = query("SELECT r.run_id, r.seed, MAX(m.value) AS top FROM runs r "
                   "JOIN metrics m USING (run_id) WHERE m.name = 'reach_rumour' "
                   "GROUP BY r.run_id, r.seed ORDER BY r.run_id", runs_folder)
    assert joined["seed"].tolist() == [1, 2]
    summary = runs_table(runs_folder).set_index("run_id")
    assert joined["top"].tolist() == summary["reach_rumour"].tolist()


def test_parquet_exports_are_reused_until_the_run_changes(runs_folder: Path) -> None:
    query("SELECT COUNT(*) FROM events", runs_folder)
    exported = parquet_cache(runs_folder / "run-1") / "events.parquet"
    stamp = exported.stat().st_mtime_ns
    query("SELECT COUNT(*) FROM posts", runs_folder)
    assert exported.stat().st_mtime_ns == stamp
    assert not (runs_folder / "run-1" / "parquet").exists()  # the run folder is untouched


def test_bad_sql_and_folders_are_user_errors(runs_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"(?s)query failed.*\(tables: .*events.*runs, state"):
        query("SELECT * FROM nowhere", runs_folder)
    with pytest.raises(UserError, match="not a folder of runs"):
        query("SELECT 1", tmp_path / "missing")
    assert query("SELECT COUNT(*) AS n FROM runs", tmp_path)["n"].tolist() == [0]


def test_sweep_folder_exposes_results(tmp_path: Path, make_scenario) -> None:
    base = make_scenario(tmp_path, steps=3, **{"population.size": 200})
    Sweep(base, {"behavior.post_rate": [0.1, 0.3]}, replicates=2, workers=1,
          out=tmp_path / "s").run()
    frame = query("SELECT param_behavior_post_rate AS rate, AVG(total_posts) AS posts "
                  "FROM results GROUP BY rate ORDER BY rate", tmp_path / "s")
    assert frame["rate"].tolist() == [0.1, 0.3]
    assert frame["posts"].iloc[1] > frame["posts"].iloc[0]


def test_export_table(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    pd.testing.assert_frame_equal(pd.read_csv(export_table(frame, tmp_path / "t.csv")), frame)
    pd.testing.assert_frame_equal(pd.read_parquet(export_table(frame, tmp_path / "t.parquet")),
                                  frame)
    with pytest.raises(UserError, match=r"\.parquet or \.csv"):
        export_table(frame, tmp_path / "t.xlsx")


def test_scenario_graph_is_the_graph_the_run_starts_from(small_run: Run) -> None:
    edges = small_run.edges()
    n = int(small_run.meta()["n_agents"])
    follows = FollowGraph.from_edges(n, edges.iloc[:, 0].to_numpy(), edges.iloc[:, 1].to_numpy())
    expected = undirected_adjacency(follows)
    graph = scenario_graph(small_run.scenario())
    assert (graph != expected).nnz == 0


def test_treated_agents_get_the_intervention_and_outcomes_are_read(
        tmp_path: Path, make_scenario) -> None:
    base = make_scenario(tmp_path)
    graph = scenario_graph(base)
    design = IndependentSetDesign.from_graph(graph, seed=0)
    treated = design.assign(1)
    scenario = with_treatment(base, treated, {"kind": "prebunk", "strength": 0.9})
    [item] = scenario.interventions
    assert item.target.agents == np.flatnonzero(treated).tolist()
    assert with_treatment(scenario, np.array([3, 1, 3]), {"kind": "shock"}).interventions[
        1].target.agents == [1, 3]
    run = Simulation(scenario, run_dir=tmp_path / "treated").run()
    fired = run.interventions()
    assert fired["units"].iloc[0] == treated.sum()
    belief = agent_outcome(run, "belief", "rumour")
    assert belief.index.tolist() == list(range(base.population.size))
    assert belief.between(0, 1).all()
    effects = estimate_effects(belief.to_numpy(), treated,
                               exposure_probabilities(design, graph, draws=300))
    assert effects.set_index("effect").loc["direct", "estimate"] <= 0  # prebunk lowers belief
    assert len(agent_outcome(run, "attitude", "health")) == base.population.size
    assert len(agent_outcome(run, "valence")) == base.population.size
    with pytest.raises(UserError, match="belief needs item= one of"):
        agent_outcome(run, "belief", "nope")
    with pytest.raises(UserError, match="would reach everyone"):
        with_treatment(base, np.zeros(base.population.size, bool), {"kind": "prebunk"})


def test_outcomes_need_every_agent_in_the_snapshots(tmp_path: Path, make_scenario) -> None:
    scenario = make_scenario(tmp_path, steps=2, **{"snapshots.max_agents": 100})
    run = Simulation(scenario, run_dir=tmp_path / "r").run()
    with pytest.raises(UserError, match="snapshotted 100 of 600 agents"):
        agent_outcome(run, "belief", "rumour")
