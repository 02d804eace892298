"""Cascades: the trees of reposts, quotes and comments that grow from each original post.

A cascade is every post that shares one root, with edges parent -> child. All
measures work on the whole posts table at once: parent links are resolved by
pointer jumping (O(n log depth)), subtree sizes by one vectorized pass per depth
level, and per-cascade reductions by sorting, so a table of millions of posts is
measured without a Python loop per post.

The posts table (a DataFrame or a mapping of column arrays) has the columns of
the run database: ``post_id``, ``parent`` (-1 or missing for an original),
``step`` and ``author`` are required; ``root``, where given, is checked against
the parent links; ``veracity`` (0 unverified, 1 true, 2 false) and ``news``
(-1 for none) default to 0 and -1 when absent or missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from townsquare.environments.social.content import Veracity
from townsquare.errors import DataError

PostsLike: TypeAlias = pd.DataFrame | Mapping[str, Any]

_POSTS = "posts table"
_EXPOSURES = "exposures table"


# -- input -------------------------------------------------------------------------------


def _length(table: PostsLike) -> int:
    if isinstance(table, pd.DataFrame):
        return len(table)
    return len(np.asarray(next(iter(table.values())))) if len(table) else 0


def _column(table: PostsLike, name: str, source: str, default: int | None = None) -> np.ndarray:
    """One integer column; a column with a default may be absent or have missing values."""
    if name not in table:
        if default is None:
            raise DataError(source, f"missing required column {name!r}")
        return np.full(_length(table), default, dtype=np.int64)
    raw = np.asarray(table[name])
    if raw.dtype.kind in "iu":
        return raw.astype(np.int64, copy=False)
    try:
        values = pd.Series(raw).astype("Float64").to_numpy(np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError(source, f"column {name!r} must hold integers, got {raw.dtype}") from None
    if default is not None:
        values[np.isnan(values)] = default
    bad = np.flatnonzero(~np.isfinite(values) | (values % 1 != 0))
    if len(bad):
        value = raw[bad[0]]
        value = value.item() if isinstance(value, np.generic) else value
        raise DataError(source, f"column {name!r} must hold integers; row {bad[0]} has {value!r}")
    return values.astype(np.int64)


def _lookup(sorted_ids: np.ndarray, order: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row index of each wanted id, or -1 where it is not in the table."""
    if len(sorted_ids) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_ids, wanted), len(sorted_ids) - 1)
    return np.where(sorted_ids[pos] == wanted, order[pos], -1)


@dataclass(frozen=True)
class _Forest:
    """The posts table resolved into trees (row indices, not post ids)."""

    post_id: np.ndarray  # (n,) ids as given
    parent: np.ndarray  # (n,) parent row, -1 for roots
    tree: np.ndarray  # (n,) cascade number 0..R-1, numbered by root row
    depth: np.ndarray  # (n,) distance to the root
    roots: np.ndarray  # (R,) row of each cascade's root

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.tree, minlength=len(self.roots))

    def row_of(self, ids: np.ndarray) -> np.ndarray:
        order = np.argsort(self.post_id, kind="stable")
        return _lookup(self.post_id[order], order, ids)


