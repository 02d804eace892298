"""The headline numbers of a finished run, read from its store (plus final state)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import townsquare.environments.builtin  # noqa: F401  (the built-ins register their metric kinds)
from townsquare.behavior.llm import records as _llm_records  # noqa: F401  (the llm_* kinds)
from townsquare.core.actions import ENGAGEMENTS
from townsquare.core.metric import MetricKind, Reduce
from townsquare.core.registry import METRIC_KINDS, metric_kind
from townsquare.measure.cascades import cascade_table
from townsquare.measure.network_stats import paradox_by_tie_strength
from townsquare.store import PostgresRun, open_reader
from townsquare.store.tables import RunTables

if TYPE_CHECKING:
    import pandas as pd


def run_summary(run_dir: Path | PostgresRun, environment: Any) -> dict[str, float]:
    """Action totals, cascade shape, reach and the environment's final-state measures."""
    reader = open_reader(run_dir)  # a run folder, or a PostgreSQL run
    metrics = reader.metrics(wide=True)
    out = metric_summary(metrics)
    engagement = [f"n_{a.label}" for a in ENGAGEMENTS if f"n_{a.label}" in metrics]
    if engagement:
        out["total_engagement"] = float(metrics[engagement].to_numpy().sum())
    posts = _posts(reader, environment)
    if len(posts["post_id"]):
        cascades = cascade_table(posts)
        shared = cascades[cascades["size"] > 1]
        out["cascades"] = float(len(cascades))
        out["largest_cascade"] = float(cascades["size"].max())
        out["deepest_cascade"] = float(cascades["depth"].max())
        out["max_structural_virality"] = float(cascades["structural_virality"].max())
        out["share_cascades_unshared"] = float(1.0 - len(shared) / len(cascades))
    share = fallback_share(metrics)
    if share is not None:
        out["llm_fallback_share"] = share[2]
    out |= environment.summary()
    scenario = getattr(environment, "scenario", None)
    if scenario is not None:
        out |= _on_demand(reader, environment, scenario)
    return out


def metric_summary(metrics: pd.DataFrame) -> dict[str, float]:
    """The headline numbers each metric's registered kind makes of its values over steps."""
    by_kind: dict[str, list[str]] = {}
    for column in metrics.columns:
        kind = metric_kind(column)
        if kind is not None and kind.summary:
            by_kind.setdefault(kind.kind, []).append(column)
    out: dict[str, float] = {}
    for kind in METRIC_KINDS.values():  # kinds in their order, names in the kind's order
        columns = by_kind.get(kind.kind, [])
        for column in sorted(columns, key=kind.names.index) if kind.names else columns:
            out |= _summarised(kind, column, metrics[column])
    return out


def _summarised(kind: MetricKind, name: str, values: pd.Series) -> dict[str, float]:
    out = {}
    for summarised in kind.summary:
        value = _REDUCE[summarised.reduce](values)
        if value is None or (summarised.nonzero and not value):
            continue
        out[summarised.key_of(name)] = value
    return out


def _final(values: pd.Series) -> float | None:
    last = float(values.iloc[-1]) if len(values) else float("nan")
    return last if np.isfinite(last) else None


def _busy_median(values: pd.Series) -> float | None:
    busy = values > 0
    return float(values[busy].median()) if busy.any() else None


_REDUCE = {
    Reduce.TOTAL: lambda values: float(values.fillna(0).sum()),
    Reduce.FINAL: _final,
    Reduce.MEAN: lambda values: float(values.mean()) if len(values) else None,
    Reduce.MIN: lambda values: float(values.min()) if len(values) else None,
    Reduce.MAX: lambda values: float(values.max()) if len(values) else None,
    Reduce.BUSY_MEDIAN: _busy_median,
}


