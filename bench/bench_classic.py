"""townsquare's classic models against NDlib and Mesa 3: same outcomes, and how much faster.

For independent cascade, linear threshold, SIR and the voter model on three
undirected graph families (Barabási–Albert m=3, Watts–Strogatz k=10 with
rewiring 0.1, the giant component of an Erdős–Rényi graph of mean degree 8) at
two sizes (2,000 and 10,000 agents; townsquare gets both follow directions),
it runs replicates of each implementation with independent seeds, compares
the outcome distributions with a two-sample Kolmogorov–Smirnov test, and
measures throughput in node-updates per second: agents x steps / wall time of
the steps alone (building graphs, models and initial states is not timed, in
any implementation). The last table is the minimum ratio over the graphs, per
model: the number that must clear 100x, not the best one.

Units that need care:
- IC, LT, SIR run to absorption in every implementation (each counts its own
  steps, which have the same distribution); an update is one agent-step.
  townsquare's replicates are ``classic.advance`` calls, as ``classic.run``
  makes them: one compiled call per run (``classic.WHOLE_RUNS``).
- Voter: NDlib's iteration is one random agent copying a random neighbour, so
  a sweep is n iterations. townsquare runs at activity 1/n (each agent acts
  with prob 1/n per step, about one agent a step, the same asynchronous
  process) for sweeps * n steps; an update is one agent's turn in both. Mesa's
  voter is a whole sweep per step (``shuffle_do``), credited n updates a step.
- "batched" is townsquare's ``run_replicates`` (copies at once on disjoint
  copies of the graph); its steps are timed apart from building the union,
  and it is credited with copies x n x the mean single-run steps.

Process CPU time is recorded beside wall time: on a shared machine the
CPU-time ratios (detail table) are the steadier estimate.

All three implementations are timed interleaved, so that they see the same
machine: the replicates are split into ROUNDS rounds, and each round runs its
share of townsquare's replicates, then its share of NDlib's in one subprocess,
then its share of Mesa's. The batched runs follow the rounds. The load average
is printed with each group.

Before the rounds, one untimed townsquare replicate per case compiles the
numba loops for the graph's array types when they are not in numba's disk
cache yet (a one-time cost of a few seconds per install, like an import).

NDlib runs in a subprocess (bench/peers/ndlib_runner.py), so it can live in a
separate venv when it does not import beside this environment's packages.

    python bench/bench_classic.py            # ~10-20 min on 2 cores, depending on load
    python bench/bench_classic.py --quick    # smoke check, about a minute
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


FAMILIES = {
    "BA m=3": lambda n, seed: nx.barabasi_albert_graph(n, 3, seed=seed),
    "WS k=10": lambda n, seed: nx.watts_strogatz_graph(n, 10, 0.1, seed=seed),
    "ER <k>=8": lambda n, seed: nx.fast_gnp_random_graph(n, 8 / (n - 1), seed=seed),
}


def make_graph(family: str, n: int, seed: int, workdir: Path) -> Graph:
    """A graph of ``family``: its giant component, relabelled 0..n'-1 (NDlib's voter
    needs every node to have a neighbour; only ER loses a few nodes)."""
    g = FAMILIES[family](n, seed)
    giant = max(nx.connected_components(g), key=len)
    g = nx.convert_node_labels_to_integers(g.subgraph(giant).copy())
    n = g.number_of_nodes()
    edges = np.array(g.edges, dtype=np.int64)
    both = np.r_[edges, edges[:, ::-1]]  # an undirected edge: each end follows the other
    follow = _with_views(FollowGraph.from_edges(n, both[:, 0], both[:, 1]))
    path = workdir / f"{abs(hash(family))}-{n}-{seed}.npy"
    np.save(path, edges)
    return Graph(f"{family} n={n:,}", n, g, follow, path)


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
    mesa_same: bool = True  # Mesa runs the same horizon (KS against NDlib makes sense)


def make_cases(graph: Graph, sweeps: float, mesa: ModuleType | None) -> list[Case]:
    """IC, LT, SIR and the voter model (activity 1/n, ``sweeps`` sweeps) on ``graph``."""
    n = graph.n
    p, beta, gamma, seeds, lt_seeds, cap = 0.1, 0.05, 0.2, 10, max(1, n // 100), 10_000
    ic = {"model": "ic", "params": {"p": p, "seeds": seeds}, "steps": cap}
    lt = {"model": "lt", "steps": cap}
    lt["params"] = {"threshold_low": 0.0, "threshold_high": 1.0, "seeds": lt_seeds}
    sir = {"model": "sir", "params": {"beta": beta, "gamma": gamma, "seeds": seeds}, "steps": cap}
    voter = {"model": "voter", "params": {"initial_share": 0.5}, "steps": round(sweeps * n)}
    cascade = threshold = sir_run = mesa_voter = None
    if mesa is not None:
        cascade = lambda g, seed: mesa.run_cascade(g, p, seeds, cap, seed)  # noqa: E731
        threshold = lambda g, seed: mesa.run_threshold(g, 0.0, 1.0, lt_seeds, cap, seed)  # noqa: E731
        sir_run = lambda g, seed: mesa.run_sir(g, beta, gamma, seeds, cap, seed)  # noqa: E731
        mesa_sweeps = max(1, round(sweeps))  # Mesa's voter steps a whole sweep at a time
        mesa_voter = lambda g, seed: mesa.run_voter(g, 0.5, mesa_sweeps, seed)  # noqa: E731
    activity = 1.0 / n
    return [
        Case("independent cascade", graph, classic.IndependentCascadeModel(p, seeds),
             ever_active, cap, 1.0, ic, cascade),
        Case("linear threshold", graph, classic.LinearThresholdModel(0.0, 1.0, lt_seeds),
             ever_active, cap, 1.0, lt, threshold),
        Case("SIR", graph, classic.SIREpidemicModel(beta, gamma, seeds), ever_active, cap, 1.0,
             sir, sir_run),
        Case("voter (activity 1/n)", graph, classic.VoterModel(0.5, activity), share_ones,
             round(sweeps * n), activity, voter, mesa_voter,
             mesa_same=mesa is not None and max(1, round(sweeps)) == sweeps),
    ]  # fmt: skip


# -- running each implementation --------------------------------------------------------


def _advance(
    case: Case, graph: FollowGraph, state: classic.ClassicState, rng: np.random.Generator
) -> tuple[int, float, float]:
    """``classic.advance``, as ``classic.run`` calls it, timed: (steps, wall s, CPU s)."""
    start, cpu = time.perf_counter(), time.process_time()
    steps = classic.advance(case.model, graph, state, case.steps, rng)
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
    ``ClassicState.stack``, ``disjoint_copies``, ``advance``) so that building the
    union graph is timed apart (``extra``). Work = copies x n x the mean
    single-run steps: the useful work, so steps spent waiting for the slowest
    copy count as cost. (The voter at activity 1/n on the union is each copy's
    own process: every agent still acts with prob 1/n a step.)
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


def run_mesa(case: Case, seeds: list[int]) -> Sample | None:
    """Mesa replicates, one per seed; every agent steps (voter: a step is a sweep)."""
    if case.mesa is None or not seeds:
        return None
    rows = []
    for seed in seeds:
        outcome, steps, seconds, cpu = case.mesa(case.graph.nx, seed)
        rows.append((outcome, steps, seconds, cpu, case.graph.n * steps, None))
    return _sample(rows)


def run_interleaved(
    case: Case, index: int, reps: tuple[int, int, int], ndlib: str | None, workdir: Path
) -> tuple[Sample, Sample | None, Sample | None]:
    """Single replicates of townsquare, NDlib and Mesa for ``case``, in rounds.

    ``index`` numbers the case (for its seeds). Each round runs its share of
    townsquare's replicates, then its share of NDlib's in one subprocess, then
    its share of Mesa's, so that machine drift during the run moves all alike.
    Townsquare's replicates use the streams of one uninterrupted run; each NDlib
    round gets a seed of its own.
    """
    ts_reps, nd_reps, mesa_reps = reps
    rounds = max(1, min(ROUNDS, ts_reps, nd_reps if ndlib else ts_reps))
    streams = np.random.SeedSequence(100 + index).spawn(ts_reps)
    mesa_seeds = [(400 + index) * 1000 + r for r in range(mesa_reps)]
    ts_parts: list[Sample] = []
    nd_parts: list[Sample | None] = []
    mesa_parts: list[Sample | None] = []
    run_townsquare(case, [np.random.SeedSequence(99)])  # untimed: compiles if not cached
    for r in range(rounds):
        ts_parts.append(run_townsquare(case, _share(streams, r, rounds)))
        count = len(_share(list(range(nd_reps)), r, rounds))
        if ndlib and count:
            seed = (300 + index) * ROUNDS + r
            nd_parts.append(run_ndlib(ndlib, case, count, seed, workdir))
        mesa_parts.append(run_mesa(case, _share(mesa_seeds, r, rounds)))
    nd = None
    if nd_parts and all(part is not None for part in nd_parts):
        nd = _pooled([part for part in nd_parts if part is not None])
    done = [part for part in mesa_parts if part is not None]
    return _pooled(ts_parts), nd, _pooled(done) if done else None


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
    load: str = ""  # load average (1, 5, 15 min) when the case started

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
    header = ["model", "graph", "load at start", "KS townsquare vs NDlib (α=0.01)", "Mesa mean±sd",
              "KS p Mesa vs NDlib", "KS p batched vs NDlib",
              "mean steps ts/ND/Mesa", "s per replicate ts/ND/Mesa", "batched: steps, s, union s",
              "CPU-time ratio ts/ND, ts/Mesa, batched/ND"]  # fmt: skip
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
        out.append([
            r.case.name, r.case.graph.label, r.load, _ks(r.ts, r.nd, r.compare, full=True),
            r.mesa.summary() if r.mesa else "—", _ks(r.mesa, r.nd, r.compare and r.case.mesa_same),
            _ks(r.batched, r.nd, r.compare),
            steps, secs, batched, cpu,
        ])  # fmt: skip
    return _table(header, out)


def minimum_table(rows: list[Row]) -> str:
    """Per model, the smallest ratio over the graphs (and where), and the smallest KS p."""
    header = ["model", "graphs", "min ratio vs NDlib (wall)", "at", "min vs NDlib (CPU)",
              "min vs Mesa (wall)", "at", "min batched/NDlib", "min KS p ts vs NDlib",
              "≥ 100× vs both?"]  # fmt: skip
    out = []
    for name in dict.fromkeys(r.case.name for r in rows):
        mine = [r for r in rows if r.case.name == name]

        def lowest(
            rate: Callable[[Row], float | None], mine: list[Row] = mine
        ) -> tuple[float | None, str]:
            pairs = [(x, r.case.graph.label) for r in mine if (x := rate(r)) is not None]
            return min(pairs) if pairs else (None, "—")

        nd, nd_at = lowest(lambda r: r.ts.throughput / r.nd.throughput if r.nd else None)
        cpu, _ = lowest(lambda r: r.ts.cpu_throughput / r.nd.cpu_throughput if r.nd else None)
        me, me_at = lowest(lambda r: r.ts.throughput / r.mesa.throughput if r.mesa else None)
        bt, _ = lowest(lambda r: r.batched.throughput / r.nd.throughput if r.nd else None)
        ks = [ks_2samp(r.ts.outcome, r.nd.outcome).pvalue for r in mine if r.nd]
        ok = all(x is None or x >= 100 for x in (nd, me))
        out.append([
            name, str(len(mine)), _ratio(nd or 0, 1) if nd else "—", nd_at,
            _ratio(cpu or 0, 1) if cpu else "—", _ratio(me or 0, 1) if me else "—", me_at,
            _ratio(bt or 0, 1) if bt else "—", f"{min(ks):.2g}" if ks else "—",
            "yes" if ok and nd is not None else "no",
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
    """Graph sizes, and per size: replicates (townsquare, NDlib, Mesa) and voter sweeps."""
    if quick:
        return argparse.Namespace(small=300, large=1000, small_reps=(40, 20, 4),
                                  large_reps=(20, 8, 2), small_sweeps=1.0, large_sweeps=0.2,
                                  batched=10)  # fmt: skip
    return argparse.Namespace(small=2000, large=10_000, small_reps=(200, 40, 10),
                              large_reps=(60, 16, 4), small_sweeps=1.0, large_sweeps=0.2,
                              batched=50)  # fmt: skip


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def bench(cases: list[Case], first: int, reps: tuple[int, int, int], batched: int,
          ndlib: str | None, workdir: Path) -> list[Row]:  # fmt: skip
    """One row per case: interleaved single replicates, then the batched run."""
    rows = []
    for i, case in enumerate(cases, start=first):
        t0, load = time.perf_counter(), _load()
        ts, nd, mesa = run_interleaved(case, i, reps, ndlib, workdir)
        copies = min(batched, reps[0])
        run_batched(case, 2, 199, 1.0)  # untimed: the union's array types may compile
        batch = run_batched(case, copies, 200 + i, float(np.mean(ts.steps)))
        rows.append(Row(case, ts, batch, nd, mesa, True, load))
        print(f"  {case.name} on {case.graph.label}: {time.perf_counter() - t0:.0f} s "
              f"(load {load})", flush=True)  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small n and R: a smoke check")
    parser.add_argument("--ndlib-venv", action="store_true", help="run NDlib from its own venv")
    parser.add_argument("--no-large", action="store_true", help="only the small graphs")
    parser.add_argument("--family", action="append", choices=list(FAMILIES),
                        help="only these graph families (repeatable; default: all)")
    parser.add_argument("--model", action="append",
                        help="only the models whose name starts with this (repeatable)")
    args = parser.parse_args()
    s = sizes(args.quick)
    ndlib = ndlib_python(args.ndlib_venv)
    mesa = mesa_models()
    start = time.perf_counter()
    rows: list[Row] = []
    plan = [(s.small, s.small_reps, s.small_sweeps)]
    if not args.no_large:
        plan.append((s.large, s.large_reps, s.large_sweeps))
    with tempfile.TemporaryDirectory(prefix="bench-classic-") as tmp:
        workdir = Path(tmp)
        for size, reps, sweeps in plan:
            for f, family in enumerate(args.family or list(FAMILIES)):
                graph = make_graph(family, size, 1 + f, workdir)
                print(f"{graph.label} (R townsquare/NDlib/Mesa = {reps}):", flush=True)
                cases = make_cases(graph, sweeps, mesa)
                if args.model:
                    cases = [c for c in cases if c.name.startswith(tuple(args.model))]
                rows += bench(cases, len(rows), reps, s.batched, ndlib, workdir)
    print(f"\nTotal {time.perf_counter() - start:.0f} s\n")
    print(machine(ndlib) + "\n")
    print(main_table(rows) + "\n")
    print(detail_table(rows) + "\n")
    print(minimum_table(rows))


if __name__ == "__main__":
    main()
