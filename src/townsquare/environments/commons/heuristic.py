"""The heuristic harvester of the commons, with its discussion round.

Heuristic model (vectorized over agents). Nobody is told what the lake can
bear: sustainability is known only through the stock everyone observes. With
stock ``R``, ``n`` harvesting agents and greed ``g_i`` in [0, 1]:

* **Intention**: ``a_i = g_i R / n``, a share of the agent's per-capita share
  of the stock.
* **Reading the lake**: when the stock has fallen since the last round, an
  agent works out, with chance ``attention`` per round, how much grew back
  after the last catch, ``G = R_t - (R_{t-1} - H_{t-1})``; from then on it is
  *informed* and proposes at most the replacement catch ``q = G / n`` (the
  catch that keeps the observed stock where it is), ``min(a_i, q)``.
* **Discussion**: each agent says its proposal and hears everyone's (or its
  followees'); the *norm* is the mean proposal heard. An uninformed agent
  moves from its intention toward the norm by ``conformity`` and, from a
  proposal below its own that warns of the decline, learns the replacement
  rule with chance ``conformity`` times the share of warnings it heard. An
  informed agent is never talked into more than its own proposal.

Talk therefore carries information (who has noticed the decline) rather
than a target: the norm is only what others say. Ostrom, Walker & Gardner
(1992, "Covenants with and without a sword") and Janssen, Holahan, Lee &
Ostrom (2010, Science 328:613) find that face-to-face communication in
common-pool experiments cuts over-harvesting, and the groups' talk is about
the resource's observed state and rules derived from it; conditional
cooperators follow what they hear others will do (Fischbacher, Gächter &
Fehr 2001). ``attention`` and ``conformity`` have no measured values here
(no source; sensitivity in docs/scenarios.md).
"""

from __future__ import annotations

import numpy as np

from townsquare.core.behavior import BaseBehavior
from townsquare.environments.commons.actions import CommonsObservation, HarvestDecision
from townsquare.environments.commons.config import CommonsConfig


class HeuristicHarvesters(BaseBehavior):
    """Rule-based harvesters with a discussion round (see the module docstring)."""

    def __init__(self, config: CommonsConfig) -> None:
        self.config = config

    def decide(self, obs: CommonsObservation, rng: np.random.Generator) -> HarvestDecision:
        agents = np.asarray(obs.agents, np.int64)
        n = len(agents)
        if n == 0:
            return HarvestDecision(agents, np.empty(0), np.empty(0))
        c = self.config
        intention = obs.greed[agents] * obs.stock / n
        informed = (np.zeros(n, bool) if obs.informed is None
                    else np.asarray(obs.informed, bool)[agents].copy())
        if obs.declining:
            informed |= rng.random(n) < c.attention
        replacement = obs.replacement_catch
        proposal = np.where(informed, np.minimum(intention, replacement), intention)
        warns = (proposal < intention).astype(np.float64)
        norm = self._heard(obs, agents, proposal)
        heard_warnings = self._heard(obs, agents, warns)
        harvest = np.where(informed, np.minimum(proposal, proposal + c.conformity
                                                * (norm - proposal)),
                           intention + c.conformity * (norm - intention))
        learns = ~informed & (rng.random(n) < c.conformity * heard_warnings)
        return HarvestDecision(agents, proposal, np.maximum(harvest, 0.0),
                               informed=informed | learns)

    def _heard(self, obs: CommonsObservation, agents: np.ndarray,
               said: np.ndarray) -> np.ndarray:
        """Mean of what each agent hears said (its own when it follows nobody who speaks)."""
        if self.config.discussion == "all":
            return np.full(len(agents), said.mean())
        spoken = np.zeros(obs.graph.n)
        speaks = np.zeros(obs.graph.n)
        spoken[agents], speaks[agents] = said, 1.0
        following = obs.graph.following[agents]
        total, count = following @ spoken, following @ speaks
        return np.divide(total, count, out=said.astype(np.float64), where=count > 0)
