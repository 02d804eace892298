"""Run reports say what the run did: its own size, what the network picture is coloured by,
and why a failed run failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from townsquare import Run, Scenario, Simulation
from townsquare.report import build_document, render_document


def small(tmp_path: Path, **overrides: object) -> Scenario:
    return Scenario.load("default").with_overrides(
        {"population.size": 700, "steps": 4, "output_dir": str(tmp_path), **overrides})


def section(doc, key: str):
    return next(s for s in doc.sections if s.id == key)


def test_caption_is_the_run_size_not_the_scenario_prose(tmp_path: Path) -> None:
    run = Simulation(small(tmp_path)).run()
    doc, _ = build_document(run.path)
    assert doc.subtitle.startswith("700 agents, 4 steps, seed 7")
    assert "10,000" not in doc.subtitle  # the scenario's description says 10,000
    notes = [i.text for i in section(doc, "summary").items if i.kind == "note"]
    assert any("written for its default size" in n for n in notes)
    tables = [t for i in section(doc, "summary").items if i.kind == "grid" for t in i.items]
    labels = [row[0] for t in tables if t.columns == ["measure", "value"] for row in t.rows]
    assert "reach rumour = reach false" in labels and "reach false" not in labels
    assert len(labels) == len(run.summary()) - 4  # reach_ and sharers_ false/true merged


def test_network_is_coloured_by_what_was_recorded(tmp_path: Path) -> None:
    few = Simulation(small(tmp_path / "few", **{"snapshots.max_agents": 30})).run()
    doc, _ = build_document(few.path)
    plot = next(p for p in doc.plots if p.id == "network-graph")
    assert "coloured by political leaning" in plot.caption
    coloured = [t for t in plot.figure.data if "political leaning" in (t.name or "")]
    [trace] = coloured
    agents = Run.open(few.path).agents().set_index("agent")["leaning"]
    drawn = np.asarray(trace.customdata)[:, 0].astype(int)
    np.testing.assert_allclose(np.asarray(trace.marker.color, float),
                               agents.loc[drawn].to_numpy(), atol=1e-6)

    every = Simulation(small(tmp_path / "all", **{"snapshots.max_agents": 5000})).run()
    doc, _ = build_document(every.path)
    plot = next(p for p in doc.plots if p.id == "network-graph")
    assert "coloured by final attitude" in plot.caption and "grey" not in plot.caption
    assert not any("not recorded" in (t.name or "") for t in plot.figure.data)


def test_a_failed_run_shows_its_error(tmp_path: Path) -> None:
    sim = Simulation(small(tmp_path))
    sim.world.environment.apply = _fail_at(2, sim.world.environment.apply)  # type: ignore
    with pytest.raises(RuntimeError):
        sim.run()
    run = Run.open(sim.run_dir)
    assert run.meta()["status"] == "failed"
    doc, _ = build_document(sim.run_dir)
    notes = [i.text for i in section(doc, "summary").items if i.kind == "note"]
    assert "This run failed at step 2: RuntimeError: the feed ranker ran out of posts" in notes
    assert not any("when the run completes" in n for n in notes)
    assert "the feed ranker ran out of posts" in render_document(doc)


def test_show_prints_a_failed_runs_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    sim = Simulation(small(tmp_path))
    sim.world.environment.apply = _fail_at(1, sim.world.environment.apply)  # type: ignore
    with pytest.raises(RuntimeError):
        sim.run()
    shown = subprocess.run([sys.executable, "-m", "townsquare.cli", "show", str(sim.run_dir)],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "status failed" in shown.stdout
    assert "failed at step 1: RuntimeError: the feed ranker ran out of posts" in shown.stdout


def _fail_at(step_to_fail: int, apply: Callable[..., object]) -> Callable[..., object]:
    def failing(step: int, decision: object) -> object:
        if step == step_to_fail:
            raise RuntimeError("the feed ranker ran out of posts")
        return apply(step, decision)

    return failing
