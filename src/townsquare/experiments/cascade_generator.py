"""Cascades from an independent process, to validate townsquare against data it did not make.

:func:`independent_cascades` runs the independent cascade model of Kempe,
Kleinberg & Tardos (2003) on a follow graph: a post is seen by its author's
followers, each of whom reshares it once, with probability ``p``, in the next
step; each reshare is seen by the resharer's followers in turn. It shares
nothing with townsquare's agents (no feeds, attitudes, roles or recommenders),
so a clone that matches its cascades matches them by calibration, not because
the recording and the simulation are the same model. The output is the
recorded-cascades format of :mod:`townsquare.experiments.recorded`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp


def independent_cascades(
    follower: np.ndarray,
    followee: np.ndarray,
    roots: Sequence[tuple[int, int]],
    p: float,
    *,
    max_steps: int,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """One cascade per ``(user, step)`` root; the rows of every post, in the recorded format.

    ``follower[i]`` follows ``followee[i]``. A user reshares a cascade at most once;
    a reshare's parent is the post (by a followee) it was first exposed to, the
    earliest one if several exposed it in the same step; nothing happens after
    ``max_steps``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    rng = np.random.default_rng(rng)
    follower, followee = np.asarray(follower, np.int64), np.asarray(followee, np.int64)
    n = int(max(follower.max(initial=-1), followee.max(initial=-1),
                max((u for u, _ in roots), default=-1))) + 1
    followers_of = sp.csr_array((np.ones(len(follower), np.int8), (followee, follower)),
                                shape=(n, n))
    indptr, indices = followers_of.indptr, followers_of.indices
    rows: list[tuple[int, int, int, int, int]] = []  # cascade, post, parent, user, step
    for cascade, (user, start) in enumerate(roots):
        post = len(rows)
        rows.append((cascade, post, -1, int(user), int(start)))
        reached = {int(user)}
        frontier = [(post, int(user))]
        for step in range(int(start) + 1, max_steps):
            if not frontier:
                break
            new = []
            for parent, author in frontier:
                audience = indices[indptr[author]:indptr[author + 1]]
                told = audience[rng.random(len(audience)) < p]
                for viewer in told.tolist():
                    if viewer not in reached:
                        reached.add(viewer)
                        new.append((len(rows), viewer))
                        rows.append((cascade, len(rows), parent, viewer, step))
            frontier = new
    frame = pd.DataFrame(rows, columns=["cascade_id", "post_id", "parent_post_id", "user",
                                        "step"])
    frame["parent_post_id"] = frame["parent_post_id"].map(lambda v: "" if v < 0 else str(v))
    return frame