def _forest(posts: PostsLike) -> _Forest:
    """Resolve parent links to rows, roots and depths; reject broken tables."""
    post_id = _column(posts, "post_id", _POSTS)
    parent_id = _column(posts, "parent", _POSTS, default=-1)
    n = len(post_id)
    order = np.argsort(post_id, kind="stable")
    sorted_ids = post_id[order]
    dup = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if len(dup):
        raise DataError(_POSTS, f"post_id {sorted_ids[dup[0]]} appears more than once")
    has_parent = parent_id != -1
    parent = np.full(n, -1, dtype=np.int64)
    parent[has_parent] = _lookup(sorted_ids, order, parent_id[has_parent])
    missing = np.flatnonzero(has_parent & (parent < 0))
    if len(missing):
        i = missing[0]
        raise DataError(
            _POSTS, f"post {post_id[i]} has parent {parent_id[i]}, which is not in the table"
        )

    # Pointer jumping: anc[i] climbs 1, 2, 4, ... levels; dist[i] counts the levels climbed.
    rows = np.arange(n, dtype=np.int64)
    is_root = ~has_parent
    anc = np.where(is_root, rows, parent)
    dist = has_parent.astype(np.int64)
    for _ in range(max(1, int(n).bit_length()) + 1):
        if is_root[anc].all():
            break
        dist = dist + dist[anc]
        anc = anc[anc]
    stuck = np.flatnonzero(~is_root[anc])
    if len(stuck):
        raise DataError(_POSTS, f"post {post_id[stuck[0]]} is on or below a cycle of parent links")

    roots = np.flatnonzero(is_root)
    tree = np.searchsorted(roots, anc)
    if "root" in posts:
        given = _column(posts, "root", _POSTS, default=-1)  # -1 or missing: not checked
        wrong = np.flatnonzero((given != post_id[anc]) & (given != -1))
        if len(wrong):
            i = wrong[0]
            raise DataError(
                _POSTS,
                f"post {post_id[i]} has root {given[i]} but its parent links lead to "
                f"{post_id[anc[i]]}",
            )
    return _Forest(post_id=post_id, parent=parent, tree=tree, depth=dist, roots=roots)


def _group_starts(sizes: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)


def _count_distinct(group: np.ndarray, values: np.ndarray, ngroups: int) -> np.ndarray:
    """Number of distinct values in each group (groups 0..ngroups-1)."""
    if len(group) == 0:
        return np.zeros(ngroups, dtype=np.int64)
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    first = np.concatenate(([True], (g[1:] != g[:-1]) | (v[1:] != v[:-1])))
    return np.bincount(g[first], minlength=ngroups)


# -- structure ---------------------------------------------------------------------------


def _subtree_sizes(forest: _Forest) -> np.ndarray:
    """Number of posts in each post's subtree (itself included), bottom-up by level."""
    n = len(forest.parent)
    size = np.ones(n, dtype=np.int64)
    if n == 0:
        return size
    by_depth = np.argsort(forest.depth, kind="stable")
    bounds = np.searchsorted(forest.depth[by_depth], np.arange(forest.depth.max() + 2))
    for level in range(len(bounds) - 2, 0, -1):
        rows = by_depth[bounds[level] : bounds[level + 1]]
        np.add.at(size, forest.parent[rows], size[rows])
    return size


def _structural_virality(forest: _Forest, sizes: np.ndarray) -> np.ndarray:
    """Mean distance between all pairs of posts in each tree (Wiener index / pairs)."""
    sub = _subtree_sizes(forest)
    child = forest.parent >= 0
    tree = forest.tree[child]
    # Each edge above a subtree of s posts in a tree of N lies on s * (N - s) shortest paths.
    s = sub[child].astype(np.float64)
    wiener = np.bincount(tree, weights=s * (sizes[tree] - s), minlength=len(sizes))
    pairs = sizes * (sizes - 1.0) / 2.0
    return np.divide(wiener, pairs, out=np.zeros(len(sizes)), where=pairs > 0)


