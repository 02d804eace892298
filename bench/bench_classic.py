"""townsquare's classic models against NDlib and Mesa 3: same outcomes, and how much faster.

For independent cascade, linear threshold, SIR, voter and Deffuant on the same
undirected Barabási–Albert graph (townsquare gets both follow directions), it
runs R replicates of each implementation with independent seeds, compares the
outcome distributions with a two-sample Kolmogorov–Smirnov test, and measures
throughput in node-updates per second: agents x steps / wall time of the steps
alone (building graphs, models and initial states is not timed). A second set
of rows on a 100,000-node graph measures throughput only.

Units that need care:
- IC, LT, SIR run to absorption in every implementation (each counts its own
  steps, which have the same distribution); an update is one agent-step.
- Voter: NDlib's iteration is one random agent copying a random neighbour, so
  a sweep is n iterations; townsquare with activity a updates about a*n agents
  per step and runs sweeps/a steps. Activity 0.05 is close to NDlib's
  asynchronous process; activity 1 (synchronous) is townsquare's default.
- Deffuant: NDlib's iteration is n sequential pair draws; a townsquare step is
  a random matching. The pairs per step are measured first on the graph, and
  townsquare runs the steps that draw as many pairs as NDlib's iterations; an
  update is one pair draw in both.
- "batched" is townsquare's ``run_replicates`` (all replicates at once on
  disjoint copies of the graph); its steps are timed apart from building the
  union, and it is credited with copies x n x the mean single-run steps.

Process CPU time is recorded beside wall time: on a shared machine the
CPU-time ratios (detail table) are the steadier estimate.

townsquare's single replicates and NDlib's are timed interleaved, so that both
see the same machine: the replicates are split into ROUNDS rounds (fewer when
either side has fewer replicates), and each round runs its share of townsquare's
replicates, then its share of NDlib's in one subprocess. (The two voter rows
share one NDlib sample: each round runs both rows' townsquare shares before
NDlib's.) The outcome samples and the columns are as before: the rounds'
replicates are pooled. The batched runs and Mesa are timed after the rounds.

Before the rounds, one untimed townsquare replicate per case compiles the
numba step loops for the graph's array types when they are not in numba's
disk cache yet (a one-time cost of a few seconds per install, like an import).

NDlib runs in a subprocess (bench/peers/ndlib_runner.py), so it can live in a
separate venv when it does not import beside this environment's packages.

    python bench/bench_classic.py            # ~10-15 min on 2 idle cores (~20 when loaded)
    python bench/bench_classic.py --quick    # smoke check, under a minute
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import networkx as nx
import numpy as np
from scipy.stats import ks_2samp

from peers.ndlib_runner import opinion_clusters as clusters
from townsquare.environments.contagion import models as classic
from townsquare.network.graph import FollowGraph

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "peers" / "ndlib_runner.py"
NDLIB_PROBE = "import ndlib.models.epidemics, ndlib.models.opinions"
# NDlib 6 imports six, and scikit-learn in ndlib.models.opinions, without declaring them
NDLIB_PACKAGES = ["ndlib", "six", "scikit-learn"]
MESA_PROBE = "import sys, mesa; sys.exit(int(mesa.__version__.split('.')[0]) < 3)"
ALPHA = 0.01
ROUNDS = 4  # rounds of interleaved townsquare and NDlib replicates

Outcome = Callable[[np.ndarray, np.ndarray | None], float]
# graph, seed -> outcome, steps, wall seconds, CPU seconds
MesaRun = Callable[[nx.Graph, int], tuple[float, int, float, float]]


# -- peers: install when missing --------------------------------------------------------


def _pip(python: str, packages: list[str]) -> bool:
    print(f"$ {python} -m pip install -q {' '.join(packages)}", flush=True)
    return subprocess.run([python, "-m", "pip", "install", "-q", *packages]).returncode == 0


def _imports(python: str, code: str) -> bool:
    return subprocess.run([python, "-c", code], capture_output=True).returncode == 0


def ndlib_python(force_venv: bool) -> str | None:
    """An interpreter in which NDlib imports, installing it (or a venv for it) if needed."""
    if not force_venv:
        if _imports(sys.executable, NDLIB_PROBE):
            return sys.executable
        print("NDlib is missing or does not import: installing it beside townsquare")
        if _pip(sys.executable, NDLIB_PACKAGES) and _imports(sys.executable, NDLIB_PROBE):
            return sys.executable
        print("NDlib does not import with this environment's packages: trying a separate venv")
    venv = Path(tempfile.gettempdir()) / "townsquare-bench-ndlib-venv"
    python = str(venv / "bin" / "python")
    if not Path(python).exists():
        print(f"$ {sys.executable} -m venv {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)])
    if Path(python).exists() and (
        _imports(python, NDLIB_PROBE)
        or (_pip(python, [*NDLIB_PACKAGES, "numpy<2"]) and _imports(python, NDLIB_PROBE))
    ):
        return python
    print("NOTE: NDlib could not be installed; the NDlib columns are left empty.")
    return None


def mesa_models() -> ModuleType | None:
    """bench/peers/mesa_models.py, installing Mesa 3 first if needed."""
    if not _imports(sys.executable, MESA_PROBE):
        print("Mesa 3 is missing: installing it")
        if not (_pip(sys.executable, ["mesa>=3"]) and _imports(sys.executable, MESA_PROBE)):
            print("NOTE: Mesa 3 could not be installed; the Mesa columns are left empty.")
            return None
    from peers import mesa_models as module

    return module


# -- graphs, samples ------------------------------------------------------------------------


def _with_views(graph: FollowGraph) -> FollowGraph:
    """Build the graph's CSR views now, so no timed step pays for them."""
    assert graph.following.nnz == graph.followers.nnz
    return graph


