"""Recorded cascades (digital cloning): read them, and compare simulated ones with them.

Recorded data come as two files:

* an **edge list** (any format :func:`townsquare.network.io.read_edgelist`
  reads), one ``follower,followee`` pair per line;
* a **cascades CSV** with one row per post and the columns ``cascade_id``,
  ``post_id``, ``parent_post_id`` (empty or ``-1`` for the cascade's root),
  ``user`` (an id of the edge list) and ``step`` (an integer time step), plus
  an optional ``text`` (used for the root).

Simulated and recorded cascades are compared on four distributions: cascade
``size`` (posts, root included), ``depth`` (longest reshare chain),
``duration`` (steps from the root to the last reshare) and ``delay`` (steps
from the root to each reshare), each with the two-sample Kolmogorov–Smirnov
statistic and the Wasserstein (earth mover's) distance. Only shares (reposts
and quotes) count as propagation; comments are left out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from townsquare.core.actions import Action
from townsquare.errors import DataError
from townsquare.measure.cascades import cascade_table

REQUIRED = ("cascade_id", "post_id", "parent_post_id", "user", "step")
MEASURES = ("size", "depth", "duration", "delay")
_SHARING = (Action.POST, Action.REPOST, Action.QUOTE)


# -- reading recorded cascades ------------------------------------------------------------


def read_cascades(path: str | Path) -> pd.DataFrame:
    """Load and check a recorded cascades CSV (see module docstring).

    Ids are kept as text. Returns the rows with the columns of the file plus
    ``row`` (0-based position) and ``parent_row`` (the parent's row, -1 for a
    root). Raises :class:`~townsquare.errors.DataError` naming the line of the
    first bad record: a missing column, a step that is not a non-negative
    integer, a repeated post id, a parent that is not in the same cascade, a
    reshare earlier than its parent, or a cascade without exactly one root.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(path, "the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(path, f"cannot be parsed: {str(exc).splitlines()[0]}") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(path, f"missing required column(s): {', '.join(missing)}", line=1)
    if frame.empty:
        raise DataError(path, "has no cascade rows")
    for column in REQUIRED:
        frame[column] = frame[column].str.strip()
    _check_cascades(path, frame)
    return frame


def _check_cascades(path: Path, frame: pd.DataFrame) -> None:
    def fail(rows: np.ndarray, message: str) -> None:
        row = int(rows[0])
        raise DataError(path, message.format(**frame.iloc[row].to_dict()), line=row + 2)

    step = pd.to_numeric(frame["step"], errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(step) | (step < 0) | (step % 1 != 0))
    if len(bad):
        fail(bad, "step {step!r} is not a non-negative integer")
    frame["step"] = step.astype(np.int64)
    for column in ("cascade_id", "post_id", "user"):
        empty = np.flatnonzero(frame[column].to_numpy() == "")
        if len(empty):
            fail(empty, f"empty {column}")
    repeated = np.flatnonzero(frame["post_id"].duplicated().to_numpy())
    if len(repeated):
        fail(repeated, "post_id {post_id!r} appears more than once")
    is_root = frame["parent_post_id"].isin(["", "-1"]).to_numpy()
    index = pd.Series(np.arange(len(frame)), index=frame["post_id"])
    parent_row = np.full(len(frame), -1, np.int64)
    parent_row[~is_root] = index.reindex(frame["parent_post_id"][~is_root]).fillna(-1).to_numpy()
    orphan = np.flatnonzero(~is_root & (parent_row < 0))
    if len(orphan):
        fail(orphan, "parent_post_id {parent_post_id!r} is not a post of the file")
    cascade = frame["cascade_id"].to_numpy()
    has_parent = np.flatnonzero(parent_row >= 0)
    foreign = has_parent[cascade[parent_row[has_parent]] != cascade[has_parent]]
    if len(foreign):
        fail(foreign, "parent_post_id {parent_post_id!r} belongs to another cascade")
    early = has_parent[frame["step"].to_numpy()[parent_row[has_parent]]
                       > frame["step"].to_numpy()[has_parent]]
    if len(early):
        fail(early, "post {post_id!r} (step {step}) is earlier than its parent")
    roots = pd.Series(is_root).groupby(cascade).sum()
    wrong = roots[roots != 1]
    if len(wrong):
        first = np.flatnonzero(cascade == wrong.index[0])
        fail(first, f"cascade {{cascade_id!r}} has {int(wrong.iloc[0])} roots; expected one")
    frame["row"] = np.arange(len(frame))
    frame["parent_row"] = parent_row


# -- measures and comparison ----------------------------------------------------------------


def cascade_measures(cascades: pd.DataFrame) -> dict[str, np.ndarray]:
    """Size, depth and duration per cascade and the delay of every reshare.

    ``cascades`` has the columns of :func:`read_cascades` (``row``,
    ``parent_row``, ``step``), as does :func:`simulated_cascades`.
    """
    if cascades.empty:
        return {m: np.empty(0) for m in MEASURES}
    table = cascade_table({
        "post_id": cascades["row"].to_numpy(np.int64),
        "parent": cascades["parent_row"].to_numpy(np.int64),
        "step": cascades["step"].to_numpy(np.int64),
        "author": np.zeros(len(cascades), np.int64),
    })
    step = cascades["step"].to_numpy(np.int64)
    root_step = pd.Series(step[table["root"].to_numpy()], index=table["root"].to_numpy())
    root_of = _root_rows(cascades["parent_row"].to_numpy(np.int64))
    shares = cascades["parent_row"].to_numpy() >= 0
    delay = step[shares] - root_step.reindex(root_of[shares]).to_numpy()
    return {
        "size": table["size"].to_numpy(np.float64),
        "depth": table["depth"].to_numpy(np.float64),
        "duration": (table["last_step"] - table["first_step"]).to_numpy(np.float64),
        "delay": delay.astype(np.float64),
    }


def _root_rows(parent: np.ndarray) -> np.ndarray:
    """Root row of every row, by pointer jumping over parent rows."""
    rows = np.arange(len(parent))
    anc = np.where(parent >= 0, parent, rows)
    while True:
        nxt = anc[anc]
        if np.array_equal(nxt, anc):
            return anc
        anc = nxt


def simulated_cascades(posts: pd.DataFrame) -> pd.DataFrame:
    """The cascades of seeded news posts in a run's posts table, in the recorded format.

    Roots are original posts carrying a news item; members are the reposts
    and quotes below them (comments are not propagation).
    """
    kind = posts["kind"]
    if not pd.api.types.is_integer_dtype(kind):
        kind = kind.astype(str).map({a.label: int(a) for a in Action})
    kind = kind.to_numpy(np.int64)
    sharing = np.isin(kind, [int(a) for a in _SHARING])
    roots = (kind == Action.POST) & (posts["parent"].to_numpy() < 0) & (posts["news"] >= 0)
    root_ids = posts["post_id"].to_numpy()[roots.to_numpy()]
    keep = sharing & np.isin(posts["root"].to_numpy(), root_ids)
    chosen = posts.loc[keep].sort_values("post_id")
    ids = chosen["post_id"].to_numpy(np.int64)
    parent = chosen["parent"].to_numpy(np.int64)
    row_of = pd.Series(np.arange(len(ids)), index=ids)
    parent_row = np.where(parent >= 0, row_of.reindex(parent).fillna(-1).to_numpy(), -1)
    return pd.DataFrame({
        "cascade_id": chosen["root"].to_numpy(np.int64).astype(str),
        "post_id": ids.astype(str),
        "parent_post_id": np.where(parent >= 0, parent.astype(str), ""),
        "user": chosen["author"].to_numpy(np.int64).astype(str),
        "step": chosen["step"].to_numpy(np.int64),
        "row": np.arange(len(ids)),
        "parent_row": parent_row.astype(np.int64),
    })


def compare_posts(posts: pd.DataFrame, recorded: pd.DataFrame) -> pd.DataFrame:
    """Distances between a run's seeded cascades and recorded ones, one row per measure.

    Columns: ``recorded_n``, ``simulated_n``, ``recorded_mean``,
    ``simulated_mean``, ``ks`` (two-sample Kolmogorov–Smirnov statistic, the
    largest gap between the two empirical CDFs), ``ks_pvalue`` and
    ``wasserstein`` (in the measure's own units). NaN where a side is empty.
    """
    simulated = cascade_measures(simulated_cascades(posts))
    observed = cascade_measures(recorded)
    rows = {}
    for name in MEASURES:
        a, b = observed[name], simulated[name]
        both = len(a) > 0 and len(b) > 0
        test = stats.ks_2samp(a, b, method="asymp") if both else None
        rows[name] = {
            "recorded_n": len(a),
            "simulated_n": len(b),
            "recorded_mean": float(a.mean()) if len(a) else np.nan,
            "simulated_mean": float(b.mean()) if len(b) else np.nan,
            "ks": float(test.statistic) if test is not None else np.nan,
            "ks_pvalue": float(test.pvalue) if test is not None else np.nan,
            "wasserstein": float(stats.wasserstein_distance(a, b)) if both else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("measure")
