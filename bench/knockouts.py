"""Knock-outs: does a study's headline effect survive switching each mechanism off?

For a built-in study, every effect is measured over paired seeds (mean and 95%
t-interval) with the scenario as shipped, then again with each named parameter
set to its neutral value, one at a time, and over a small one-way sweep of the
most influential parameters. An effect is *emergent* when no single knock-out of
a parameter that names the outcome removes it; otherwise it is *assumed*, carried
by that parameter. The tables in docs/scenarios.md come from this script:

    python bench/knockouts.py default --seeds 10 --agents 3000
    python bench/knockouts.py misinfo-moderation --seeds 10 --agents 3000
    python bench/knockouts.py default --sweeps          # also the one-way sensitivity sweeps
    python bench/knockouts.py commons --agents 50 --plot docs/figures   # sweeps as PNGs
    python bench/knockouts.py polarization --no-knockouts --sweep platform.feed.length
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from scenario_results import emotion_shift, interval, t_interval
from townsquare import Run, Scenario, Simulation
from townsquare.errors import UserError
from townsquare.measure.cascades import cascade_table
from townsquare.measure.network_stats import friendship_paradox

Effects = Callable[[Run, Run | None], dict[str, float]]


@dataclass(frozen=True)
class Arms:
    """A knock-out that differs between the treated and the control arm."""

    treated: dict[str, Any]
    control: dict[str, Any]


@dataclass
class Study:
    """A study: its effects (from a run, and a control run where the effect is between arms),
    the knock-outs (label -> overrides), and the sweeps (parameter -> values)."""

    scenario: str
    effects: Effects
    knockouts: dict[str, dict[str, Any] | Arms]
    base: dict[str, Any] = field(default_factory=dict)  # overrides of every run
    treated: dict[str, Any] = field(default_factory=dict)  # overrides of the treated arm
    control: dict[str, Any] | None = None  # overrides of the control arm, if any
    sweeps: dict[str, list[float]] = field(default_factory=dict)


def _speeds(run: Run, first: str, second: str) -> tuple[float, float]:
    """Steps until each news item has reached k agents, k half the smaller final reach
    (as ``validate-run``'s "false news faster" check), so both get there."""
    metrics = run.metrics()
    reach = [metrics[f"reach_{news}"].to_numpy() for news in (first, second)]
    k = max(1.0, 0.5 * min(r[-1] for r in reach))
    a, b = (float(np.argmax(r >= k)) for r in reach)
    return a, b


def _depth(run: Run, news: int) -> float:
    table = cascade_table(run.reader.posts())
    depths = table.loc[table["news"] == news, "depth"]
    return float(depths.max()) if len(depths) else 0.0


def false_vs_true(run: Run, _: Run | None) -> dict[str, float]:
    """Rumour (false, news 0) minus report (true, news 1): reach, depth, and speed."""
    summary = run.summary()
    steps_false, steps_true = _speeds(run, "rumour", "report")
    return {
        "reach false - true (agents)": summary["reach_rumour"] - summary["reach_report"],
        "depth false - true (hops)": _depth(run, 0) - _depth(run, 1),
        "steps to k agents, false - true": steps_false - steps_true,
    }


def moderation_effect(run: Run, control: Run | None) -> dict[str, float]:
    """What the moderation strategy changes against no moderation, and its mistakes."""
    assert control is not None
    s, c = run.summary(), control.summary()
    return {
        "reach_false moderated - none": s["reach_false"] - c["reach_false"],
        "reach_true moderated - none": s["reach_true"] - c["reach_true"],
        "engagement moderated - none": s["total_engagement"] - c["total_engagement"],
        "labels on true stories": s["labels_on_true"],
        "label precision": s["label_precision"],
    }


def polarization_effects(run: Run, cross: Run | None) -> dict[str, float]:
    """Echo chambers over time (variance at the end minus the start), and against exposure
    to the other side (cross-cutting minus homophilous variance at the end)."""
    assert cross is not None
    start, end = run.metrics()["attitude_var"].to_numpy()[[0, -1]]
    return {"homophilous: variance end - start": end - start,
            "variance cross-cutting - homophilous": cross.summary()["attitude_variance"]
            - run.summary()["attitude_variance"]}


CROSS_CUTTING = {"network.homophily": 0.5, "platform.feed.out_of_network": 5,
                 "platform.feed.mix": {"random": 1.0}}
def _alike(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's news with arousal and seeding made equal (content-neutral)."""
    return [item.model_dump() | {"arousal": 0.5, "seeder_role": None} for item in scenario.news]


def _without_provocateurs(scenario: Scenario) -> list[dict[str, Any]]:
    """The community's archetypes with the provocateurs' share given to the old-timers."""
    archetypes = [a.model_dump() for a in scenario.population.archetypes]
    spare = sum(a["share"] for a in archetypes if a["name"] == "provocateur")
    for a in archetypes:
        a["share"] = 0.0 if a["name"] == "provocateur" else a["share"]
    archetypes[0]["share"] += spare
    return [a for a in archetypes if a["share"] > 0]


def _debunks(start: int, memory: float) -> list[dict[str, Any]]:
    return [{"kind": "debunk", "news": "fake", "when": {"start": start, "every": 4,
                                                       "until": start + 8},
             "strength": 0.5, "memory": memory, "target": {"share": 0.5}}]


def early_vs_late(early: Run, late: Run | None) -> dict[str, float]:
    """Believers in the fake story, averaged over the run: early debunks minus late ones."""
    assert late is not None
    return {"believers early - late (mean over time)":
            early.summary()["avg_believers_fake"] - late.summary()["avg_believers_fake"]}


def paradox_growth(run: Run, _: Run | None) -> dict[str, float]:
    """The friendship paradox on the grown graph minus on the initial one."""
    edges = run.edges()
    initial = friendship_paradox(edges["src"], edges["dst"], len(run.agents()),
                                 directed=True)["fraction_paradox"]
    return {"paradox final - initial": run.summary()["friendship_paradox_share"] - initial,
            "paradox initial": initial}


def moderation_of_incivility(moderated: Run, unmoderated: Run | None) -> dict[str, float]:
    assert unmoderated is not None
    base = unmoderated.summary()["uncivil_share"]
    return {"uncivil share, unmoderated": base,
            "uncivil share moderated - unmoderated": moderated.summary()["uncivil_share"] - base}


def retelling_drift(run: Run, _: Run | None) -> dict[str, float]:
    """How far retold versions drift: third-generation minus first, and late minus early."""
    metrics = run.metrics()
    final = metrics.iloc[-1]
    return {"deviation gen 3+ - gen 1": final["deviation_story_g3"] - final["deviation_story_g1"],
            "deviation at the end - at step 8": final["deviation_story"]
            - metrics.loc[8, "deviation_story"]}


def emotion_spread(run: Run, _: Run | None) -> dict[str, float]:
    """The valence drop of the agents the event hit, and of those it did not (contagion)."""
    return {"valence drop, hit": emotion_shift(run, True, "drop"),
            "valence drop, not hit": emotion_shift(run, False, "drop")}


def removal_effect(removed: Run, none: Run | None) -> dict[str, float]:
    """Reach and sharers of the inflammatory message: removal minus no intervention."""
    assert none is not None
    s, c = removed.summary(), none.summary()
    return {"reach, none": c["reach_outrage"],
            "reach removal - none": s["reach_outrage"] - c["reach_outrage"],
            "sharers removal - none": s["sharers_outrage"] - c["sharers_outrage"]}


def talk_effect(talk: Run, silent: Run | None) -> dict[str, float]:
    """A greedy community with discussion minus the same community without it."""
    assert silent is not None
    s, c = talk.summary(), silent.summary()
    return {"survival rounds talk - none": s["survival_time"] - c["survival_time"],
            "mean stock share talk - none": s["mean_stock_share"] - c["mean_stock_share"],
            "survival rounds, no talk": c["survival_time"]}


def _log_price(run: Run) -> np.ndarray:
    return np.log(run.metrics()["price_ACME"].to_numpy())


def news_lift(boom: Run, quiet: Run | None) -> dict[str, float]:
    """The optimistic post's lift of the price (mean log price over steps 5-39, before the
    shock) and the volatility it adds: with the post minus without it."""
    assert quiet is not None
    lift = float((_log_price(boom)[5:40] - _log_price(quiet)[5:40]).mean())
    return {"mean log price, post - no post (steps 5-39)": lift,
            "volatility post - no post": boom.summary()["volatility"]
            - quiet.summary()["volatility"]}


def chartist_volatility(chartists: Run, fundamentalists: Run | None) -> dict[str, float]:
    """Volatility and bubble share: a chartist-heavy market minus a fundamentalist-heavy one."""
    assert fundamentalists is not None
    s, c = chartists.summary(), fundamentalists.summary()
    return {"volatility chartists - fundamentalists": s["volatility"] - c["volatility"],
            "bubble share chartists - fundamentalists": s["bubble_share"] - c["bubble_share"]}


def campaign_swing(campaign: Run, none: Run | None) -> dict[str, float]:
    """The right's vote share with its campaign minus without it, and the final poll's error."""
    assert none is not None
    s, c = campaign.summary(), none.summary()
    return {"vote share right, campaign - none": s["vote_share_right"] - c["vote_share_right"],
            "poll error (MAE), campaign arm": s["poll_error_mae"]}


def clone_fit(clone: Run, wrong: Run | None) -> dict[str, float]:
    """KS distance of the clone's cascades from the recording's, and how much farther a
    clone with the wrong engagement rate (0.3 instead of the recording's 0.1) is."""
    assert wrong is not None
    s, c = clone.summary(), wrong.summary()
    return {"KS size, clone": s["clone_ks_size"],
            "KS size, wrong - clone": c["clone_ks_size"] - s["clone_ks_size"],
            "KS delay, wrong - clone": c["clone_ks_delay"] - s["clone_ks_delay"]}


def _off(*names: str) -> dict[str, dict[str, Any]]:
    """Knock-outs setting each of these engagement weights of ``[behavior]`` to 0."""
    return {f"{name} = 0": {f"behavior.{name}": 0.0} for name in names}


REMOVAL = [{"kind": "remove", "content": {"inflammatory": True}, "when": {"start": 2, "every": 1}}]
GREEDY = {"environment.greed": {"a": 6.0, "b": 2.0}}


def _calm(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's news written in arousal 0.5 (below the inflammatory threshold 0.6)."""
    return [item.model_dump() | {"arousal": 0.5} for item in scenario.news]


DEFAULT_NEUTRAL = {
    "behavior.novelty_weight": 0.0,
    "behavior.arousal_appeal": 0.0,
    "behavior.habituation": 0.0,
    "behavior.stance_weight": 0.0,
}
STUDIES = {
    "default": Study(
        "default", false_vs_true,
        knockouts={f"{k.split('.')[-1]} = {v}": {k: v} for k, v in DEFAULT_NEUTRAL.items()}
        | {"news written alike (arousal 0.5, seeded alike)": {"news": _alike}},
        sweeps={"behavior.arousal_appeal": [0.0, 1.0, 2.0, 3.0],
                "behavior.novelty_weight": [0.0, 0.5, 1.0, 2.0],
                "behavior.stance_weight": [0.5, 1.0, 1.5, 2.5]},
    ),
    "polarization": Study(
        "polarization", polarization_effects, control=CROSS_CUTTING,
        knockouts={"assimilation_bias = 0 (plain averaging)": {"behavior.assimilation_bias": 0.0},
                   "bounded confidence instead": {"behavior.attitude_rule":
                                                  "bounded_confidence"}},
        sweeps={"behavior.assimilation_bias": [0.0, 0.5, 1.0, 2.0, 3.0],
                "behavior.self_weight": [2.0, 5.0, 10.0],
                "platform.feed.length": [5, 15, 30]},
    ),
    "fake-news-attitudes": Study(
        "fake-news-attitudes", early_vs_late,
        treated={"interventions": _debunks(2, 0.3)}, control={"interventions": _debunks(14, 0.3)},
        knockouts={
            "debunk memory = 0": Arms({"interventions": _debunks(2, 0.0)},
                                      {"interventions": _debunks(14, 0.0)}),
            "inoculation_discernment = 0": {"behavior.inoculation_discernment": 0.0},
            "discernment = 0": {"behavior.discernment": 0.0,
                                "behavior.verifier_discernment": 0.0},
        },
        sweeps={"behavior.discernment": [0.0, 0.5, 1.0, 2.0],
                "behavior.doubt_threshold": [0.5, 1.0, 1.5, 2.5],
                "behavior.engage_rate": [0.03, 0.06, 0.12]},
    ),
    "friendship-paradox": Study(
        "friendship-paradox", paradox_growth,
        knockouts={"popularity_weight = 0": {"behavior.popularity_weight": 0.0},
                   "follow_rate = 0": {"behavior.follow_rate": 0.0},
                   "unfollow_rate = 0": {"behavior.unfollow_rate": 0.0},
                   "follow_original_author = false": {"behavior.follow_original_author":
                                                      False}},
        sweeps={"behavior.popularity_weight": [0.0, 1.0, 2.5, 5.0, 10.0],
                "behavior.follow_rate": [0.005, 0.01, 0.02, 0.04],
                "behavior.engage_rate": [0.02, 0.08, 0.16]},
    ),
    "community-prototype": Study(
        "community-prototype", moderation_of_incivility,
        control={"interventions": []},
        knockouts={"outrage_weight = 0": {"behavior.outrage_weight": 0.0},
                   "no provocateurs": {"population.archetypes": _without_provocateurs}},
        sweeps={"behavior.outrage_weight": [0.0, 1.0, 2.5, 5.0, 10.0],
                "behavior.engage_rate": [0.04, 0.08, 0.16],
                "behavior.emotion_contagion": [0.0, 0.15, 0.3]},
    ),
    "news-evolution": Study(
        "news-evolution", retelling_drift,
        knockouts={"only bystanders (no role edits)": {"population.roles": {"bystander": 1.0}},
                   "no verifiers (their share to bystanders)": {"population.roles": {
                       "spreader": 0.15, "commentator": 0.25, "bystander": 0.6}}},
        sweeps={"behavior.engage_rate": [0.05, 0.1, 0.2],
                "behavior.stance_weight": [0.0, 1.5, 3.0],
                "behavior.arousal_appeal": [0.0, 1.0, 2.0]},
    ),
    "emotion-contagion": Study(
        "emotion-contagion", emotion_spread, base={"snapshots.max_agents": 100_000},
        knockouts={"emotion_contagion = 0": {"behavior.emotion_contagion": 0.0},
                   "clash_valence = 0": {"behavior.clash_valence": 0.0}},
        sweeps={"behavior.emotion_contagion": [0.0, 0.1, 0.2, 0.4],
                "behavior.emotion_decay": [0.0, 0.05, 0.1, 0.2],
                "behavior.engage_rate": [0.03, 0.06, 0.12]},
    ),
    "misinfo-moderation": Study(
        "misinfo-moderation", moderation_effect,
        treated={"platform.moderation.strategy": "hybrid"},
        control={"platform.moderation.strategy": "none"},
        knockouts={
            "fact_check_false_positive = 0": {"platform.moderation.fact_check_false_positive": 0.0},
            "match_false_positive = 0": {"platform.moderation.match_false_positive": 0.0},
            "partisan_doubt = 0": {"behavior.partisan_doubt": 0.0},
            "discernment = 0": {"behavior.discernment": 0.0,
                                "behavior.verifier_discernment": 0.0},
            "label_effect = 0": {"platform.moderation.label_effect": 0.0},
        },
        sweeps={"behavior.implied_truth": [0.0, 2.0, 4.0, 8.0],
                "behavior.discernment": [0.0, 0.5, 1.0, 2.0],
                "platform.moderation.label_effect": [0.0, 0.3, 0.6, 0.9],
                "platform.moderation.match_false_positive": [0.0, 0.02, 0.05, 0.1]},
    ),
    "inflammatory-messages": Study(
        "inflammatory-messages", removal_effect,
        treated={"interventions": REMOVAL}, control={"interventions": []},
        knockouts={"message written in arousal 0.5 (not inflammatory)": {"news": _calm}}
        | _off("arousal_appeal", "stance_weight", "novelty_weight"),
        sweeps={"behavior.arousal_appeal": [0.0, 1.0, 2.0],
                "behavior.stance_weight": [0.0, 1.5, 3.0],
                "behavior.engage_rate": [0.03, 0.06, 0.12]},
    ),
    "commons": Study(
        "commons", talk_effect, base=GREEDY,
        treated={"environment.conformity": 0.5}, control={"environment.conformity": 0.0},
        knockouts={"attention = 0 (nobody reads the lake)": {"environment.attention": 0.0},
                   "discussion among followees only": {"environment.discussion": "followees"},
                   "greed as shipped (Beta(2, 3))": {"environment.greed": {"a": 2.0,
                                                                           "b": 3.0}}},
        sweeps={"environment.attention": [0.0, 0.05, 0.1, 0.3],
                "environment.greed.a": [3.0, 6.0, 9.0],
                "environment.growth_rate": [0.5, 1.0, 1.5]},
    ),
    "market": Study(
        "market", news_lift, control={"news": []},
        knockouts={"sentiment_weight = 0": {"environment.sentiment_weight": 0.0},
                   "return_feedback = 0": {"environment.return_feedback": 0.0},
                   "convergence = 0 (no social influence)": {"behavior.convergence": 0.0},
                   "value_anchor = 0": {"environment.value_anchor": 0.0}},
        sweeps={"environment.sentiment_weight": [0.0, 0.05, 0.1, 0.2],
                "environment.return_feedback": [0.0, 1.0, 2.0],
                "environment.value_anchor": [0.0, 0.3, 0.6, 1.0]},
    ),
    "market-chartists": Study(
        "market", chartist_volatility,
        treated={"environment.traders": {"chartist": 0.8, "noise": 0.2}},
        control={"environment.traders": {"fundamentalist": 0.8, "noise": 0.2}},
        knockouts={"chartist_strength = 0": {"environment.chartist_strength": 0.0},
                   "sentiment_weight = 0": {"environment.sentiment_weight": 0.0},
                   "value_anchor = 0": {"environment.value_anchor": 0.0}},
        sweeps={"environment.chartist_strength": [0.0, 0.5, 1.5, 3.0],
                "environment.value_anchor": [0.0, 0.3, 0.6, 1.0],
                "environment.trade_rate": [0.25, 0.5, 1.0]},
    ),
    "digital-clone": Study(
        "digital-clone", clone_fit, control={"behavior.engage_rate": 0.3},
        knockouts=_off("stance_weight", "arousal_appeal", "novelty_weight"),
        sweeps={"behavior.stance_weight": [0.0, 1.5, 3.0],
                "behavior.arousal_appeal": [0.0, 1.0, 2.0],
                "platform.feed.window": [2, 6, 12]},
    ),
    "election": Study(
        "election", campaign_swing, control={"news": [], "environment.campaigns": {}},
        knockouts={"campaign_weight = 0": {"environment.campaign_weight": 0.0},
                   "convergence = 0 (attitudes fixed)": {"behavior.convergence": 0.0},
                   "partisanship = 0": {"environment.partisanship": 0.0}},
        sweeps={"environment.campaign_weight": [0.0, 0.75, 1.5, 3.0],
                "environment.partisanship": [0.0, 0.5, 1.0],
                "behavior.convergence": [0.0, 0.15, 0.3]},
    ),
}


def _run(scenario: Scenario, overrides: dict[str, Any], out: Path) -> Run:
    """Run with ``overrides``; a callable value is computed from the scenario."""
    overrides = {k: v(scenario) if callable(v) else v for k, v in overrides.items()}
    return Simulation(scenario.with_overrides({**overrides, "output_dir": str(out)})).run()


def measure(study: Study, overrides: dict[str, Any] | Arms, seeds: range, agents: int,
            out: Path) -> dict[str, np.ndarray]:
    """Each effect per seed, for the study's scenario with ``overrides`` (on both arms,
    over the arms' own overrides, unless given per arm)."""
    base = Scenario.load(study.scenario).with_overrides(
        {"population.size": agents, "checkpoint_every": 0, "snapshots.max_agents": 0,
         **study.base})
    arms = overrides if isinstance(overrides, Arms) else Arms(overrides, overrides)
    rows: dict[str, list[float]] = {}
    for seed in seeds:
        run = _run(base, {**study.treated, **arms.treated, "seed": seed}, out)
        control = (_run(base, {**study.control, **arms.control, "seed": seed}, out)
                   if study.control is not None else None)
        for name, value in study.effects(run, control).items():
            rows.setdefault(name, []).append(value)
    return {name: np.asarray(values, np.float64) for name, values in rows.items()}


def sign(values: np.ndarray) -> int:
    """+1 / -1 when the 95% interval excludes 0 on that side, else 0."""
    found = t_interval(values)
    if found is None:
        return 0
    _, low, high = found
    return 1 if low > 0 else -1 if high < 0 else 0


def knockout_table(study: Study, seeds: range, agents: int, out: Path) -> str:
    shipped = measure(study, {}, seeds, agents, out)
    names = list(shipped)
    lines = ["| arm | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|",
             "| as shipped | " + " | ".join(interval(shipped[n]) for n in names) + " |"]
    removed: dict[str, list[str]] = {n: [] for n in names}
    for label, overrides in study.knockouts.items():
        print(f"  knock-out: {label}", flush=True)
        values = measure(study, overrides, seeds, agents, out)
        lines.append(f"| {label} | " + " | ".join(interval(values[n]) for n in names) + " |")
        for n in names:
            if sign(shipped[n]) != 0 and sign(values[n]) != sign(shipped[n]):
                removed[n].append(label)
    lines.append("")
    for n in names:
        verdict = ("no effect as shipped" if sign(shipped[n]) == 0
                   else f"removed or reversed by: {', '.join(removed[n])}" if removed[n]
                   else "survives every knock-out")
        lines.append(f"- {n}: {verdict}")
    return "\n".join(lines)


def sweep_results(study: Study, seeds: range, agents: int,
                  out: Path) -> dict[str, dict[float, dict[str, np.ndarray]]]:
    """parameter -> value -> effect -> per-seed values, for each one-way sweep."""
    results = {}
    for parameter, values in study.sweeps.items():
        print(f"  sweep: {parameter}", flush=True)
        results[parameter] = {v: measure(study, {parameter: v}, seeds, agents, out)
                              for v in values}
    return results


def sweep_table(results: dict[str, dict[float, dict[str, np.ndarray]]]) -> str:
    parts = []
    for parameter, rows in results.items():
        names = list(next(iter(rows.values())))
        parts += [f"\n{parameter}:\n", "| value | " + " | ".join(names) + " |",
                  "|---" * (len(names) + 1) + "|"]
        parts += [f"| {v} | " + " | ".join(interval(r[n]) for n in names) + " |"
                  for v, r in rows.items()]
    return "\n".join(parts)


def _short(parameter: str) -> str:
    """A parameter's name without its section, for file names and axes (greed.a -> greed_a)."""
    return parameter.split(".", 1)[-1].replace(".", "_")


def sweep_plots(study: str, results: dict[str, dict[float, dict[str, np.ndarray]]],
                folder: Path) -> list[Path]:
    """One PNG per swept parameter: each effect's mean and 95% interval against the value."""
    from plotly.subplots import make_subplots

    from townsquare.report.document import Document, Plot, Section
    from townsquare.report.png import export_pngs
    from townsquare.report.style import TEMPLATE

    plots = []
    for parameter, rows in results.items():
        names = list(next(iter(rows.values())))
        fig = make_subplots(rows=1, cols=len(names), subplot_titles=names)
        for col, name in enumerate(names, start=1):
            found = [(v, t_interval(r[name])) for v, r in rows.items()]
            xs = [v for v, f in found if f is not None]
            mean, low, high = (np.array([f[i] for _, f in found if f is not None])
                               for i in range(3))
            fig.add_scatter(x=xs, y=mean, mode="lines+markers", showlegend=False, row=1,
                            col=col, error_y={"type": "data", "symmetric": False,
                                              "array": high - mean, "arrayminus": mean - low})
            fig.add_hline(y=0, line={"dash": "dot", "width": 1}, row=1, col=col)
            fig.update_xaxes(title_text=_short(parameter), row=1, col=col)
        fig.update_layout(template=TEMPLATE, height=340, margin={"t": 80},
                          title={"text": f"{study}: {_short(parameter)} "
                                         "(mean, 95% CI over seeds)", "x": 0.01, "y": 0.97})
        plots.append(Plot(f"{study}-{_short(parameter)}", fig))
    doc = Document(study, "", {}, [Section("sweeps", "Sweeps", plots)])
    return export_pngs(doc, folder, width=360 * max(2, len(names)), height=340, scale=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=sorted(STUDIES))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--agents", type=int, default=3000)
    parser.add_argument("--sweeps", action="store_true", help="also the one-way sweeps")
    parser.add_argument("--no-knockouts", action="store_true",
                        help="only the sweeps (with --sweeps or --plot)")
    parser.add_argument("--llm-base-url", metavar="URL",
                        help="drive agents with the model served here (OpenAI-compatible, "
                        "e.g. http://127.0.0.1:8000/v1) in every arm")
    parser.add_argument("--llm-model", default="Qwen/Qwen2.5-7B-Instruct",
                        help="the served model's name (with --llm-base-url)")
    parser.add_argument("--llm-fraction", type=float, default=1.0,
                        help="share of agents the model drives (with --llm-base-url)")
    parser.add_argument("--sweep", action="append", metavar="PARAMETER",
                        help="only this one of the study's sweeps (repeatable)")
    parser.add_argument("--plot", type=Path, help="write the sweeps as PNGs into this folder")
    args = parser.parse_args()
    study, seeds = STUDIES[args.study], range(1, args.seeds + 1)
    if args.llm_base_url:
        llm = {"models": [{"name": "main", "base_url": args.llm_base_url,
                           "model": args.llm_model}],
               "assign": {"fraction": args.llm_fraction}}
        study = replace(study, base={**study.base, "llm": llm})
    if args.sweep:
        unknown = sorted(set(args.sweep) - set(study.sweeps))
        if unknown:
            parser.error(f"{args.study} has no sweep of {', '.join(unknown)}; "
                         f"its sweeps: {', '.join(study.sweeps)}")
        study = replace(study, sweeps={k: v for k, v in study.sweeps.items()
                                       if k in args.sweep})
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        print(f"{args.study}: {args.seeds} seeds, {args.agents:,} agents", flush=True)
        if not args.no_knockouts:
            print(knockout_table(study, seeds, args.agents, out))
        if args.sweeps or args.plot:
            results = sweep_results(study, seeds, args.agents, out)
            print(sweep_table(results))
            if args.plot:
                for path in sweep_plots(args.study, results, args.plot):
                    print(f"wrote {path}")


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:  # a bad override or an unreachable model server
        raise SystemExit(f"error: {exc}") from None