@dataclass(frozen=True)
class Graph:
    """One undirected BA graph in every form an implementation wants."""

    label: str
    n: int
    nx: nx.Graph
    follow: FollowGraph
    path: Path  # (m, 2) edge list for the NDlib subprocess


def make_graph(n: int, m: int, seed: int, workdir: Path) -> Graph:
    g = nx.barabasi_albert_graph(n, m, seed=seed)
    edges = np.array(g.edges, dtype=np.int64)
    both = np.r_[edges, edges[:, ::-1]]  # an undirected edge: each end follows the other
    follow = _with_views(FollowGraph.from_edges(n, both[:, 0], both[:, 1]))
    path = workdir / f"ba-{n}-{m}-{seed}.npy"
    np.save(path, edges)
    return Graph(f"BA n={n:,} m={m}", n, g, follow, path)


@dataclass
class Sample:
    """Replicates of one implementation: outcomes, and the steps' wall time and work."""

    outcome: list[float]
    steps: list[int]
    seconds: list[float]  # wall time
    cpu: list[float]  # process CPU time: what wall time would be on an idle machine
    updates: list[float]
    extra: list[float | None]

    @property
    def throughput(self) -> float:
        return sum(self.updates) / max(sum(self.seconds), 1e-12)

    @property
    def cpu_throughput(self) -> float:
        return sum(self.updates) / max(sum(self.cpu), 1e-12)

    def summary(self, digits: int = 3) -> str:
        mean = f"{np.mean(self.outcome):.{digits}f}"
        return (
            mean if len(self.outcome) < 2 else f"{mean} ± {np.std(self.outcome, ddof=1):.{digits}f}"
        )


def _sample(rows: list[tuple[float, int, float, float, float, float | None]]) -> Sample:
    outcome, steps, seconds, cpu, updates, extra = (list(c) for c in zip(*rows, strict=True))
    return Sample(outcome, steps, seconds, cpu, updates, extra)


def _pooled(samples: list[Sample]) -> Sample:
    """The replicates of several samples as one sample."""
    return Sample(*([x for s in samples for x in getattr(s, f.name)] for f in fields(Sample)))


