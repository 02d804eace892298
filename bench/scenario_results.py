"""The measured results of the seed-study scenarios, as the markdown tables in docs/scenarios.md.

Every study runs its arms over the same seeds (common random numbers) at the
scenario's own size, and reports each measure's mean with a 95% t-interval
over replicates, then each arm's paired difference from the baseline arm. The
last table times one default run of each scenario (as ``townsquare run NAME``).

    python bench/scenario_results.py                 # 10 seeds, every study
    python bench/scenario_results.py --seeds 5 --only polarization
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from townsquare import clone
from townsquare.engine import Simulation
from townsquare.measure.network_stats import friendship_paradox
from townsquare.measure.opinion import attitude_summary
from townsquare.run import Run
from townsquare.scenario import Scenario

Measure = Callable[[Run], float]
FAST = {"checkpoint_every": 0, "snapshots.max_agents": 0}


def summary(key: str) -> Measure:
    return lambda run: float(run.summary().get(key, np.nan))  # NaN: nothing to measure


@dataclass
class Study:
    """Arms of one scenario, the measures reported, and the arm the others are compared to."""

    scenario: str
    arms: dict[str, dict[str, Any]]
    measures: dict[str, Measure]
    baseline: str | None = None
    base: dict[str, Any] = field(default_factory=dict)


# -- measures read from the run's tables ------------------------------------------------------


def _attitude_change(run: Run) -> tuple[float, float, float]:
    """Share of agents more extreme / more moderate at the end than at the start; ER index."""
    attitudes = run.attitudes().pivot_table(index="agent", columns="step", values="value")
    first, last = attitudes.iloc[:, 0].abs(), attitudes.iloc[:, -1].abs()
    er = attitude_summary(attitudes.iloc[:, -1].to_numpy())["esteban_ray"]
    return float((last > first + 0.05).mean()), float((last < first - 0.05).mean()), er


def emotion_shift(run: Run, group: bool, what: str) -> float:
    emotions = run.emotions()
    hit = run.agents().set_index("agent")["leaning"] >= 0.3
    series = emotions[hit.loc[emotions["agent"]].to_numpy() == group].groupby("step")["valence"]
    series = series.mean()
    before = series.loc[:9].mean()
    return float({"drop": before - series.loc[10:].min(),
                  "left": before - series.iloc[-1]}[what])


def _initial_paradox(run: Run) -> float:
    edges = run.edges()
    n = len(run.agents())
    return float(friendship_paradox(edges["src"], edges["dst"], n, directed=True)
                 ["fraction_paradox"])


def _debunk(start: int, every: int, until: int | None = None) -> dict[str, Any]:
    when = {"start": start, "every": every} | ({"until": until} if until is not None else {})
    return {"interventions": [{"kind": "debunk", "news": "fake", "when": when, "strength": 0.5,
                               "memory": 0.3, "target": {"share": 0.5}}]}


def _polarization_measures() -> dict[str, Measure]:
    cache: dict[str, tuple[float, float, float]] = {}

    def part(i: int) -> Measure:
        def measure(run: Run) -> float:
            if run.id not in cache:
                cache[run.id] = _attitude_change(run)
            return cache[run.id][i]
        return measure

    return {"attitude variance": summary("attitude_variance"),
            "bimodality": summary("bimodality"),
            "Esteban-Ray": part(2),
            "share more extreme": part(0),
            "share moderated": part(1)}


STUDIES = [
    Study(
        "misinfo-moderation",
        {s: {"platform.moderation.strategy": s}
         for s in ("none", "fact_check", "community_notes", "hybrid")},
        {"false reach": summary("reach_false"), "true reach": summary("reach_true"),
         "engagement": summary("total_engagement"), "flags": summary("total_flags"),
         "moderation cost": summary("moderation_cost"),
         "labels on true stories": summary("labels_on_true"),
         "label precision": summary("label_precision"),
         "fact-check misses": summary("fact_check_misses"),
         "flags on true stories": summary("flags_on_true")},
        baseline="none",
    ),
    Study(
        "fake-news-attitudes",
        {"none": {"interventions": []},
         "early (2, 6, 10)": _debunk(2, 4, 10), "late (14, 18, 22)": _debunk(14, 4, 22),
         "every 2 from 2": _debunk(2, 2), "every 4 from 2": _debunk(2, 4),
         "every 8 from 2": _debunk(2, 8), "every 16 from 2": _debunk(2, 16)},
        {"believers (mean over time)": summary("avg_believers_fake"),
         "believers (final)": summary("believers_fake"), "cost": summary("intervention_cost")},
        baseline="none",
    ),
    Study(
        "news-evolution",
        {"Holme-Kim p=0.9 (clustered)": {},
         "Barabási-Albert (scale-free)": {"network.kind": "barabasi_albert"},
         "Watts-Strogatz k=6 p=0.05": {"network.kind": "watts_strogatz", "network.k": 6,
                                        "network.p": 0.05}},
        {"deviation (all)": summary("deviation_story"),
         "gen 1": summary("deviation_story_g1"), "gen 2": summary("deviation_story_g2"),
         "gen 3+": summary("deviation_story_g3"), "versions": summary("versions_story"),
         "reach": summary("reach_story")},
        baseline="Holme-Kim p=0.9 (clustered)",
    ),
    Study(
        "polarization",
        {"homophilous": {},
         "cross-cutting": {"network.homophily": 0.5, "platform.feed.out_of_network": 5,
                           "platform.feed.mix": {"random": 1.0}}},
        _polarization_measures(),
        baseline="homophilous",
        base={"snapshots.max_agents": 2000, "snapshots.every": 29},
    ),
    Study(
        "inflammatory-messages",
        {"none": {},
         "removal": {"interventions": [{"kind": "remove", "content": {"inflammatory": True},
                                        "when": {"start": 2, "every": 1}}]},
         "suspension": {"interventions": [{"kind": "suspend", "target": {
             "sharers_of": "outrage", "share": 0.5}, "when": {"start": 2, "every": 2}}]}},
        {"reach": summary("reach_outrage"), "sharers": summary("sharers_outrage"),
         "cost (units)": summary("intervention_cost")},
        baseline="none",
    ),
    Study(
        "emotion-contagion",
        {"event at step 10": {}},
        {"valence drop, hit": lambda r: emotion_shift(r, True, "drop"),
         "valence drop, not hit": lambda r: emotion_shift(r, False, "drop"),
         "still below baseline at end, hit": lambda r: emotion_shift(r, True, "left"),
         "still below baseline at end, not hit": lambda r: emotion_shift(r, False, "left"),
         "peak arousal": summary("arousal_mean_max"), "final arousal": summary("arousal_mean")},
        base={"snapshots.max_agents": 2000},
    ),
    Study(
        "friendship-paradox",
        {"chronological feed": {},
         "engagement-ranked feed": {"platform.feed.mix": {"chronological": 0.5,
                                                          "engagement": 0.5},
                                    "platform.feed.out_of_network": 3}},
        {"paradox (initial graph)": _initial_paradox,
         "paradox (final graph)": summary("friendship_paradox_share"),
         "weak ties": summary("paradox_weak_ties"), "strong ties": summary("paradox_strong_ties"),
         "weak − strong": lambda r: summary("paradox_weak_ties")(r)
         - summary("paradox_strong_ties")(r),
         "weak subgraph": summary("paradox_weak_subgraph"),
         "strong subgraph": summary("paradox_strong_subgraph"),
         "weak share of ties": summary("weak_tie_share")},
        baseline="chronological feed",
    ),
    Study(
        "community-prototype",
        {"unmoderated": {"interventions": []}, "moderated": {}},
        {"uncivil share": summary("uncivil_share"), "replies": summary("total_comments"),
         "posts": summary("total_posts"), "suspended": summary("intervention_cost")},
        baseline="unmoderated",
    ),
    Study(
        "digital-clone",
        {"clone (engage_rate 0.1)": {}, "wrong: engage_rate 0.3": {"behavior.engage_rate": 0.3},
         "wrong: engage_rate 0.03": {"behavior.engage_rate": 0.03}},
        {f"KS {m}": summary(f"clone_ks_{m}") for m in clone.MEASURES}
        | {"W size": lambda r: float(clone.compare(r, r.scenario().recorded_cascades)
                                       .loc["size", "wasserstein"])},
        baseline="clone (engage_rate 0.1)",
    ),
]


# -- running and printing -------------------------------------------------------------------


def run_study(study: Study, seeds: list[int], out: Path) -> dict[str, np.ndarray]:
    """Arm -> (seeds x measures) array."""
    scenario = Scenario.load(study.scenario).with_overrides({**FAST, **study.base})
    results = {}
    for arm, overrides in study.arms.items():
        rows = []
        for seed in seeds:
            run_dir = out / f"{study.scenario}-{len(results)}-{seed}"
            run = Simulation(scenario.with_overrides({**overrides, "seed": seed}),
                             run_dir=run_dir).run()
            rows.append([measure(run) for measure in study.measures.values()])
        results[arm] = np.asarray(rows, dtype=np.float64)
    return results


def t_interval(values: np.ndarray) -> tuple[float, float, float] | None:
    """(mean, low, high): the 95% t-interval over the finite values; None below two."""
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return None
    mean = float(values.mean())
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def interval(values: np.ndarray) -> str:
    found = t_interval(values)
    if found is None:
        return "n/a"
    mean, low, high = found
    return f"{_fmt(mean)} [{_fmt(low)}, {_fmt(high)}]"


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}" if abs(x) >= 0.01 else f"{x:.2g}"


def table(study: Study, results: dict[str, np.ndarray], seeds: int) -> str:
    names = list(study.measures)
    lines = [f"### {study.scenario}", "",
             f"Mean and 95% t-interval over {seeds} seeds.", "",
             "| arm | " + " | ".join(names) + " |",
             "|---" * (len(names) + 1) + "|"]
    for arm, values in results.items():
        lines.append(f"| {arm} | " + " | ".join(interval(values[:, j])
                                                 for j in range(len(names))) + " |")
    if study.baseline is not None:
        lines += ["", f"Paired difference from *{study.baseline}* (same seeds):", "",
                  "| arm | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        base = results[study.baseline]
        for arm, values in results.items():
            if arm != study.baseline:
                lines.append(f"| {arm} | " + " | ".join(
                    interval(values[:, j] - base[:, j]) for j in range(len(names))) + " |")
    return "\n".join(lines)


def default_runs(names: list[str], out: Path) -> str:
    lines = ["### One default run each (as `townsquare run NAME`)", "",
             "| scenario | agents | steps | seconds | headline |", "|---|---|---|---|---|"]
    for name in names:
        scenario = Scenario.load(name)
        started = time.perf_counter()
        run = Simulation(scenario, run_dir=out / f"default-{name}").run()
        seconds = time.perf_counter() - started
        s = run.summary()
        headline = ", ".join(f"{k} = {_fmt(float(s[k]))}" for k in scenario.headline if k in s)
        lines.append(f"| {name} | {scenario.population.size:,} | {scenario.steps} | "
                     f"{seconds:.1f} | {headline} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="replicates per arm")
    parser.add_argument("--only", nargs="*", help="scenario names to run")
    args = parser.parse_args()
    seeds = list(range(1, args.seeds + 1))
    studies = [s for s in STUDIES if not args.only or s.scenario in args.only]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for study in studies:
            started = time.perf_counter()
            results = run_study(study, seeds, out)
            print(table(study, results, len(seeds)))
            print(f"\n({time.perf_counter() - started:.0f} s)\n", flush=True)
        print(default_runs([s.scenario for s in studies], out))


if __name__ == "__main__":
    main()
