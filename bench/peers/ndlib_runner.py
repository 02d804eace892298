"""Run NDlib replicates of one classic model; print outcomes and timings as JSON.

bench_classic.py runs this as a subprocess, so NDlib can live in another
interpreter (a venv with its own dependency pins) when it cannot be imported
beside townsquare. It imports neither townsquare nor NDlib at module level.

    python ndlib_runner.py JOB.json

The job names the model (``ic``, ``lt``, ``sir``, ``voter``, ``deffuant``), an
``.npy`` edge list of the undirected graph, ``n``, the model ``params``,
``replicates``, a ``seed`` and ``steps`` (a cap for the absorbing models; for
voter the number of single-voter iterations; for Deffuant the number of
iterations, each n pair interactions). NDlib's iteration 0 only reports the
initial state, so it runs untimed before the clock starts. Only the
iterations are timed (wall and process CPU time); building the model and its
configuration is not.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np

Job = dict[str, Any]


def opinion_clusters(x: np.ndarray, gap: float = 0.01, min_share: float = 0.01) -> int:
    """Opinion clusters holding at least ``min_share`` of agents ([0, 1] opinions).

    A cluster is a maximal run of sorted opinions with consecutive gaps at most ``gap``.
    """
    x = np.sort(np.asarray(x, dtype=np.float64))
    cuts = np.flatnonzero(np.diff(x) > gap)
    sizes = np.diff(np.concatenate([[0], cuts + 1, [len(x)]]))
    return int(np.sum(sizes >= min_share * len(x)))


def _configure(model: Any, job: Job, rng: np.random.Generator, extra: Callable[[Any], None]) -> Any:
    from ndlib.models.ModelConfig import Configuration

    config = Configuration()
    if "seeds" in job["params"]:
        seeds = rng.choice(job["n"], size=job["params"]["seeds"], replace=False)
        config.add_model_initial_configuration("Infected", [int(s) for s in seeds])
    extra(config)
    model.set_initial_status(config)
    return model


def _ic(graph: nx.Graph, job: Job, rng: np.random.Generator, seed: int) -> Any:
    from ndlib.models.epidemics import IndependentCascadesModel

    def edges(config: Any) -> None:
        for edge in graph.edges:
            config.add_edge_configuration("threshold", edge, job["params"]["p"])

    return _configure(IndependentCascadesModel(graph, seed=seed), job, rng, edges)


def _lt(graph: nx.Graph, job: Job, rng: np.random.Generator, seed: int) -> Any:
    from ndlib.models.epidemics import ThresholdModel

    low, high = job["params"]["threshold_low"], job["params"]["threshold_high"]

    def thresholds(config: Any) -> None:
        for node, value in zip(graph.nodes, rng.uniform(low, high, job["n"]), strict=True):
            config.add_node_configuration("threshold", node, float(value))

    return _configure(ThresholdModel(graph, seed=seed), job, rng, thresholds)


def _sir(graph: nx.Graph, job: Job, rng: np.random.Generator, seed: int) -> Any:
    from ndlib.models.epidemics import SIRModel

    def rates(config: Any) -> None:
        config.add_model_parameter("beta", job["params"]["beta"])
        config.add_model_parameter("gamma", job["params"]["gamma"])

    return _configure(SIRModel(graph, seed=seed), job, rng, rates)


def _voter(graph: nx.Graph, job: Job, rng: np.random.Generator, seed: int) -> Any:
    from ndlib.models.ModelConfig import Configuration
    from ndlib.models.opinions import VoterModel

    model = VoterModel(graph, seed=seed)
    config = Configuration()
    ones = rng.choice(
        job["n"], size=round(job["params"]["initial_share"] * job["n"]), replace=False
    )
    config.add_model_initial_configuration("Infected", [int(v) for v in ones])
    model.set_initial_status(config)
    return model


def _deffuant(graph: nx.Graph, job: Job, rng: np.random.Generator, seed: int) -> Any:
    from ndlib.models.ModelConfig import Configuration
    from ndlib.models.opinions import AlgorithmicBiasModel

    random.seed(seed)  # the model draws the first agent with stdlib random.choice
    model = AlgorithmicBiasModel(graph, seed=seed)
    config = Configuration()
    config.add_model_parameter("epsilon", job["params"]["epsilon"])
    config.add_model_parameter("gamma", 0.0)  # no algorithmic bias: Deffuant with mu = 1/2
    model.set_initial_status(config)
    return model


def _none_infected(it: dict) -> bool:
    return it["node_count"].get(1, 0) == 0


def _unchanged(it: dict) -> bool:
    return not any(it["status_delta"].values())


def _never(it: dict) -> bool:
    return False


def _ever_infected(model: Any, n: int) -> tuple[float, float | None]:
    return sum(s != 0 for s in model.status.values()) / n, None


def _share_ones(model: Any, n: int) -> tuple[float, float | None]:
    return sum(model.status.values()) / n, None


def _opinion_spread(model: Any, n: int) -> tuple[float, float | None]:
    x = np.fromiter(model.status.values(), np.float64, n)
    return float(x.var()), float(opinion_clusters(x))


# model: (build, stop rule, outcome (and a secondary one), updates per iteration per agent)
MODELS: dict[str, tuple[Callable, Callable, Callable, float | None]] = {
    "ic": (_ic, _none_infected, _ever_infected, 1.0),
    "lt": (_lt, _unchanged, _ever_infected, 1.0),
    "sir": (_sir, _none_infected, _ever_infected, 1.0),
    "voter": (_voter, _never, _share_ones, None),  # one agent per iteration
    "deffuant": (_deffuant, _never, _opinion_spread, 1.0),  # n pair draws per iteration
}


def run(job: Job) -> dict[str, list]:
    """All replicates of one job: outcome, secondary outcome, steps, wall and CPU seconds,
    node-updates."""
    build, done, outcome, per_agent = MODELS[job["model"]]
    n = job["n"]
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(np.load(job["edges"]).tolist())
    rng = np.random.default_rng(job["seed"])
    keys = ("outcome", "extra", "steps", "seconds", "cpu", "updates")
    result: dict[str, list] = {k: [] for k in keys}
    for r in range(job["replicates"]):
        model = build(graph, job, rng, int(job["seed"]) * 1000 + r)
        model.iteration(node_status=False)  # iteration 0: reports the initial state only
        steps = 0
        start, cpu = time.perf_counter(), time.process_time()
        while steps < job["steps"]:
            it = model.iteration(node_status=False)
            steps += 1
            if done(it):
                break
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        value, extra = outcome(model, n)
        result["outcome"].append(value)
        result["extra"].append(extra)
        result["steps"].append(steps)
        result["seconds"].append(seconds)
        result["cpu"].append(cpu)
        result["updates"].append(steps * (n * per_agent if per_agent else 1))
    return result


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(json.dumps(run(json.load(f))))
