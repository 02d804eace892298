"""One agent of a run, drilled down: persona, attitude and emotion over time, posts,
memories and, for LLM agents, their model calls with the answers.

Everything comes from the run's store with one query per table filtered on the
agent (``attitudes`` and ``state`` hold only the snapshot agents: an agent outside
the snapshot sample says so instead of showing empty plots). The store keeps a
model call's accounting and the hash of its request, not the prompt itself; the
answer is looked up by that hash in the run's LLM response cache when the cache
file is readable, else the page says it is not available.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from townsquare.errors import UserError
from townsquare.population.model import build_population
from townsquare.report.document import Document, Grid, Item, Note, Plot, Section, Table, fmt
from townsquare.report.plots import esc
from townsquare.report.style import VERACITY_CODES, base_figure, series_style
from townsquare.rng import RandomStreams
from townsquare.run import ACTION_LABELS, Run

MAX_ROWS = 200  # posts, memories and calls shown per agent (the counts are given in full)


def agent_document(run: Run, agent: int) -> Document:
    """The page of ``agent`` in ``run``."""
    meta = run.meta()
    n_agents = int(meta.get("n_agents") or 0)
    if not 0 <= agent < n_agents:
        raise UserError(f"agent {agent} is not in run {run.id} (agents 0..{n_agents - 1})")
    query = run.reader.query
    tables = set(run.reader.tables())
    persona = query("SELECT * FROM agents WHERE agent = ?", (agent,))
    behavior = str(persona["behavior"].iloc[0]) if "behavior" in persona and len(persona) \
        else "heuristic"
    sections = [
        Section("persona", "Persona", _persona(run, agent, persona)),
        Section("state", "Attitude and emotion over time", _state(run, agent, meta, tables)),
        Section("posts", "Posts", _posts(run, agent, meta)),
        Section("memories", "Memories", _memories(run, agent, tables)),
        Section("llm", "Model calls and answers", _llm(run, agent, tables, behavior)),
    ]
    facts = {"run": run.id, "agent": str(agent), "behaviour": behavior,
             "scenario": str(meta.get("scenario_name") or ""),
             "status": str(meta.get("status") or "unknown")}
    last = meta.get("last_step")
    return Document(title=f"agent {agent} — run {run.id}",
                    subtitle=f"one of {n_agents:,} agents; {behavior} behaviour",
                    facts=facts, sections=sections, kind="agent", run_id=run.id,
                    status=facts["status"], last_step=int(last) if last is not None else None)


def _persona(run: Run, agent: int, persona: pd.DataFrame) -> list[Item]:
    items: list[Item] = []
    text = _persona_text(run, agent)
    if text:
        items.append(Note(text))
    if len(persona):
        row = persona.iloc[0]
        items.append(Table(["field", "value"],
                           [[str(k).replace("_", " "), fmt(v)] for k, v in row.items()],
                           "Persona as stored"))
    counts = run.reader.query("SELECT action, COUNT(*) AS n FROM events WHERE agent = ? "
                              "GROUP BY action ORDER BY action", (agent,))
    if len(counts):
        items.append(Table(["action", "count"],
                           [[_label(a), fmt(int(n))] for a, n in zip(counts["action"],
                                                                      counts["n"], strict=True)],
                           "Actions during the run"))
    return items or [Note("No persona recorded for this agent.")]


def _persona_text(run: Run, agent: int) -> str:
    """The persona sentence prompts and interviews use (rebuilt from the scenario's seed)."""
    try:
        scenario = run.scenario()
        population = build_population(scenario.population,
                                      RandomStreams(scenario.seed)["population"])
        return str(population.persona_text(agent))
    except (UserError, OSError, IndexError):
        return ""  # a persona file moved since the run: the stored columns still show


def _label(code: Any) -> str:
    code = int(code)
    return ACTION_LABELS[code] if 0 <= code < len(ACTION_LABELS) else str(code)


def _state(run: Run, agent: int, meta: dict[str, Any], tables: set[str]) -> list[Item]:
    topics = [str(t) for t in meta.get("topics") or []]
    plots: list[Plot | Table] = []
    if "attitudes" in tables:
        att = run.reader.query("SELECT step, topic, value FROM attitudes WHERE agent = ? "
                               "ORDER BY step", (agent,))
        if len(att):
            fig = base_figure(height=320)
            for i, (topic, group) in enumerate(att.groupby("topic", sort=True)):
                name = topics[int(topic)] if 0 <= int(topic) < len(topics) else str(topic)
                fig.add_trace(go.Scatter(x=group["step"], y=group["value"], mode="lines+markers",
                                         name=esc(name), **series_style(i)))
            fig.update_layout(xaxis_title="step", yaxis_title="attitude (-1 against, +1 for)",
                              yaxis_range=[-1.05, 1.05])
            plots.append(Plot("agent-attitudes", fig, "Attitude per topic at each snapshot."))
    if "state" in tables:
        emo = run.reader.query("SELECT step, valence, arousal FROM state WHERE agent = ? "
                               "ORDER BY step", (agent,))
        if len(emo):
            fig = base_figure(height=320)
            for i, column in enumerate(("valence", "arousal")):
                fig.add_trace(go.Scatter(x=emo["step"], y=emo[column], mode="lines+markers",
                                         name=column, **series_style(i)))
            fig.update_layout(xaxis_title="step", yaxis_title="valence (-1..1), arousal (0..1)")
            plots.append(Plot("agent-emotion", fig, "Valence and arousal at each snapshot."))
    if not plots:
        return [Note("The snapshots did not record this agent (snapshots.max_agents samples "
                     "the agents whose state is stored); its persona, posts and actions are "
                     "complete.")]
    return [Grid(plots)]


def _posts(run: Run, agent: int, meta: dict[str, Any]) -> list[Item]:
    topics = [str(t) for t in meta.get("topics") or []]
    news = [str(n) for n in meta.get("news") or []]
    total = int(run.reader.query("SELECT COUNT(*) AS n FROM posts WHERE author = ?",
                                 (agent,))["n"].iloc[0])
    if not total:
        return [Note("This agent made no posts, reposts, quotes or comments.")]
    posts = run.reader.query("SELECT post_id, step, kind, parent, topic, stance, veracity, news, "
                             "text FROM posts WHERE author = ? ORDER BY step, post_id LIMIT ?",
                             (agent, MAX_ROWS))
    rows = []
    for r in posts.itertuples(index=False):
        rows.append([fmt(r.post_id), fmt(r.step), _label(r.kind),
                     "" if pd.isna(r.parent) or r.parent < 0 else fmt(r.parent),
                     _name(topics, r.topic), fmt(r.stance),
                     VERACITY_CODES.get(int(r.veracity), "") if pd.notna(r.veracity) else "",
                     _name(news, r.news), str(r.text or "")])
    shown = f" (the first {MAX_ROWS} of {total:,})" if total > MAX_ROWS else ""
    return [Table(["post", "step", "kind", "parent", "topic", "stance", "veracity", "news",
                   "text"], rows, f"{total:,} posts{shown}")]


def _name(names: list[str], code: Any) -> str:
    if code is None or pd.isna(code) or int(code) < 0:
        return ""
    return names[int(code)] if int(code) < len(names) else str(int(code))


def _memories(run: Run, agent: int, tables: set[str]) -> list[Item]:
    if "memories" not in tables:
        return [Note("This run keeps no memory streams (only LLM agents have them).")]
    memories = run.reader.query("SELECT step, kind, importance, text FROM memories "
                                "WHERE agent = ? ORDER BY step LIMIT ?", (agent, MAX_ROWS))
    if not len(memories):
        return [Note("No memories recorded for this agent.")]
    return [Table(["step", "kind", "importance", "text"],
                  [[fmt(r.step), str(r.kind), fmt(r.importance), str(r.text)]
                   for r in memories.itertuples(index=False)], "Memory stream")]


def _llm(run: Run, agent: int, tables: set[str], behavior: str) -> list[Item]:
    items: list[Item] = []
    reasons = run.reader.query("SELECT step, action, reason FROM events WHERE agent = ? AND "
                               "reason IS NOT NULL AND reason != '' ORDER BY step LIMIT ?",
                               (agent, MAX_ROWS))
    if len(reasons):
        items.append(Table(["step", "action", "stated reason"],
                           [[fmt(r.step), _label(r.action), str(r.reason)]
                            for r in reasons.itertuples(index=False)], "Stated reasons"))
    if "llm_calls" not in tables:
        return items or [Note(f"This agent's behaviour is {behavior}: it makes no model calls.")]
    calls = run.reader.query("SELECT step, model, purpose, prompt_tokens, completion_tokens, "
                             "latency_ms, cache_hit, fault, fallback, request_hash FROM llm_calls "
                             "WHERE agent = ? ORDER BY step LIMIT ?", (agent, MAX_ROWS))
    if not len(calls):
        return items or [Note("No model calls recorded for this agent.")]
    answers = _answers(run, calls["request_hash"].astype(str).tolist())
    rows = [[fmt(r.step), str(r.model), str(r.purpose), fmt(r.prompt_tokens),
             fmt(r.completion_tokens), fmt(r.latency_ms), "yes" if r.cache_hit else "",
             str(r.fault or ""), "yes" if r.fallback else "",
             answers.get(str(r.request_hash), "")] for r in calls.itertuples(index=False)]
    items.append(Table(["step", "model", "purpose", "prompt tokens", "answer tokens", "ms",
                        "cached", "fault", "fallback", "answer"], rows, "Model calls"))
    found = sum(1 for r in rows if r[-1])
    items.append(Note(
        "The run stores each call's accounting and the sha256 of its request, not the prompt "
        "text. " + (f"{found} of {len(rows)} answers were found by that hash in the run's "
                    "response cache." if answers or found else
                    "The answers are not available: the response cache is off, elsewhere "
                    "or has been cleared.")))
    return items


def _answers(run: Run, hashes: list[str]) -> dict[str, str]:
    """Response bodies by request hash, read-only from the run's LLM response cache."""
    try:
        llm = run.scenario().llm
    except UserError:
        return {}
    if llm is None or not llm.cache:
        return {}
    # opened read-only and asked only for this run's request hashes: reading a cache the
    # stored scenario names is harmless (writing to one is what townsquare.trust guards)
    path = Path(llm.resolved_cache_path()).expanduser()
    if not path.is_file() or not hashes:
        return {}
    found: dict[str, str] = {}
    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
            for start in range(0, len(hashes), 500):
                chunk = hashes[start:start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(conn.execute(f"SELECT key, body FROM responses WHERE key IN "
                                          f"({marks})", chunk).fetchall())
    except sqlite3.Error:
        return {}
    return {key: _answer_text(body) for key, body in found.items()}


def _answer_text(body: str) -> str:
    """The model's answer in a cached result (its content, tool arguments or refusal)."""
    try:
        result = json.loads(body)
    except ValueError:
        return body
    if not isinstance(result, dict):
        return body
    for field in ("content", "tool_arguments", "refusal"):
        value = result.get(field)
        if value:
            return value if isinstance(value, str) else json.dumps(value)
    return ""

