"""What voters see (an :class:`ElectionObservation`) and decide (a :class:`VoteDecision`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from townsquare.core.behavior import Observation

if TYPE_CHECKING:
    from townsquare.environments.election.heuristic import VoteModel


@dataclass
class ElectionObservation:
    """A step of the campaign: the platform's observation and who is asked for a vote."""

    step: int
    social: Observation
    asked: np.ndarray  # agents asked this step (poll respondents, or everyone on election day)
    election_day: bool
    model: VoteModel
    news_texts: list[str]


@dataclass
class VoteDecision:
    """Stated votes (party indices) of the agents asked, with the model's reasons."""

    agents: np.ndarray
    party: np.ndarray
    reason: list[str | None] | None = None
    fallbacks: int = 0
    by_model: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
