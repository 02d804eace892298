"""Designs meet simulations: the graph a run starts from, treating agents, reading outcomes.

A network experiment in silico has three steps: take the follow graph the
run will start from (:func:`scenario_graph`, identical to the run's because
it is built from the same seed and random streams), assign treatment with a
design, give the treatment to exactly those agents as a scheduled
intervention (:func:`with_treatment`; any intervention with an agent target
works: ``prebunk``, ``debunk``, ``shock``, ``suspend``), run, and read one
outcome per agent from the run's final state snapshot (:func:`agent_outcome`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from townsquare.errors import UserError
from townsquare.experiments.designs import undirected_adjacency
from townsquare.network.build import build_network
from townsquare.population.model import build_population
from townsquare.rng import RandomStreams
from townsquare.run import Run
from townsquare.scenario import Scenario

Measure = Literal["belief", "attitude", "valence", "arousal"]


def scenario_graph(scenario: Scenario) -> sp.csr_array:
    """The undirected initial follow graph of a run of ``scenario`` (its seed decides it)."""
    streams = RandomStreams(scenario.seed)
    population = build_population(scenario.population, streams["population"])
    graph = build_network(scenario.network, population.leaning, streams["network"])
    return undirected_adjacency(graph)


def with_treatment(scenario: Scenario, treated: np.ndarray,
                   intervention: Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` whose ``intervention`` reaches exactly the ``treated`` agents.

    ``treated`` is a boolean mask over agents or an array of agent ids;
    ``intervention`` is one ``[[interventions]]`` table as a dict, e.g.
    ``{"kind": "prebunk", "strength": 0.8}``. Its ``target.agents`` is set to
    the treated ids (other target filters, if given, still apply).
    """
    treated = np.asarray(treated)
    ids = np.flatnonzero(treated) if treated.dtype == bool else np.unique(treated.astype(int))
    if len(ids) == 0:
        raise UserError("no agent is treated; an intervention with an empty agent list "
                        "would reach everyone")
    target = dict(intervention.get("target", {})) | {"agents": ids.tolist()}
    existing = scenario.model_dump(mode="json", exclude_none=True)["interventions"]
    return scenario.with_overrides(
        {"interventions": [*existing, dict(intervention) | {"target": target}]})


def agent_outcome(run: Run, measure: Measure = "belief", item: str | None = None) -> pd.Series:
    """One value per agent (index ``agent``) from the run's last state snapshot.

    ``item`` names the news item (``belief``) or the topic (``attitude``).
    Every agent must be in the snapshots: run with ``snapshots.max_agents``
    at least ``population.size``.
    """
    meta = run.meta()
    n = int(meta["n_agents"])
    if measure in ("belief", "attitude"):
        names = list(meta["news" if measure == "belief" else "topics"])
        if item not in names:
            raise UserError(f"{measure} needs item= one of {names}, got {item!r}")
        frame = run.beliefs() if measure == "belief" else run.attitudes()
        key = "news" if measure == "belief" else "topic"
        frame = frame[frame[key] == names.index(item)]
    elif measure in ("valence", "arousal"):
        frame = run.emotions().rename(columns={measure: "value"})
    else:
        raise UserError(f"unknown measure '{measure}'; use belief, attitude, valence or arousal")
    if frame.empty:
        raise UserError(f"run {run.id} has no {measure} snapshots")
    last = frame[frame["step"] == frame["step"].max()]
    if len(last) < n:
        raise UserError(f"run {run.id} snapshotted {len(last)} of {n} agents; run it with "
                        f"snapshots.max_agents >= {n} to read an outcome for every agent")
    return last.set_index("agent")["value"].sort_index().rename(measure).astype(float)