def cascade_table(posts: PostsLike) -> pd.DataFrame:
    """One row per cascade with its size, shape, speed and the news it carries.

    Parameters
    ----------
    posts
        Posts table with ``post_id``, ``parent``, ``step``, ``author`` and
        optionally ``root``, ``veracity``, ``news``.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``root`` (the post id of the original), with columns ``size``
        (posts in the tree, root included), ``depth`` (largest distance from the
        root), ``max_breadth`` (most posts at one depth, the root level counting
        as 1), ``structural_virality``, ``unique_users`` (distinct authors),
        ``first_step``, ``last_step``, ``duration`` (last - first) and the
        root's ``veracity`` and ``news``.

    Notes
    -----
    Size, depth and maximum breadth follow Vosoughi, Roy & Aral (2018), "The
    spread of true and false news online", Science 359:1146. Structural
    virality is the average shortest-path distance between all pairs of nodes
    of the undirected tree (Goel, Anderson, Hofman & Watts 2016, "The structural
    virality of online diffusion", Management Science 62:180), 0 for a single
    post. It is computed as the Wiener index, the sum over edges of
    ``s * (N - s)`` where ``s`` is the size of the subtree below the edge
    (Wiener 1947), divided by ``N (N - 1) / 2``.

    Raises
    ------
    townsquare.errors.DataError
        On a missing column, a duplicated post id, a parent that is not in the
        table, a cycle of parent links, or a ``root`` that contradicts the links.
    """
    forest = _forest(posts)
    step = _column(posts, "step", _POSTS)
    author = _column(posts, "author", _POSTS)
    veracity = _column(posts, "veracity", _POSTS, default=0)
    news = _column(posts, "news", _POSTS, default=-1)
    sizes = forest.sizes
    ntrees = len(forest.roots)
    order = np.argsort(forest.tree, kind="stable")
    starts = _group_starts(sizes)

    def per_tree(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        return ufunc.reduceat(values[order], starts) if ntrees else values[:0]

    depth = per_tree(np.maximum, forest.depth)
    level_key = forest.tree * (int(forest.depth.max(initial=0)) + 1) + forest.depth
    keys, breadth = np.unique(level_key, return_counts=True)
    max_breadth = np.zeros(ntrees, dtype=np.int64)
    np.maximum.at(max_breadth, keys // (int(forest.depth.max(initial=0)) + 1), breadth)
    first, last = per_tree(np.minimum, step), per_tree(np.maximum, step)
    return pd.DataFrame(
        {
            "root": forest.post_id[forest.roots],
            "size": sizes,
            "depth": depth,
            "max_breadth": max_breadth,
            "structural_virality": _structural_virality(forest, sizes),
            "unique_users": _count_distinct(forest.tree, author, ntrees),
            "first_step": first,
            "last_step": last,
            "duration": last - first,
            "veracity": veracity[forest.roots],
            "news": news[forest.roots],
        }
    ).sort_values("root", ignore_index=True)


# -- speed and reach ---------------------------------------------------------------------


def time_to_reach(posts: PostsLike, sizes: Sequence[int] = (10, 100, 1000)) -> pd.DataFrame:
    """Steps from each original post until its cascade first counted N posts.

    Parameters
    ----------
    posts
        Posts table (``post_id``, ``parent``, ``step``).
    sizes
        Cascade sizes N to time (root included, so N=1 gives 0).

    Returns
    -------
    pandas.DataFrame
        One row per cascade sorted by ``root``, with a column ``time_to_<N>``
        for each N: the step of the N-th post (in step order) minus the root's
        step, NaN if the cascade never reached N posts (Vosoughi et al. 2018).
    """
    if any(int(k) < 1 for k in sizes):
        raise ValueError(f"sizes must be positive, got {list(sizes)}")
    forest = _forest(posts)
    step = _column(posts, "step", _POSTS)
    counts = forest.sizes
    order = np.lexsort((step, forest.tree))
    ordered_steps = step[order]
    starts = _group_starts(counts)
    root_step = step[forest.roots].astype(np.float64)
    out = {"root": forest.post_id[forest.roots]}
    for k in sizes:
        k = int(k)
        reached = counts >= k
        t = np.full(len(counts), np.nan)
        t[reached] = ordered_steps[starts[reached] + k - 1] - root_step[reached]
        out[f"time_to_{k}"] = t
    return pd.DataFrame(out).sort_values("root", ignore_index=True)


def reach_by_veracity(posts: PostsLike, exposures: PostsLike | None = None) -> pd.DataFrame:
    """How far false, true and unverified items travel, and the false/true ratio.

    Parameters
    ----------
    posts
        Posts table (``post_id``, ``parent``, ``step``, ``author``, ``veracity``).
        A cascade's veracity is its root's.
    exposures
        Optional table of times posts were shown, with the post in ``post_id``
        (or ``post``, as in the run database), an optional ``count`` of
        showings per row (default 1) and an optional ``agent`` who saw it.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unverified``, ``true``, ``false`` and a last row
        ``false/true`` holding the ratio of the false row to the true row (NaN
        where the true value is 0). Columns: ``cascades``, ``posts`` (all posts
        in those cascades), ``unique_users`` (distinct authors), ``mean_size``,
        ``max_size`` and, with exposures, ``exposures`` (total showings) and, when
        they name the agent, ``unique_viewers``.

    Notes
    -----
    The comparison of false and true news by cascade size and unique users
    reached follows Vosoughi, Roy & Aral (2018), Science 359:1146.
    """
    forest = _forest(posts)
    author = _column(posts, "author", _POSTS)
    veracity = _column(posts, "veracity", _POSTS, default=0)
    classes = np.array([int(v) for v in Veracity])
    bad = np.flatnonzero(~np.isin(veracity, classes))
    if len(bad):
        raise DataError(
            _POSTS,
            f"post {forest.post_id[bad[0]]} has veracity {veracity[bad[0]]}; "
            f"expected one of {classes.tolist()}",
        )
    ncls = len(classes)
    cls_of_tree = veracity[forest.roots]
    cls_of_post = cls_of_tree[forest.tree]
    sizes = forest.sizes
    cascades = np.bincount(cls_of_tree, minlength=ncls)
    total = np.bincount(cls_of_tree, weights=sizes, minlength=ncls)
    max_size = np.zeros(ncls, dtype=np.int64)
    np.maximum.at(max_size, cls_of_tree, sizes)
    columns: dict[str, np.ndarray] = {
        "cascades": cascades,
        "posts": total.astype(np.int64),
        "unique_users": _count_distinct(cls_of_post, author, ncls),
        "mean_size": np.divide(total, cascades, out=np.full(ncls, np.nan), where=cascades > 0),
        "max_size": max_size,
    }
    if exposures is not None:
        key = next((k for k in ("post_id", "post") if k in exposures), None)
        if key is None:
            raise DataError(_EXPOSURES, "missing required column 'post_id' (or 'post')")
        seen = _column(exposures, key, _EXPOSURES)
        count = _column(exposures, "count", _EXPOSURES, default=1)
        rows = forest.row_of(seen)
        unknown = np.flatnonzero(rows < 0)
        if len(unknown):
            raise DataError(
                _EXPOSURES, f"row {unknown[0]}: post {seen[unknown[0]]} is not in the posts table"
            )
        cls_seen = cls_of_post[rows]
        columns["exposures"] = np.bincount(cls_seen, weights=count, minlength=ncls)
        if "agent" in exposures:
            agent = _column(exposures, "agent", _EXPOSURES)
            columns["unique_viewers"] = _count_distinct(cls_seen, agent, ncls)
    names = [v.name.lower() for v in Veracity]
    table = pd.DataFrame(columns, index=pd.Index(names, name="veracity")).astype(float)
    false, true = table.loc["false"], table.loc["true"]
    table.loc["false/true"] = (false / true.where(true != 0)).to_numpy()
    return table


def cascade_size_distribution(table: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    """Empirical distribution of cascade sizes for log-log plots.

    Parameters
    ----------
    table
        The output of :func:`cascade_table`, or an array of sizes.

    Returns
    -------
    pandas.DataFrame
        Columns ``size`` (ascending, each observed size once), ``count`` and
        ``ccdf`` = P(S >= size), the complementary CDF used to show heavy tails
        (Clauset, Shalizi & Newman 2009, SIAM Review 51:661).
    """
    sizes = np.asarray(table["size"] if isinstance(table, pd.DataFrame) else table)
    values, counts = np.unique(sizes, return_counts=True)
    at_least = np.cumsum(counts[::-1])[::-1]
    total = max(len(sizes), 1)
    return pd.DataFrame({"size": values, "count": counts, "ccdf": at_least / total})
