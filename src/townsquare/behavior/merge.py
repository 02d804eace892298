"""One decision from two made for disjoint agents of the same step.

A hybrid population (some agents LLM-driven, the rest heuristic) and an LLM
behaviour whose failed agents fall back to the heuristic both end a step with
two decisions; the platform applies one.
"""

from __future__ import annotations

import numpy as np

from townsquare.core.actions import ActionBatch
from townsquare.core.behavior import Decision, Observation


def merge(obs: Observation, first: Decision, second: Decision) -> Decision:
    """One decision from two over disjoint agents; missing state comes from ``obs.state``."""
    state = obs.state
    parts = [d for d in (first, second) if len(d.updated)]

    def stack(name: str, current: np.ndarray) -> np.ndarray:
        return np.concatenate([
            getattr(d, name) if getattr(d, name) is not None else current[d.updated]
            for d in parts
        ]).astype(np.float32, copy=False)

    actions = ActionBatch.concat([first.actions, second.actions])
    if not parts:
        return Decision(actions=actions, fallbacks=first.fallbacks + second.fallbacks)
    has_belief = state.belief.shape[1] > 0
    return Decision(
        actions=actions,
        updated=np.concatenate([d.updated for d in parts]).astype(np.int64),
        attitude=stack("attitude", state.attitude),
        valence=stack("valence", state.valence),
        arousal=stack("arousal", state.arousal),
        belief=stack("belief", state.belief) if has_belief else None,
        fallbacks=first.fallbacks + second.fallbacks,
    )