def same_measures(news: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Aggregate measures that equal one item's by definition: ``{"reach_false": "reach_rumour"}``.

    ``news`` holds each seeded item's (id, veracity). ``reach_false`` counts agents
    reached by any false item, so with a single false item it is that item's reach;
    summaries show such a pair once.
    """
    out = {}
    items = list(news)
    for veracity in ("false", "true"):
        ids = [item for item, kind in items if kind == veracity]
        if len(ids) == 1:
            for prefix in ("reach_", "sharers_"):
                out[f"{prefix}{veracity}"] = f"{prefix}{ids[0]}"
    return out


def merged_rows(summary: dict[str, Any], order: list[str],
                news: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(key, label) of the ``order`` measures to show, a pair equal by definition as one row.

    The first of the pair in ``order`` keeps its place, labelled with both names, the
    item's first (``reach rumour = reach false``); the other is dropped.
    """
    labels = {key: key.replace("_", " ") for key in order}
    dropped = set()
    for alias, item in same_measures(news).items():
        if alias in labels and item in labels and alias in summary and item in summary:
            first, second = sorted((alias, item), key=order.index)
            labels[first] = f"{item.replace('_', ' ')} = {alias.replace('_', ' ')}"
            dropped.add(second)
    return [(key, labels[key]) for key in order if key not in dropped]


def _posts(reader: Any, environment: Any) -> Any:
    """The posts' tree columns: from the environment's memory when it keeps them all.

    Reading tens of millions of posts back through SQLite costs gigabytes of
    Python objects; the content store holds the same rows as numpy columns.
    """
    content = getattr(environment, "content", None)
    # post ids are 0..n-1, so the largest id (one index lookup, where COUNT(*) would
    # read tens of millions of rows) tells whether the store has every post
    stored = reader.query("SELECT MAX(post_id) AS last FROM posts")["last"].iloc[0]
    if content is not None and len(content) and stored == stored and stored is not None \
            and len(content) == int(stored) + 1:  # (stored == stored: not NaN)
        return {"post_id": np.arange(len(content), dtype=np.int64), "parent": content.parent,
                "root": content.root, "step": content.step, "author": content.author,
                "kind": content.kind, "veracity": content.veracity, "news": content.news}
    return reader.query("SELECT post_id, parent, root, step, author, kind, veracity, news "
                        "FROM posts")


def fallback_share(metrics: Any) -> tuple[int, int, float] | None:
    """(LLM decisions, fallbacks, their share) over a run's metrics; None without decisions."""
    if "llm_decisions" not in metrics or "llm_fallback_total" not in metrics:
        return None
    decisions = int(metrics["llm_decisions"].fillna(0).sum())
    fallbacks = int(metrics["llm_fallback_total"].fillna(0).sum())
    if not decisions:
        return None
    return decisions, fallbacks, fallbacks / decisions


def _on_demand(reader: RunTables, environment: Any, scenario: Any) -> dict[str, float]:
    """Costlier measures, computed only when a scenario asks for them."""
    out: dict[str, float] = {}
    if {"paradox_weak_ties", "paradox_strong_ties"} & set(scenario.headline):
        src, dst = environment.graph.edges()
        out |= tie_strength_paradox(reader, src, dst, environment.n_agents)
    if scenario.recorded_cascades is not None:
        # scipy.stats loads only for a run compared with a recording
        from townsquare.measure.recorded_cascades import compare_posts, read_cascades

        table = compare_posts(reader.posts(), read_cascades(scenario.recorded_cascades))
        out |= {f"clone_ks_{m}": float(table.loc[m, "ks"]) for m in table.index}
    return out


def tie_strength_paradox(
    reader: RunTables, src: np.ndarray, dst: np.ndarray, n: int
) -> dict[str, float]:
    """The follower paradox split by tie strength on the final follow graph.

    A tie's strength is the number of the follower's likes, reposts, quotes
    and comments on the followee's posts during the run; weak ties are those
    at or below the median strength. ``paradox_weak_ties`` is the share of
    agents with a weak tie whose follower count is below the mean follower
    count of the accounts they follow weakly (counts in the whole graph, as in
    Bagrow, Danforth & Mitchell 2017, "Which friends are more popular than
    you?"); ``paradox_strong_ties`` likewise. ``paradox_weak_subgraph`` and
    ``paradox_strong_subgraph`` measure the paradox inside the subgraph of
    weak (strong) ties only (``paradox_by_tie_strength``).
    """
    weight = _tie_strength(reader, src, dst, n)
    split = paradox_by_tie_strength(src, dst, weight, n, directed=True)
    followers = np.bincount(dst, minlength=n)
    out = {}
    weak = weight <= split["threshold"]
    for name, ties, paradox in (("weak", weak, split["weak"]), ("strong", ~weak, split["strong"])):
        follows = np.bincount(src[ties], minlength=n)
        total = np.bincount(src[ties], weights=followers[dst[ties]], minlength=n)
        has = follows > 0
        below = followers[has] * follows[has] < total[has]
        out[f"paradox_{name}_ties"] = float(below.mean()) if has.any() else float("nan")
        out[f"paradox_{name}_subgraph"] = float(paradox["fraction_paradox"])
    out["weak_tie_share"] = float(split["weak_edges"] / max(len(src), 1))
    return out


def _tie_strength(reader: RunTables, src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """Interactions of each follower with each followee's posts (0 if none)."""
    codes = ", ".join(str(int(action)) for action in ENGAGEMENTS)
    pairs = reader.query(
        "SELECT e.agent AS src, p.author AS dst, COUNT(*) AS n FROM events e "
        f"JOIN posts p ON p.post_id = e.post WHERE e.action IN ({codes}) GROUP BY src, dst"
    )
    keys = np.asarray(pairs["src"], np.int64) * n + np.asarray(pairs["dst"], np.int64)
    order = np.argsort(keys)
    keys, counts = keys[order], np.asarray(pairs["n"], np.float64)[order]
    edge_keys = src.astype(np.int64) * n + dst
    if len(keys) == 0:
        return np.zeros(len(edge_keys))
    pos = np.minimum(np.searchsorted(keys, edge_keys), len(keys) - 1)
    return np.where(keys[pos] == edge_keys, counts[pos], 0.0)
