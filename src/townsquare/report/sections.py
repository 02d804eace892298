"""Assemble a run's report: which figures, tables and notes go in which section.

Every section is always present (so the table of contents is the same for
every run); a section without data says why in a note.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from townsquare.measure.summary import merged_rows
from townsquare.measure.surveys import shifts, summarize
from townsquare.report import figures_state as state
from townsquare.report import figures_structure as structure
from townsquare.report import figures_time as time
from townsquare.report.document import Code, Document, Grid, Item, Note, Plot, Section, Table, fmt
from townsquare.report.extract import RunData
from townsquare.report.figures_survey import survey_means
from townsquare.report.plots import integer_ticks
from townsquare.wording import plural

KEY_PARAMETERS = (
    "population.size", "population.topics", "population.leaning_polarization",
    "network.kind", "network.m", "network.p", "network.k", "network.reciprocity",
    "platform.feed.length", "platform.feed.mix", "platform.moderation.strategy",
    "behavior.model", "behavior.engage_rate", "snapshots.every", "snapshots.max_agents",
)

SECTIONS = (
    ("summary", "Scenario and summary"),
    ("activity", "Activity"),
    ("beliefs", "Belief in news items"),
    ("attitudes", "Attitudes"),
    ("emotion", "Emotion"),
    ("cascades", "Cascades"),
    ("reach", "Reach of false vs true items"),
    ("moderation", "Moderation and interventions"),
    ("network", "Network"),
    ("surveys", "Surveys"),
    ("llm", "LLM cost, latency and fallbacks"),
)

# Sections read from tables that grow with the run; a quick (live first-draw) page says so.
HEAVY = ("attitudes", "cascades", "network", "surveys", "llm")
PENDING = ("Being drawn: the dashboard shows the plots that follow the run first and draws "
           "this in the background; it appears here by itself once ready.")


def run_document(data: RunData) -> Document:
    """The report of one run as a :class:`Document`."""
    meta = data.meta
    builders = {
        "summary": _summary, "activity": _activity, "beliefs": _beliefs,
        "attitudes": _attitudes, "emotion": _emotion, "cascades": _cascades, "reach": _reach,
        "moderation": _moderation, "network": _network, "surveys": _surveys, "llm": _llm,
    }
    sections = [Section(key, title, [Note(PENDING, pending=True)] if data.quick and key in HEAVY
                        else builders[key](data)) for key, title in SECTIONS]
    scenario = str(meta.get("scenario_name") or data.scenario.get("name") or "run")
    facts = {
        "scenario": scenario, "seed": fmt(meta.get("seed")), "agents": fmt(meta.get("n_agents")),
        "steps": fmt(meta.get("steps")), "status": str(meta.get("status") or "unknown"),
        "townsquare": str(meta.get("version") or ""), "created": str(meta.get("created_at") or ""),
    }
    steps = meta.get("steps")
    return Document(
        title=f"{scenario} — run {data.run_id}",
        subtitle=run_caption(meta, data.scenario),
        facts=facts, sections=sections, kind="run", run_id=data.run_id,
        status=facts["status"], last_step=data.last_step,
        steps=steps if isinstance(steps, int) else None, pending=data.quick,
    )


def run_caption(meta: dict[str, Any], scenario: dict[str, Any]) -> str:
    """The run as it ran: its size and settings from the run itself, not the scenario's prose.

    A scenario's description is written for its default size ("10,000 agents"); a run
    with ``--agents 100000`` must not be captioned with it.
    """
    behavior = _lookup(scenario, "behavior.model") or "social"
    network = _lookup(scenario, "network.kind")
    parts = [f"{plural(meta.get('n_agents'), 'agent')}", plural(meta.get("steps"), "step"),
             f"seed {fmt(meta.get('seed'))}", f"behaviour '{behavior}'"]
    if network:
        parts.append(f"network '{network}'")
    if scenario.get("llm"):
        parts.append("with LLM agents")
    return ", ".join(parts)


def _status_note(meta: dict[str, Any]) -> Note | None:
    """Why a run has no summary: it failed (with its error), was stopped, or is running."""
    status = meta.get("status")
    if status == "failed":
        error = meta.get("error")
        where = f" at step {meta['error_step']}" if meta.get("error_step") is not None else ""
        return Note(f"This run failed{where}: {error}" if error else
                    "This run failed; no error was recorded (the process was killed, or the "
                    "run predates error recording). Its tables hold the steps committed "
                    "before the failure.")
    if status == "interrupted":
        return Note("This run was stopped before its last step; `townsquare resume` "
                    "continues it. Its summary is written when it completes.")
    if status == "running":
        return Note("This run is in progress: the summary is written when it completes.")
    return None


def _plot(section: str, name: str, figure: Any, caption: str = "") -> list[Item]:
    if figure is None:
        return []
    integer_ticks(figure)
    return [Plot(f"{section}-{name}", figure, caption)]


def _or_note(items: list[Any], note: str) -> list[Any]:
    return items if items else [Note(note)]


def _lookup(tree: dict[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _summary(data: RunData) -> list[Any]:
    meta = data.meta
    facts = [["run id", data.run_id], ["scenario", str(meta.get("scenario_name") or "")],
             ["seed", fmt(meta.get("seed"))], ["townsquare version", str(meta.get("version"))],
             ["agents", fmt(meta.get("n_agents"))], ["steps", fmt(meta.get("steps"))],
             ["created", str(meta.get("created_at"))]]  # status and step: live, in the header
    params = []
    for key in KEY_PARAMETERS:
        value = _lookup(data.scenario, key)
        if value is not None:
            params.append([key, _param_text(value)])
    for key in ("interventions", "surveys"):
        if data.scenario.get(key):
            names = [str(i.get("name") or i.get("id") or i.get("kind") or "")
                     for i in data.scenario[key]]
            params.append([key, ", ".join(names)])
    status = _status_note(meta)
    items: list[Any] = [status] if status is not None else []
    if data.scenario.get("description"):
        items.append(Note(f"The scenario's own description (written for its default size): "
                          f"{data.scenario['description']}"))
    items.append(Grid([Table(["field", "value"], facts, "Run"),
                       Table(["parameter", "value"], params, "Key parameters")]))
    if len(data.news):
        items.append(Table(["news item", "topic", "veracity", "step", "text"],
                           [[str(v) for v in row] for row in data.news.itertuples(index=False)],
                           "Seeded news items"))
    if data.summary:
        news = [(str(i), str(v)) for i, v in zip(data.news["id"], data.news["veracity"],
                                                 strict=True)] if len(data.news) else []
        rows = [[label, fmt(data.summary[key])]
                for key, label in merged_rows(data.summary, list(data.summary), news)]
        half = (len(rows) + 1) // 2
        items.append(Grid([Table(["measure", "value"], rows[:half], "Summary (Run.summary())"),
                           Table(["measure", "value"], rows[half:], "")]))
    elif status is None:
        items.append(Note("No summary was recorded for this run."))
    if data.scenario_toml:
        items.append(Code(data.scenario_toml, "Scenario as run (TOML)"))
    return items


def _param_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return fmt(value)


def _activity(data: RunData) -> list[Any]:
    return _or_note(_plot("activity", "actions", time.activity(data.metrics),
                          "Actions per step by kind; dotted: active agents."),
                    "No activity metrics recorded.")


def _beliefs(data: RunData) -> list[Any]:
    return _or_note(_plot("beliefs", "belief", time.beliefs(data.metrics, data.news),
                          "False items in red, true items in blue."),
                    "This run seeded no news items.")


def _attitudes(data: RunData) -> list[Any]:
    items: list[Any] = []
    if data.focus_topic is not None and data.focus_attitudes is not None:
        hist = data.focus_attitudes
        items += _plot("attitudes", "heatmap", state.attitude_heatmap(hist, data.focus_topic),
                       f"Share of snapshot agents per attitude bin and step, topic "
                       f"'{data.focus_topic}' (the topic of the seeded news, or the most spread).")
    items += _plot("attitudes", "final", state.final_attitudes(data.attitudes),
                   "Attitude distribution per topic at the first (dotted) and last snapshot.")
    return _or_note(items, "No attitude snapshots recorded.")


def _emotion(data: RunData) -> list[Any]:
    items = _plot("emotion", "means", time.emotion_means(data.metrics),
                  "Mean valence and arousal over all agents.")
    if data.valence is not None:
        items += _plot("emotion", "valence", state.emotion_heatmap(data.valence),
                       "Distribution of valence per step (snapshot agents).")
    elif data.quick:
        items.append(Note(PENDING, pending=True))
    return _or_note(items, "No emotion recorded.")


def _cascades(data: RunData) -> list[Any]:
    if data.cascades.empty:
        return [Note("No posts were made.")]
    items: list[Any] = _plot("cascades", "ccdf", structure.size_ccdf(data.cascades),
                             "Complementary CDF of cascade sizes, log-log.")
    columns = ["size", "depth", "max_breadth", "structural_virality", "unique_users",
               "veracity", "news", "text"]
    rows = [[fmt(getattr(r, c)) if c not in ("veracity", "news", "text") else str(getattr(r, c))
             for c in columns] for r in data.top_cascades.itertuples()]
    items.append(Table([c.replace("_", " ") for c in columns], rows,
                       "Largest cascades (the root post's text)"))
    for k, tree in enumerate(data.trees):
        sampled = f" (a sample of {len(tree.parent):,} posts)" if tree.sampled else ""
        items += _plot("cascades", f"tree{k + 1}", structure.cascade_tree(tree),
                       f"Cascade #{k + 1}: {tree.size:,} posts{sampled}, {tree.veracity}"
                       f"{', news ' + tree.news if tree.news else ''}.")
    return items


def _reach(data: RunData) -> list[Any]:
    return _or_note(_plot("reach", "reach", time.reach(data.metrics, data.news),
                          "Agents exposed to and sharing false (red) and true (blue) items; "
                          "dotted lines per item."),
                    "No reach metrics recorded (no news items).")


def _moderation(data: RunData) -> list[Any]:
    items = _plot("moderation", "labels", time.moderation(data.labels, data.metrics),
                  "Moderation labels per step and cumulative cost of moderation and "
                  "interventions.")
    firings = data.interventions
    items += _plot("moderation", "interventions", time.interventions(firings),
                   "Units touched by each intervention firing.")
    if not firings.empty:
        totals = firings.groupby("name", sort=False).agg(
            kind=("kind", "first"), firings=("step", "size"), units=("units", "sum"),
            cost=("cost", "sum")).reset_index()
        items.append(Table(["intervention", "kind", "firings", "units", "cost"],
                           [[str(r.name), str(r.kind), fmt(r.firings), fmt(r.units), fmt(r.cost)]
                            for r in totals.itertuples()], "Interventions"))
    strategy = _lookup(data.scenario, "platform.moderation.strategy")
    return _or_note(items, f"No moderation labels, costs or interventions "
                           f"(moderation strategy: {strategy or 'none'}).")


def _network(data: RunData) -> list[Any]:
    net = data.network
    if net is None or len(net.agents) == 0:
        return [Note("No follow graph recorded.")]
    drawn = len(net.agents)
    if net.coloured_by == "attitude":
        colour = f"coloured by final attitude on '{net.topic}'"
        if net.recorded < drawn:
            colour += f" ({net.recorded:,} of them recorded by the snapshots; the rest grey)"
    else:
        colour = (f"coloured by political leaning (persona), because the snapshots recorded "
                  f"a final attitude for only {net.recorded:,} of them")
    return _plot("network", "graph", structure.network(net),
                 f"A snowball sample of {drawn:,} of {net.total_nodes:,} agents and "
                 f"{len(net.src):,} follow edges among them (of {net.total_edges:,} at the "
                 f"start), {colour}.")


def _surveys(data: RunData) -> list[Any]:
    if data.surveys.empty:
        return [Note("No surveys in this run.")]
    summary = summarize(data.surveys)
    items: list[Any] = _plot("surveys", "means", survey_means(summary, data.scenario),
                             "Mean answer per wave with 95% t confidence intervals; one panel "
                             "per answer scale (Likert points, choice indices and states are "
                             "different units).")
    moved = shifts(data.surveys)
    if len(moved):
        columns = ["survey", "question", "from_step", "to_step", "design", "n", "shift",
                   "ci_low", "ci_high"]
        items.append(Table([c.replace("_", " ") for c in columns],
                           [[fmt(v) for v in row] for row in moved[columns].itertuples(
                               index=False)], "Shift from the first to the last wave"))
    return items


def _llm(data: RunData) -> list[Any]:
    if data.llm is None:
        note = "This run made no LLM calls."
        fallbacks = data.metrics["fallbacks"].fillna(0).sum() if "fallbacks" in data.metrics \
            else 0.0
        if fallbacks > 0:
            note += f" Fallbacks to the heuristic recorded: {fmt(float(fallbacks))}."
        items: list[Any] = [Note(note)]
    else:
        usage = data.llm
        items = _plot("llm", "calls", time.llm_calls(usage.per_step, usage.latency, data.metrics),
                      "Calls, cache hits and fallbacks per step; latency percentiles of "
                      "network calls; cumulative cost.")
        tables = [_frame_table(usage.by_model, "Calls by model and purpose"),
                  _frame_table(usage.faults, "Faults")]
        items += [table for table in tables if table is not None]
        items = items or [Note("No LLM calls recorded yet.")]
    if len(data.reasons):
        items.append(_frame_table(data.reasons, "Stated reasons (first recorded)"))
    return items


def _frame_table(frame: pd.DataFrame, caption: str) -> Table | None:
    if frame.empty:
        return None
    return Table([str(c).replace("_", " ") for c in frame.columns],
                 [[fmt(v) for v in row] for row in frame.itertuples(index=False)], caption)