def _share(items: list, r: int, rounds: int) -> list:
    """Round ``r``'s share of ``items`` (consecutive, as even as possible)."""
    return items[len(items) * r // rounds : len(items) * (r + 1) // rounds]


# -- cases ---------------------------------------------------------------------------------


def ever_active(status: np.ndarray, opinion: np.ndarray | None) -> float:
    return float(np.mean(status != 0))


def share_ones(status: np.ndarray, opinion: np.ndarray | None) -> float:
    return float(np.mean(status))


def opinion_variance(status: np.ndarray, opinion: np.ndarray | None) -> float:
    return float(np.var((opinion + 1) / 2))  # on NDlib's [0, 1] scale


def opinion_clusters(status: np.ndarray, opinion: np.ndarray | None) -> float:
    return float(clusters((opinion + 1) / 2))


@dataclass(frozen=True)
class Case:
    """One model on one graph, as townsquare, NDlib and (optionally) Mesa run it."""

    name: str
    graph: Graph
    model: classic.ClassicModel
    outcome: Outcome
    steps: int  # townsquare: cap (absorbing models) or fixed number of steps
    work: float  # node-updates per agent per townsquare step
    ndlib: dict[str, Any]  # NDlib job: model, params, steps
    mesa: MesaRun | None = None
    extra: Outcome | None = None


def deffuant_pairs_per_step(graph: FollowGraph, rng: np.random.Generator) -> float:
    """Mean pairs a townsquare Deffuant step matches on ``graph``.

    Counted as the pairs that move with epsilon 2 and a tiny mu, so that no kept
    pair is skipped for being already equal.
    """
    model = classic.DeffuantModel(epsilon=2.0, mu=1e-6)
    state = model.initial(graph, rng)
    moved = [len(model.step(graph, state, t, rng)) / 2 for t in range(1, 21)]
    return float(np.mean(moved))


def make_cases(
    big: Graph, small: Graph, sizes: argparse.Namespace, mesa: ModuleType | None
) -> list[Case]:
    """The compared models: IC, LT, SIR on ``big``; voter and Deffuant on ``small``."""
    p, beta, gamma, seeds, lt_seeds = 0.1, 0.05, 0.2, 10, 100
    cap = 10_000
    ic = {"model": "ic", "params": {"p": p, "seeds": seeds}, "steps": cap}
    lt = {"model": "lt", "steps": cap}
    lt["params"] = {"threshold_low": 0.0, "threshold_high": 1.0, "seeds": lt_seeds}
    sir = {"model": "sir", "params": {"beta": beta, "gamma": gamma, "seeds": seeds}, "steps": cap}
    n = small.n
    voter = {"model": "voter", "params": {"initial_share": 0.5}, "steps": sizes.sweeps * n}
    eps = 0.2  # NDlib's epsilon on [0, 1]; townsquare's opinions span [-1, 1]
    pairs = deffuant_pairs_per_step(small.follow, np.random.default_rng(7))
    deffuant_steps = round(sizes.iterations * n / pairs)
    deffuant = {"model": "deffuant", "params": {"epsilon": eps}, "steps": sizes.iterations}

    cascade = sir_run = mesa_voter = None
    if mesa is not None:
        cascade = lambda g, seed: mesa.run_cascade(g, p, seeds, cap, seed)  # noqa: E731
        sir_run = lambda g, seed: mesa.run_sir(g, beta, gamma, seeds, cap, seed)  # noqa: E731
        mesa_voter = lambda g, seed: mesa.run_voter(g, 0.5, sizes.sweeps, seed)  # noqa: E731
    cases = [
        Case("independent cascade", big, classic.IndependentCascadeModel(p, seeds), ever_active,
             cap, 1.0, ic, cascade),
        Case("linear threshold", big, classic.LinearThresholdModel(0.0, 1.0, lt_seeds),
             ever_active, cap, 1.0, lt),
        Case("SIR", big, classic.SIREpidemicModel(beta, gamma, seeds), ever_active, cap, 1.0,
             sir, sir_run),
    ]  # fmt: skip
    for activity in (0.05, 1.0):
        label = "voter (activity 0.05)" if activity < 1 else "voter (synchronous)"
        steps = round(sizes.sweeps / activity)
        model = classic.VoterModel(0.5, activity)
        cases.append(Case(label, small, model, share_ones, steps, activity, voter, mesa_voter))
    model = classic.DeffuantModel(epsilon=2 * eps, mu=0.5)
    cases.append(
        Case("Deffuant", small, model, opinion_variance, deffuant_steps, pairs / n, deffuant,
             extra=opinion_clusters)
    )  # fmt: skip
    return cases


def throughput_cases(cases: list[Case], graph: Graph, mesa: ModuleType | None) -> list[Case]:
    """The same models on a larger graph, with short fixed runs for voter and Deffuant."""
    out = []
    for case in cases:
        if case.name.startswith("voter (activity"):
            continue  # the synchronous voter stands for townsquare at scale
        ndlib, steps, mesa_run = dict(case.ndlib), case.steps, case.mesa
        if case.name.startswith("voter"):
            ndlib["steps"], steps = 500, 10  # NDlib: 500 single updates, O(n) each
            if mesa is not None:
                mesa_run = lambda g, seed: mesa.run_voter(g, 0.5, 1, seed)  # noqa: E731
        work = case.work
        if case.name == "Deffuant":
            ndlib["steps"] = 2
            work = deffuant_pairs_per_step(graph.follow, np.random.default_rng(7)) / graph.n
            steps = round(2 / work)
        out.append(Case(case.name, graph, case.model, case.outcome, steps, work, ndlib,
                        mesa_run, case.extra))  # fmt: skip
    return out


# -- running each implementation --------------------------------------------------------


def _advance(
    case: Case, graph: FollowGraph, state: classic.ClassicState, rng: np.random.Generator
) -> tuple[int, float, float]:
    """The step loop of ``classic.run``, timed: (steps taken, wall seconds, CPU seconds)."""
    steps = 0
    start, cpu = time.perf_counter(), time.process_time()
    while steps < case.steps and not case.model.settled(graph, state):
        steps += 1
        case.model.step(graph, state, steps, rng)
    return steps, time.perf_counter() - start, time.process_time() - cpu


def run_townsquare(case: Case, seeds: list[np.random.SeedSequence]) -> Sample:
    """Replicates one at a time (one per seed), as ``classic.run`` runs them, steps timed."""
    rows = []
    graph = case.graph.follow
    for child in seeds:
        rng = np.random.default_rng(child)
        state = case.model.initial(graph, rng)
        steps, seconds, cpu = _advance(case, graph, state, rng)
        outcome = case.outcome(state.status, state.opinion)
        extra = case.extra(state.status, state.opinion) if case.extra else None
        rows.append((outcome, steps, seconds, cpu, case.work * case.graph.n * steps, extra))
    return _sample(rows)


def run_batched(case: Case, copies: int, seed: int, mean_steps: float) -> Sample:
    """``run_replicates`` on ``copies`` disjoint copies of the graph, steps timed.

    Built from the same public parts as ``run_replicates`` (initial states,
    ``ClassicState.stack``, ``disjoint_copies``) so that building the union graph
    is timed apart (``extra``). Work = copies x n x the mean single-run steps:
    the useful work, so steps spent waiting for the slowest copy count as cost.
    """
    n = case.graph.n
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    union = _with_views(classic.disjoint_copies(case.graph.follow, copies))
    build = time.perf_counter() - start
    states = [case.model.initial(case.graph.follow, rng) for _ in range(copies)]
    state = classic.ClassicState.stack(states, n)
    steps, seconds, cpu = _advance(case, union, state, rng)
    status = state.status.reshape(copies, n)
    opinion = None if state.opinion is None else state.opinion.reshape(copies, n)
    outcome = [
        case.outcome(status[c], None if opinion is None else opinion[c]) for c in range(copies)
    ]
    updates = copies * n * case.work * mean_steps
    return Sample(outcome, [steps], [seconds], [cpu], [updates], [build])


def run_ndlib(python: str, case: Case, replicates: int, seed: int, workdir: Path) -> Sample | None:
    job = {**case.ndlib, "n": case.graph.n, "edges": str(case.graph.path)}
    job |= {"replicates": replicates, "seed": seed}
    path = workdir / f"job-{case.ndlib['model']}-{case.graph.n}-{seed}.json"
    path.write_text(json.dumps(job))
    done = subprocess.run([python, str(RUNNER), str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"NOTE: NDlib {case.name} failed:\n{done.stderr[-2000:]}")
        return None
    data = json.loads(done.stdout.strip().splitlines()[-1])
    keys = ("outcome", "steps", "seconds", "cpu", "updates", "extra")
    return Sample(*(data[k] for k in keys))


def run_interleaved(
    cases: list[Case], index: list[int], reps: tuple[int, int], ndlib: str | None, workdir: Path
) -> tuple[list[Sample], Sample | None]:
    """Single replicates of ``cases`` (one shared NDlib job) and of NDlib, in rounds.

    ``index`` numbers the cases (for their seeds). Each round runs its share of
    every case's townsquare replicates, then its share of NDlib's replicates in
    one subprocess, so that machine drift during the run moves both sides
    alike. Townsquare's replicates use the streams of one uninterrupted run;
    each NDlib round gets a seed of its own.
    """
    ts_reps, nd_reps = reps
    rounds = max(1, min(ROUNDS, ts_reps, nd_reps if ndlib else ts_reps))
    children = [np.random.SeedSequence(100 + i).spawn(ts_reps) for i in index]
    ts_parts: list[list[Sample]] = [[] for _ in cases]
    nd_parts: list[Sample | None] = []
    for case in cases:  # untimed: compiles the kernels for these arrays' types if not cached
        run_townsquare(case, [np.random.SeedSequence(99)])
    for r in range(rounds):
        for parts, case, streams in zip(ts_parts, cases, children, strict=True):
            parts.append(run_townsquare(case, _share(streams, r, rounds)))
        count = len(_share(list(range(nd_reps)), r, rounds))
        if ndlib and count:
            seed = (300 + index[0]) * ROUNDS + r
            nd_parts.append(run_ndlib(ndlib, cases[0], count, seed, workdir))
    nd = None
    if nd_parts and all(part is not None for part in nd_parts):
        nd = _pooled([part for part in nd_parts if part is not None])
    return [_pooled(parts) for parts in ts_parts], nd


def run_mesa(case: Case, replicates: int, seed: int, per_step: float) -> Sample | None:
    if case.mesa is None:
        return None
    rows = []
    for r in range(replicates):
        outcome, steps, seconds, cpu = case.mesa(case.graph.nx, seed * 1000 + r)
        rows.append((outcome, steps, seconds, cpu, per_step * steps, None))
    return _sample(rows)


# -- report ---------------------------------------------------------------------------------


def _rate(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.1f} k" if x >= 1e3 else f"{x:.0f}"


def _ratio(a: float, b: float | None) -> str:
    return "—" if not b else f"{a / b:,.0f}×" if a / b >= 10 else f"{a / b:.1f}×"


def _ks(a: Sample | None, b: Sample | None, enough: bool, full: bool = False) -> str:
    """KS p-value (bold when the distributions differ at ALPHA); ``full`` adds D and a verdict."""
    if a is None or b is None or not enough:
        return "—"
    test = ks_2samp(a.outcome, b.outcome)
    p = f"{test.pvalue:.2f}" if test.pvalue >= ALPHA else f"**{test.pvalue:.1g}**"
    if not full:
        return p
    verdict = "same" if test.pvalue >= ALPHA else "differ"
    return f"D={test.statistic:.2f}, p={p}: {verdict}"


@dataclass
class Row:
    case: Case
    ts: Sample
    batched: Sample
    nd: Sample | None
    mesa: Sample | None
    compare: bool  # enough replicates for a KS test

    def cells(self) -> list[str]:
        ts, nd, mesa, b = self.ts, self.nd, self.mesa, self.batched
        nd_rate = nd.throughput if nd else None
        mesa_rate = mesa.throughput if mesa else None
        reps = "/".join(str(len(x.outcome)) if x else "0" for x in (ts, nd, mesa))
        return [
            self.case.name, self.case.graph.label, reps, ts.summary(),
            nd.summary() if nd else "—", _ks(ts, nd, self.compare), _rate(ts.throughput),
            _rate(nd_rate), _ratio(ts.throughput, nd_rate), _rate(mesa_rate),
            _ratio(ts.throughput, mesa_rate), _rate(b.throughput), _ratio(b.throughput, nd_rate),
        ]  # fmt: skip


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main_table(rows: list[Row]) -> str:
    header = ["model", "graph", "R ts/ND/Mesa", "townsquare mean±sd", "NDlib mean±sd", "KS p",
              "townsquare upd/s", "NDlib upd/s", "ratio", "Mesa upd/s", "ratio",
              "ts batched upd/s", "batched/NDlib"]  # fmt: skip
    return _table(header, [r.cells() for r in rows])


def detail_table(rows: list[Row]) -> str:
    header = ["model", "graph", "KS townsquare vs NDlib (α=0.01)", "Mesa mean±sd",
              "KS p Mesa vs NDlib", "KS p batched vs NDlib",
              "mean steps ts/ND/Mesa", "s per replicate ts/ND/Mesa", "batched: steps, s, union s",
              "CPU-time ratio ts/ND, ts/Mesa, batched/ND", "clusters ts/ND"]  # fmt: skip
    out = []
    for r in rows:
        samples = (r.ts, r.nd, r.mesa)
        steps = "/".join(f"{np.mean(s.steps):.0f}" if s else "—" for s in samples)
        secs = "/".join(f"{np.mean(s.seconds):.3g}" if s else "—" for s in samples)
        b = r.batched
        batched = f"{b.steps[0]}, {b.seconds[0]:.3g}, {b.extra[0]:.3g}"
        nd_cpu = r.nd.cpu_throughput if r.nd else None
        cpu = ", ".join([
            _ratio(r.ts.cpu_throughput, nd_cpu),
            _ratio(r.ts.cpu_throughput, r.mesa.cpu_throughput if r.mesa else None),
            _ratio(b.cpu_throughput, nd_cpu),
        ])  # fmt: skip
        clusters = "—"
        if r.case.extra is not None and r.nd is not None:
            clusters = f"{np.mean(r.ts.extra):.2f}/{np.mean(r.nd.extra):.2f}"
        out.append([
            r.case.name, r.case.graph.label, _ks(r.ts, r.nd, r.compare, full=True),
            r.mesa.summary() if r.mesa else "—", _ks(r.mesa, r.nd, r.compare),
            _ks(r.batched, r.nd, r.compare),
            steps, secs, batched, cpu, clusters,
        ])  # fmt: skip
    return _table(header, out)


def _version(name: str, python: str | None = None) -> str:
    if python and python != sys.executable:
        code = f"from importlib import metadata; print(metadata.version({name!r}))"
        done = subprocess.run([python, "-c", code], capture_output=True, text=True)
        return done.stdout.strip() or "—"
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "—"


def machine(ndlib: str | None) -> str:
    cpu = platform.processor()
    if not cpu and Path("/proc/cpuinfo").exists():
        names = [x for x in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in x]
        cpu = names[0].split(":", 1)[1].strip() if names else "unknown"
    versions = ", ".join(
        f"{name} {_version(name, ndlib if name == 'ndlib' else None)}"
        for name in ("townsquare", "numpy", "scipy", "networkx", "ndlib", "mesa")
    )
    env = os.environ.get("OPENBLAS_CORETYPE")
    return (
        f"Machine: {cpu}, {os.cpu_count()} CPUs, {platform.platform()}"
        + (f", OPENBLAS_CORETYPE={env}" if env else "")
        + f"\nPython {platform.python_version()}; {versions}"
        + f"\nNDlib interpreter: {ndlib or 'none'}; date: {datetime.date.today().isoformat()}"
        + "; load average (1, 5, 15 min) at the end: "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )


# -- main --------------------------------------------------------------------------------


def sizes(quick: bool) -> argparse.Namespace:
    if quick:
        return argparse.Namespace(n=2000, small=300, large=20_000, replicates=20, mesa_reps=5,
                                  large_reps=1, sweeps=3, iterations=10)  # fmt: skip
    return argparse.Namespace(n=10_000, small=1000, large=100_000, replicates=100, mesa_reps=30,
                              large_reps=2, sweeps=5, iterations=40)  # fmt: skip


def bench(cases: list[Case], s: argparse.Namespace, reps: tuple[int, int, int], ndlib: str | None,
          workdir: Path, compare: bool) -> list[Row]:  # fmt: skip
    ts_reps, nd_reps, mesa_reps = reps
    groups: dict[tuple[str, int], list[int]] = {}  # the two voter rows share their peers' runs
    for i, case in enumerate(cases):
        groups.setdefault((json.dumps(case.ndlib, sort_keys=True), case.graph.n), []).append(i)
    rows: dict[int, Row] = {}
    for members in groups.values():
        t0 = time.perf_counter()
        group = [cases[i] for i in members]
        samples, nd = run_interleaved(group, members, (ts_reps, nd_reps), ndlib, workdir)
        first = group[0]
        reps_m = ts_reps if first.name.startswith("voter") and compare else mesa_reps
        per_step = first.graph.n  # Mesa: every agent steps (voter: one sweep per step)
        mesa = run_mesa(first, reps_m, 400 + members[0], per_step)
        for i, case, ts in zip(members, group, samples, strict=True):
            batched = run_batched(case, ts_reps, 200 + i, float(np.mean(ts.steps)))
            rows[i] = Row(case, ts, batched, nd, mesa, compare)
        names = " + ".join(case.name for case in group)
        print(f"  {names} on {first.graph.label}: {time.perf_counter() - t0:.0f} s", flush=True)
    return [rows[i] for i in sorted(rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small n and R: a smoke check")
    parser.add_argument("--ndlib-venv", action="store_true", help="run NDlib from its own venv")
    parser.add_argument("--no-large", action="store_true", help="skip the throughput-only rows")
    args = parser.parse_args()
    s = sizes(args.quick)
    ndlib = ndlib_python(args.ndlib_venv)
    mesa = mesa_models()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-classic-") as tmp:
        workdir = Path(tmp)
        big = make_graph(s.n, 5, 1, workdir)
        small = make_graph(s.small, 5, 2, workdir)
        cases = make_cases(big, small, s, mesa)
        print(f"Outcome distributions and throughput (R={s.replicates}):", flush=True)
        rows = bench(cases, s, (s.replicates, s.replicates, s.mesa_reps), ndlib, workdir, True)
        if not args.no_large:
            large = make_graph(s.large, 5, 3, workdir)
            print(f"Throughput on {large.label}:", flush=True)
            reps = (5 * s.large_reps, s.large_reps, s.large_reps)
            rows += bench(throughput_cases(cases, large, mesa), s, reps, ndlib, workdir, False)
    print(f"\nTotal {time.perf_counter() - start:.0f} s\n")
    print(machine(ndlib) + "\n")
    print(main_table(rows) + "\n")
    print(detail_table(rows))


if __name__ == "__main__":
    main()
