"""Recorded cascades (real data) against simulated ones: size, depth and timing distributions.

The recorded format is a CSV with one row per post and the columns
``cascade_id``, ``post_id``, ``parent_post_id`` (empty for the post that
started the cascade), ``user`` and ``step`` (a number: simulation steps, or
any time unit — the comparison is only meaningful if both sides use the same
unit). Ids may be any text. Every cascade has exactly one root and every
parent lies in the same cascade.

:func:`compare_cascades` compares the two sets of cascades quantity by
quantity — size, depth, duration (last minus first step) and the delay of
every reshare after its root — with the two-sample Kolmogorov–Smirnov test
(shape of the whole distribution; a p-value) and the Wasserstein distance
(how far mass must move, in the quantity's own units) from scipy.stats.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from townsquare.errors import DataError
from townsquare.measure.cascades import cascade_table

RECORDED_COLUMNS = ("cascade_id", "post_id", "parent_post_id", "user", "step")
QUANTITIES = ("size", "depth", "duration", "delay")


def read_recorded(path: str | Path) -> pd.DataFrame:
    """Read and check a recorded-cascades CSV; returns a posts table for the measures.

    The result has integer ``post_id``, ``parent`` (-1 for roots), ``root``,
    ``author`` and a float ``step``. Problems raise :class:`DataError` naming
    the file and the line.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(path, f"cannot be read as CSV: {exc}") from None
    except pd.errors.EmptyDataError:
        raise DataError(path, "is empty; expected a header and one row per post") from None
    missing = [c for c in RECORDED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; the columns must be "
                        f"{', '.join(RECORDED_COLUMNS)}", line=1)
    return recorded_posts(frame, path)


def recorded_posts(frame: pd.DataFrame, source: str | Path = "recorded cascades") -> pd.DataFrame:
    """Turn a recorded-format frame (text ids) into a checked posts table."""
    line = np.arange(len(frame)) + 2  # the header is line 1
    ids = frame["post_id"].astype(str).str.strip()
    blank = np.flatnonzero((ids == "").to_numpy())
    if len(blank):
        raise DataError(source, "post_id is empty", line=int(line[blank[0]]))
    dup = np.flatnonzero(ids.duplicated().to_numpy())
    if len(dup):
        i = dup[0]
        raise DataError(source, f"post_id {ids.iloc[i]!r} appears twice", line=int(line[i]))
    steps = pd.to_numeric(frame["step"].astype(str).str.strip(), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(steps))
    if len(bad):
        raise DataError(source, f"step {frame['step'].iloc[bad[0]]!r} is not a number",
                        line=int(line[bad[0]]))
    codes = pd.Index(ids)
    parent_ids = frame["parent_post_id"].astype(str).str.strip()
    has_parent = (parent_ids != "").to_numpy()
    parent = np.full(len(frame), -1, dtype=np.int64)
    parent[has_parent] = codes.get_indexer(parent_ids[has_parent])
    unknown = np.flatnonzero(has_parent & (parent < 0))
    if len(unknown):
        i = unknown[0]
        raise DataError(source, f"parent_post_id {parent_ids.iloc[i]!r} is not a post_id in the "
                        "file", line=int(line[i]))
    cascade = frame["cascade_id"].astype(str).str.strip().to_numpy()
    crossing = np.flatnonzero(has_parent & (cascade != cascade[np.maximum(parent, 0)]))
    if len(crossing):
        i = crossing[0]
        raise DataError(source, f"post {ids.iloc[i]!r} is in cascade {cascade[i]!r} but its parent "
                        f"is in cascade {cascade[parent[i]]!r}", line=int(line[i]))
    roots_per = pd.Series(~has_parent).groupby(cascade).sum()
    wrong = roots_per[roots_per != 1]
    if len(wrong):
        name, count = wrong.index[0], int(wrong.iloc[0])
        raise DataError(source, f"cascade {name!r} has {count} posts without a parent_post_id; "
                        "each cascade needs exactly one root")
    root_of_cascade = pd.Series(np.arange(len(frame))[~has_parent], index=cascade[~has_parent])
    posts = pd.DataFrame({
        "post_id": np.arange(len(frame), dtype=np.int64),
        "parent": parent,
        "root": root_of_cascade.reindex(cascade).to_numpy(np.int64),
        "author": pd.factorize(frame["user"].astype(str))[0].astype(np.int64),
        "step": steps,
    })
    try:
        cascade_table(posts.assign(step=0))  # rejects cycles of parent links
    except DataError as exc:
        found = re.search(r"post (\d+)", str(exc))
        i = int(found.group(1)) if found else 0
        raise DataError(source, f"post {ids.iloc[i]!r} is on or below a cycle of parent links",
                        line=int(line[i])) from None
    return posts


def to_recorded(posts: pd.DataFrame) -> pd.DataFrame:
    """A run's posts table in the recorded format (e.g. to compare two runs, or to share)."""
    parent = posts["parent"].to_numpy()
    return pd.DataFrame({
        "cascade_id": posts["root"].to_numpy(),
        "post_id": posts["post_id"].to_numpy(),
        "parent_post_id": pd.Series(parent).where(parent >= 0).astype("Int64"),
        "user": posts["author"].to_numpy(),
        "step": posts["step"].to_numpy(),
    })


def cascade_samples(posts: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per-cascade size, depth and duration, and the per-reshare delay after the root."""
    table = cascade_table(posts[["post_id", "parent", "author"]].assign(step=0))
    step = posts["step"].to_numpy(np.float64)
    root_step = pd.Series(step, index=posts["post_id"].to_numpy()).reindex(
        posts["root"].to_numpy()).to_numpy()
    spans = pd.Series(step).groupby(posts["root"].to_numpy()).agg(["min", "max"])
    reshare = posts["parent"].to_numpy() >= 0
    return {
        "size": table["size"].to_numpy(np.float64),
        "depth": table["depth"].to_numpy(np.float64),
        "duration": (spans["max"] - spans["min"]).to_numpy(np.float64),
        "delay": (step - root_step)[reshare],
    }


def compare_cascades(simulated: pd.DataFrame, recorded: pd.DataFrame) -> pd.DataFrame:
    """KS test and Wasserstein distance between simulated and recorded cascade quantities.

    Both arguments are posts tables (``post_id``, ``parent``, ``root``,
    ``author``, ``step``). One row per quantity with the sample sizes and
    means of both sides.
    """
    sim, rec = cascade_samples(simulated), cascade_samples(recorded)
    rows = []
    for quantity in QUANTITIES:
        a, b = sim[quantity], rec[quantity]
        row = {"quantity": quantity, "n_simulated": len(a), "n_recorded": len(b),
               "mean_simulated": a.mean() if len(a) else np.nan,
               "mean_recorded": b.mean() if len(b) else np.nan,
               "ks_statistic": np.nan, "ks_pvalue": np.nan, "wasserstein": np.nan}
        if len(a) and len(b):
            ks = stats.ks_2samp(a, b)
            row |= {"ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue),
                    "wasserstein": float(stats.wasserstein_distance(a, b))}
        rows.append(row)
    return pd.DataFrame(rows)
