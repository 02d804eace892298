"""Read a run into what the report draws: small, aggregated, sampled pieces.

Heavy tables are reduced inside SQLite (histograms by ``GROUP BY``) or
sampled (network, cascade trees, latencies), so a 100k-agent run yields a
report of a few megabytes. Tables a run lacks read as empty; the report
skips what is not there.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from townsquare.core.actions import Action
from townsquare.errors import StoreError
from townsquare.measure.cascades import cascade_table
from townsquare.report.layout import force_layout, tree_layout
from townsquare.report.sampling import MAX_POINTS, downsample, graph_sample, subtree_sample
from townsquare.report.style import VERACITY_CODES
from townsquare.run import Run
from townsquare.store import SqliteRunReader

ATTITUDE_BINS = 40
EMOTION_BINS = 30
TREES = 3
TREE_NODES = 600
NETWORK_NODES = 1000
TOP_CASCADES = 10


@dataclass(frozen=True)
class Histogram:
    """Counts of a state variable per snapshot step: ``counts[step_row, bin]``."""

    steps: np.ndarray
    edges: np.ndarray
    counts: np.ndarray

    @property
    def shares(self) -> np.ndarray:
        total = self.counts.sum(axis=1, keepdims=True)
        return np.divide(self.counts, total, out=np.zeros_like(self.counts, dtype=float),
                         where=total > 0)

    @property
    def centres(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])


@dataclass(frozen=True)
class Tree:
    """One cascade drawn as a tree (possibly a sample of it)."""

    root: int
    size: int
    veracity: str
    news: str
    text: str
    positions: np.ndarray  # (k, 2) depth, spread
    parent: np.ndarray  # (k,) local parent row, -1 at the root
    step: np.ndarray  # (k,)
    kind: list[str]
    sampled: bool


@dataclass(frozen=True)
class Network:
    """A sample of the follow graph with a layout and each node's colour value (NaN: unknown).

    ``attitude`` holds final attitudes on ``topic`` when most drawn agents have one
    recorded (``coloured_by == "attitude"``), else every drawn agent's persona leaning
    (``"leaning"``): the picture is coloured by what the run recorded for its nodes.
    """

    positions: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    agents: np.ndarray
    attitude: np.ndarray
    topic: str
    total_nodes: int
    total_edges: int
    coloured_by: str = "attitude"
    recorded: int = 0  # drawn agents whose final attitude is recorded


@dataclass
class LlmUsage:
    per_step: pd.DataFrame  # step, calls, cache_hits, cost, tokens, fallbacks, faults
    latency: pd.DataFrame  # step, latency_ms (network calls, sampled)
    faults: pd.DataFrame  # fault, calls
    by_model: pd.DataFrame  # model, purpose, calls, cost, mean latency


@dataclass
class RunData:
    """Everything a run report shows, already reduced to plot size."""

    run_id: str
    meta: dict[str, Any]
    scenario: dict[str, Any]
    scenario_toml: str
    summary: dict[str, Any]
    metrics: pd.DataFrame
    news: pd.DataFrame
    topics: list[str]
    focus_topic: str | None
    attitudes: dict[str, Histogram] = field(default_factory=dict)  # first and last snapshot
    focus_attitudes: Histogram | None = None  # every snapshot of the focus topic
    valence: Histogram | None = None
    arousal: Histogram | None = None
    cascades: pd.DataFrame = field(default_factory=pd.DataFrame)
    top_cascades: pd.DataFrame = field(default_factory=pd.DataFrame)
    trees: list[Tree] = field(default_factory=list)
    labels: pd.DataFrame = field(default_factory=pd.DataFrame)
    interventions: pd.DataFrame = field(default_factory=pd.DataFrame)
    surveys: pd.DataFrame = field(default_factory=pd.DataFrame)
    llm: LlmUsage | None = None
    reasons: pd.DataFrame = field(default_factory=pd.DataFrame)
    network: Network | None = None
    quick: bool = False  # only the metrics-based parts were read (a live page's first draw)

    @property
    def last_step(self) -> int | None:
        value = self.meta.get("last_step")
        return value if isinstance(value, int) else None


def extract_run(run: Run, *, seed: int = 0, quick: bool = False) -> RunData:
    """Read and reduce one run (safe while the run is still being written).

    ``quick`` reads only what costs one small query (meta, metrics, labels,
    interventions): the state distributions, cascades, network, surveys and LLM
    calls, whose cost grows with the run, are left out (``RunData.quick``).
    """
    reader = run.reader
    tables = set(reader.tables())
    meta: dict[str, Any] = reader.meta()  # decoded JSON values
    toml_text = str(meta.pop("scenario_toml", "") or "")
    scenario = _parse_toml(toml_text)
    topics = [str(t) for t in meta.get("topics") or scenario.get("population", {}).get(
        "topics", [])]
    news = news_frame(scenario)
    data = RunData(
        run_id=run.id, meta=meta, scenario=scenario, scenario_toml=toml_text,
        summary=dict(meta.get("summary") or {}) if isinstance(meta.get("summary"), dict) else {},
        metrics=reader.metrics(wide=True) if "metrics" in tables else pd.DataFrame(),
        news=news, topics=topics, focus_topic=None, quick=quick,
    )
    if "labels" in tables:
        data.labels = _labels(run)
    if "interventions" in tables:
        data.interventions = run.interventions()
    if quick:
        return data
    if "attitudes" in tables:
        data.attitudes = attitude_histograms(run, topics, ends_only=True)
        data.focus_topic = focus_topic(data.attitudes, news)
        if data.focus_topic is not None:
            code = topics.index(data.focus_topic) if data.focus_topic in topics else -1
            data.focus_attitudes = histograms(run, "attitudes", "value", -1.0, 1.0,
                                              ATTITUDE_BINS, where="topic = ?",
                                              params=(code,)).get(0)
    if "state" in tables:
        data.valence = histograms(run, "state", "valence", -1.0, 1.0, EMOTION_BINS).get(0)
        data.arousal = histograms(run, "state", "arousal", 0.0, 1.0, EMOTION_BINS).get(0)
    if "posts" in tables:
        _cascades(run, data, seed)
    if "surveys" in tables:
        data.surveys = run.survey_answers()
    if "llm_calls" in tables:
        data.llm = llm_usage(run, seed)
    if "events" in tables:
        data.reasons = _reasons(run)
    if "edges" in tables:
        data.network = network(run, data.focus_topic, topics, seed)
    return data


def _parse_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text) if text else {}
    except tomllib.TOMLDecodeError:
        return {}


def news_frame(scenario: dict[str, Any]) -> pd.DataFrame:
    """The seeded news items: id, topic, veracity, step, text (in scenario order)."""
    rows = [{"id": str(item.get("id", "")), "topic": str(item.get("topic", "")),
             "veracity": str(item.get("veracity", "unverified")), "step": item.get("step", 0),
             "text": str(item.get("text", ""))} for item in scenario.get("news", [])]
    return pd.DataFrame(rows, columns=["id", "topic", "veracity", "step", "text"])


# -- state distributions -----------------------------------------------------------------


def histograms(run: Run, table: str, column: str, low: float, high: float, bins: int,
               by: str | None = None, where: str = "",
               params: tuple[Any, ...] = ()) -> dict[int, Histogram]:
    """Counts of ``column`` in equal bins over [low, high] per step (and per ``by``), in SQL.

    One scan of the table (rows filtered by the SQL condition ``where``),
    whatever the number of groups; values outside the range count in the
    first or last bin. Keys are the values of ``by`` (0 without it).
    """
    scale = bins / (high - low)
    key = f'"{by}"' if by else "0"
    condition = f"AND ({where})" if where else ""
    # portable SQL (SQLite and PostgreSQL): no two-argument MIN/MAX; PostgreSQL's CAST
    # rounds, so it truncates with FLOOR first (values below 0 are clamped anyway)
    raw = f'(\"{column}\" - ?) * ?'
    raw = f"CAST({raw} AS INTEGER)" if isinstance(run.reader, SqliteRunReader) else \
        f"CAST(FLOOR({raw}) AS INTEGER)"
    sql = (f"SELECT key, step, CASE WHEN raw < 0 THEN 0 WHEN raw > {bins - 1} THEN {bins - 1} "
           f"ELSE raw END AS bin, COUNT(*) AS n FROM (SELECT {key} AS key, step, {raw} AS raw "
           f"FROM \"{table}\" WHERE \"{column}\" IS NOT NULL {condition}) AS scaled "
           "GROUP BY key, step, bin")
    frame = run.reader.query(sql, (low, scale, *params))
    out: dict[int, Histogram] = {}
    for group, rows in frame.groupby("key", sort=True):
        steps = np.unique(rows["step"].to_numpy(np.int64))
        counts = np.zeros((len(steps), bins))
        counts[np.searchsorted(steps, rows["step"].to_numpy(np.int64)),
               rows["bin"].to_numpy(np.int64)] = rows["n"].to_numpy(float)
        out[int(group)] = Histogram(steps=steps, edges=np.linspace(low, high, bins + 1),
                                    counts=counts)
    return out


def attitude_histograms(run: Run, topics: list[str], *,
                        ends_only: bool = False) -> dict[str, Histogram]:
    """Attitude histogram per topic name; ``ends_only``: first and last snapshot only."""
    where = ("step IN ((SELECT MIN(step) FROM attitudes), (SELECT MAX(step) FROM attitudes))"
             if ends_only else "")
    found = histograms(run, "attitudes", "value", -1.0, 1.0, ATTITUDE_BINS, by="topic",
                       where=where)
    return {topics[code] if 0 <= code < len(topics) else f"topic {code}": hist
            for code, hist in found.items()}


def focus_topic(hists: dict[str, Histogram], news: pd.DataFrame) -> str | None:
    """The topic the report looks at first: the one most news is about, else the most spread."""
    about = [t for t in news["topic"] if t in hists]
    if about:
        return max(set(about), key=lambda t: (about.count(t), -list(hists).index(t)))
    if not hists:
        return None

    def spread(hist: Histogram) -> float:
        share = hist.shares[-1]
        mean = float(share @ hist.centres)
        return float(share @ (hist.centres - mean) ** 2)

    return max(hists, key=lambda t: spread(hists[t]))


# -- cascades -----------------------------------------------------------------------------


def _cascades(run: Run, data: RunData, seed: int) -> None:
    """Size and veracity of every cascade (in SQL), full measures and trees of the largest."""
    sizes = run.reader.query(
        "SELECT root, COUNT(*) AS size, MAX(CASE WHEN post_id = root THEN veracity END) "
        "AS veracity FROM posts WHERE root IS NOT NULL GROUP BY root")  # uses the root index
    if sizes.empty:
        return
    sizes["veracity"] = sizes["veracity"].fillna(0).astype(np.int64)
    data.cascades = sizes
    largest = sizes.sort_values(["size", "root"], ascending=[False, True]).head(TOP_CASCADES)
    ids = [int(r) for r in largest["root"]]
    marks = ",".join("?" * len(ids))
    posts = run.reader.query(
        "SELECT post_id, COALESCE(parent, -1) AS parent, root, step, author, kind, veracity, "
        f"news FROM posts WHERE root IN ({marks}) ORDER BY post_id", ids)
    texts = run.reader.query(f"SELECT post_id, text FROM posts WHERE post_id IN ({marks})", ids)
    text_of = dict(zip(texts["post_id"].astype(int), texts["text"].fillna(""), strict=True))
    top = cascade_table(posts).set_index("root").loc[ids].reset_index()
    news_ids = list(data.news["id"])
    data.top_cascades = top.assign(
        veracity=[VERACITY_CODES.get(int(v), "unverified") for v in top["veracity"]],
        news=[news_ids[int(k)] if 0 <= int(k) < len(news_ids) else "" for k in top["news"]],
        text=[str(text_of.get(r, "")) for r in ids])
    for row in data.top_cascades.head(TREES).itertuples():
        if row.size > 1:
            data.trees.append(_tree(posts, row, seed))


def _tree(posts: pd.DataFrame, row: Any, seed: int) -> Tree:
    members = posts[posts["root"].to_numpy() == row.root]
    ids = members["post_id"].to_numpy(np.int64)
    parent_ids = members["parent"].to_numpy(np.int64)
    parent = np.where(parent_ids >= 0, np.searchsorted(ids, parent_ids), -1)
    rows = subtree_sample(parent, TREE_NODES, seed)
    local = np.full(len(ids), -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    sub_parent = np.where(parent[rows] >= 0, local[np.maximum(parent[rows], 0)], -1)
    labels = [a.label for a in Action]
    kinds = [labels[int(k)] if 0 <= int(k) < len(labels) else "post"
             for k in members["kind"].to_numpy()[rows]]
    return Tree(root=int(row.root), size=int(row.size), veracity=str(row.veracity),
                news=str(row.news), text=str(row.text), positions=tree_layout(sub_parent),
                parent=sub_parent, step=members["step"].to_numpy(np.int64)[rows], kind=kinds,
                sampled=len(rows) < len(ids))


# -- moderation, LLM ---------------------------------------------------------------------


def _labels(run: Run) -> pd.DataFrame:
    """Labels applied per step, label kind and source."""
    return run.reader.query("SELECT step, label, source, COUNT(*) AS n FROM labels "
                            "GROUP BY step, label, source ORDER BY step")


def _reasons(run: Run, limit: int = 12) -> pd.DataFrame:
    """The first stated reasons (LLM agents explain their actions), with action names."""
    reasons = run.reader.query(
        "SELECT step, agent, action, reason FROM events WHERE reason IS NOT NULL "
        "AND reason <> '' ORDER BY rowid LIMIT ?", (limit,))
    labels = [a.label for a in Action]
    reasons["action"] = [labels[int(a)] if 0 <= int(a) < len(labels) else str(a)
                         for a in reasons["action"]]
    return reasons


def llm_usage(run: Run, seed: int = 0) -> LlmUsage | None:
    """Per-step calls, cost, tokens and fallbacks of an LLM run; None if unreadable."""
    reader = run.reader
    try:
        cols = set(reader.column_types("llm_calls"))
        have = {c for c in ("cache_hit", "cost", "prompt_tokens", "completion_tokens",
                            "fallback") if c in cols}
        sums = ", ".join(f"SUM(\"{c}\") AS \"{c}\"" for c in sorted(have))
        faults = "SUM(fault IS NOT NULL) AS faults" if "fault" in cols else "0 AS faults"
        per_step = reader.query(f"SELECT step, COUNT(*) AS calls, {faults}"
                                f"{', ' + sums if sums else ''} FROM llm_calls "
                                "GROUP BY step ORDER BY step")
        where = "WHERE cache_hit = 0" if "cache_hit" in cols else ""
        latency = (reader.query(f"SELECT step, latency_ms FROM llm_calls {where}")
                   if "latency_ms" in cols else pd.DataFrame(columns=["step", "latency_ms"]))
        latency = latency.iloc[downsample(len(latency), MAX_POINTS, seed)]
        fault_table = (reader.query("SELECT fault, COUNT(*) AS calls FROM llm_calls WHERE "
                                    "fault IS NOT NULL GROUP BY fault ORDER BY calls DESC")
                       if "fault" in cols else pd.DataFrame(columns=["fault", "calls"]))
        group = [c for c in ("model", "purpose") if c in cols]
        by_model = pd.DataFrame()
        if group:
            keys = ", ".join(group)
            extra = (", SUM(cost) AS cost" if "cost" in cols else "") + (
                ", AVG(latency_ms) AS mean_latency_ms" if "latency_ms" in cols else "")
            by_model = reader.query(f"SELECT {keys}, COUNT(*) AS calls{extra} FROM llm_calls "
                                    f"GROUP BY {keys} ORDER BY calls DESC")
    except StoreError:
        return None
    if per_step.empty:
        return None
    return LlmUsage(per_step=per_step, latency=latency, faults=fault_table, by_model=by_model)


# -- network ------------------------------------------------------------------------------


def network(run: Run, topic: str | None, topics: list[str], seed: int) -> Network | None:
    """A snowball sample of the follow graph, laid out, coloured by final attitude."""
    batches = [np.array(batch, dtype=np.int64)[:, :2] for batch in run.reader.iter_rows("edges")]
    if not batches:
        return None
    pairs = np.concatenate(batches)
    src, dst = pairs[:, 0], pairs[:, 1]
    n = int(run.meta().get("n_agents") or 0)
    n = max(n, int(max(src.max(), dst.max())) + 1)
    attitude = np.full(n, np.nan)
    if topic is not None:
        code = topics.index(topic) if topic in topics else 0
        final = run.reader.query(
            "SELECT agent, value FROM attitudes WHERE topic = ? AND step = "
            "(SELECT MAX(step) FROM attitudes WHERE topic = ?)", (code, code))
        agents = final["agent"].to_numpy(np.int64)
        ok = (agents >= 0) & (agents < n)
        attitude[agents[ok]] = final["value"].to_numpy(float)[ok]
    known = ~np.isnan(attitude)
    sample = graph_sample(src, dst, n, limit=NETWORK_NODES, seed=seed,
                          known=known if known.any() else None)
    positions = force_layout(sample.src, sample.dst, len(sample.nodes), seed=seed)
    values, recorded = attitude[sample.nodes], int(known[sample.nodes].sum())
    coloured_by = "attitude"
    if recorded < MOSTLY_RECORDED * len(sample.nodes):  # snapshots sample too few of them
        leaning = _leanings(run, n)
        if np.isfinite(leaning[sample.nodes]).any():
            values, coloured_by = leaning[sample.nodes], "leaning"
    return Network(positions=positions, src=sample.src, dst=sample.dst, agents=sample.nodes,
                   attitude=values, topic=topic or "", total_nodes=n,
                   total_edges=sample.total_edges, coloured_by=coloured_by, recorded=recorded)


MOSTLY_RECORDED = 0.5
"""Below this share of drawn agents with a recorded attitude, nodes show their leaning."""


def _leanings(run: Run, n: int) -> np.ndarray:
    """Every agent's persona leaning (stored for all agents), NaN where missing."""
    out = np.full(n, np.nan)
    try:
        frame = run.reader.query("SELECT agent, leaning FROM agents")
    except StoreError:
        return out
    agents = frame["agent"].to_numpy(np.int64)
    ok = (agents >= 0) & (agents < n)
    out[agents[ok]] = frame["leaning"].to_numpy(float)[ok]
    return out
