"""The independent-cascade generator against theory, and its output in the recorded format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from townsquare.experiments.cascade_generator import independent_cascades
from townsquare.experiments.recorded import compare_cascades, read_recorded


def test_a_star_s_cascades_have_binomial_size() -> None:
    k, p, roots = 20, 0.15, 2000
    follower, followee = np.arange(1, k + 1), np.zeros(k, np.int64)  # 20 follow account 0
    frame = independent_cascades(follower, followee, [(0, 0)] * roots, p, max_steps=5, rng=1)
    sizes = frame.groupby("cascade_id").size().to_numpy()
    mean, sd = 1 + k * p, np.sqrt(k * p * (1 - p))
    assert abs(sizes.mean() - mean) < 4 * sd / np.sqrt(roots)
    assert sizes.std() == pytest.approx(sd, rel=0.1)


def test_a_chain_spreads_one_hop_per_step_with_geometric_depth() -> None:
    n, p, roots = 30, 0.5, 3000
    follower, followee = np.arange(1, n), np.arange(0, n - 1)  # i + 1 follows i
    frame = independent_cascades(follower, followee, [(0, 0)] * roots, p, max_steps=50, rng=2)
    shares = frame[frame["parent_post_id"] != ""]
    parent_step = frame.set_index("post_id").loc[shares["parent_post_id"].astype(int), "step"]
    assert (shares["step"].to_numpy() == parent_step.to_numpy() + 1).all()  # one step a hop
    depth = frame.groupby("cascade_id").size().to_numpy() - 1
    assert abs(depth.mean() - p / (1 - p)) < 4 * np.sqrt(p) / (1 - p) / np.sqrt(roots)


def test_output_is_a_valid_recording(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    follower, followee = rng.integers(0, 200, 2000), rng.integers(0, 200, 2000)
    keep = follower != followee
    frame = independent_cascades(follower[keep], followee[keep], [(5, 0), (9, 2)], 0.2,
                                 max_steps=10, rng=4)
    path = tmp_path / "recorded.csv"
    frame.to_csv(path, index=False)
    posts = read_recorded(path)
    assert len(posts) == len(frame) and (posts["parent"] == -1).sum() == 2
    same = compare_cascades(posts, posts)
    assert (same["ks_statistic"] == 0).all()
    with pytest.raises(ValueError, match="p must lie"):
        independent_cascades(follower, followee, [(0, 0)], 1.5, max_steps=3)
