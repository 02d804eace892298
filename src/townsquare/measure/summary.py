"""The headline numbers of a finished run, read from its store (plus final state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from townsquare.measure.cascades import cascade_table
from townsquare.store import RunReader

_ACTION_TOTALS = ("post", "repost", "quote", "comment", "like", "flag", "follow", "unfollow")


def run_summary(run_dir: Path, environment: Any) -> dict[str, float]:
    """Action totals, cascade shape, reach and the environment's final-state measures."""
    reader = RunReader(run_dir)
    metrics = reader.metrics(wide=True)
    out: dict[str, float] = {}
    for action in _ACTION_TOTALS:
        column = f"n_{action}"
        if column in metrics and metrics[column].sum() > 0:
            out[f"total_{action}s"] = float(metrics[column].sum())
    posts = reader.query("SELECT post_id, parent, root, step, author, kind, veracity, news "
                         "FROM posts")
    if len(posts):
        cascades = cascade_table(posts)
        shared = cascades[cascades["size"] > 1]
        out["cascades"] = float(len(cascades))
        out["largest_cascade"] = float(cascades["size"].max())
        out["deepest_cascade"] = float(cascades["depth"].max())
        out["max_structural_virality"] = float(cascades["structural_virality"].max())
        out["share_cascades_unshared"] = float(1.0 - len(shared) / len(cascades))
    if len(metrics):
        last = metrics.iloc[-1]
        for column in metrics.columns:
            if column.startswith(("reach_", "believers_")) and np.isfinite(last[column]):
                out[column] = float(last[column])
    out |= environment.summary()
    return out
