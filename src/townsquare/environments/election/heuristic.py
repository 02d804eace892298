"""The vote model of an election, and the heuristic voter.

Random-utility voting (a multinomial logit across the population): agent
``i``'s utility for party ``k`` is

    u_ik = - w_p (a_i - x_k)^2 + w_id [pid_i = k] + w_c b_ik + tau G_ik

with ``a_i`` the agent's attitude on the election topic (moved by feeds,
news and posts on the platform), ``x_k`` the party's position, ``pid_i`` its
party identification (the party nearest its leaning, for a
``partisanship`` share of agents), ``b_ik`` its largest belief in any of
party k's campaign items (grown by exposure on the platform) and ``G_ik`` a
fixed standard Gumbel taste drawn once, so intentions change only when
attitudes and beliefs do. The intention is the party of highest utility.
"""

from __future__ import annotations

import numpy as np

from townsquare.core.behavior import BaseBehavior
from townsquare.environments.election.actions import ElectionObservation, VoteDecision
from townsquare.environments.election.config import ElectionConfig
from townsquare.population.model import AgentState, Population


class VoteModel:
    """Utilities and intentions of agents for the parties (see the module docstring)."""

    def __init__(self, config: ElectionConfig, population: Population, topic: int,
                 campaign_items: list[list[int]], rng: np.random.Generator) -> None:
        self.config = config
        self.topic = topic
        self.names = [p.name for p in config.parties]
        self.positions = np.array([p.position for p in config.parties], np.float64)
        self.campaign_items = campaign_items  # per party: news indices of its campaign
        n, k = population.n, len(self.names)
        nearest = np.argmin(np.abs(population.leaning[:, None] - self.positions[None]), axis=1)
        identifies = rng.random(n) < config.partisanship
        self.party_id = np.where(identifies, nearest, -1).astype(np.int64)
        self.taste = config.taste_scale * rng.gumbel(size=(n, k))

    def utility(self, state: AgentState, agents: np.ndarray) -> np.ndarray:
        """(agents, parties) utilities from the current attitudes and beliefs."""
        c = self.config
        agents = np.asarray(agents, np.int64)
        attitude = state.attitude[agents, self.topic].astype(np.float64)
        u = -c.proximity_weight * (attitude[:, None] - self.positions[None]) ** 2
        u += c.party_id_weight * (self.party_id[agents, None] == np.arange(len(self.names)))
        for k, items in enumerate(self.campaign_items):
            if items:
                u[:, k] += c.campaign_weight * state.belief[agents][:, items].max(axis=1)
        return u + self.taste[agents]

    def intention(self, state: AgentState, agents: np.ndarray) -> np.ndarray:
        """Party index each agent would vote for now."""
        return np.argmax(self.utility(state, agents), axis=1)

    def nearest(self, state: AgentState, agents: np.ndarray) -> np.ndarray:
        """Party whose position is nearest each agent's attitude (what a prompt may mention)."""
        attitude = state.attitude[np.asarray(agents, np.int64), self.topic]
        return np.argmin(np.abs(attitude[:, None] - self.positions[None]), axis=1)


class HeuristicVoters(BaseBehavior):
    """Agents state the intention of the vote model."""

    def decide(self, obs: ElectionObservation, rng: np.random.Generator) -> VoteDecision:
        agents = np.asarray(obs.asked, np.int64)
        party = obs.model.intention(obs.social.state, agents)
        return VoteDecision(agents, party, by_model=np.zeros(len(agents), bool))
