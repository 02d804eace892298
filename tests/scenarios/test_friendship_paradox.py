"""GABM: the friendship paradox holds on the grown network, and weak ties drive it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scenario_replicates import replicate, summary_of

from statcheck import paired_ci


def test_paradox_holds_and_is_stronger_on_weak_ties(tmp_path: Path) -> None:
    keys = ("friendship_paradox_share", "paradox_weak_ties", "paradox_strong_ties")
    values = replicate("friendship-paradox", {"grown": {}}, range(1, 7), summary_of(*keys),
                       tmp_path)["grown"]
    share, weak, strong = values.T
    assert paired_ci(share, np.full(len(share), 0.5))[1] > 0  # most agents are outnumbered
    mean, low, high = paired_ci(weak, strong)
    assert low > 0, (mean, low, high)
