"""An election campaign on the social platform, with opinion polls (ElectionSim).

Each step the platform runs as usual (news, campaign items, feeds, posts,
interventions, surveys): attitudes on the election topic and beliefs in
campaign items change. Vote intentions follow from them
(:mod:`~townsquare.environments.election.heuristic`). Polls are surveys: respondents
are drawn by the survey machinery (random or stratified samples, panels)
and their stated votes land in the ``surveys`` table (question ``vote``,
value = party index, answer = party name). On election day everyone votes;
ballots land in the ``votes`` table and the result is compared with the
scenario's benchmark (absolute error) and with the polls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from townsquare.behavior.composite import ComposedDecision
from townsquare.core.environment import StepRecord
from townsquare.environments.election.actions import ElectionObservation, VoteDecision
from townsquare.environments.election.config import ElectionConfig, Poll
from townsquare.environments.election.heuristic import VoteModel
from townsquare.environments.social.platform import SocialPlatform
from townsquare.environments.social.wrapped import OnPlatform
from townsquare.errors import UserError
from townsquare.measure.surveys import SurveyContext, SurveySchedule
from townsquare.rng import RandomStreams
from townsquare.schedules import Question, Survey

if TYPE_CHECKING:
    from townsquare.scenario import Scenario

VOTE_QUESTION = "If the election were held today, which party would you vote for?"


class PollSchedule(SurveySchedule):
    """Polls as surveys: the survey machinery picks respondents; answers are stated votes."""

    def due(self, step: int) -> dict[str, np.ndarray]:
        """Respondents of each poll held at ``step``."""
        return {s.id: self._respondents(s) for s in self.surveys if step in s.steps}


class ElectionEnvironment(OnPlatform):
    """Vote intentions, polls and the vote, beside a social platform."""

    def __init__(self, config: ElectionConfig, scenario: Scenario, platform: SocialPlatform,
                 streams: RandomStreams) -> None:
        self.config = config
        self.scenario = scenario
        self.platform = platform
        self.n_agents = platform.n_agents
        if config.topic not in platform.topic_index:
            raise UserError(f"environment.topic '{config.topic}' is not one of "
                            f"population.topics {sorted(platform.topic_index)}")
        unknown = sorted(set(config.campaigns) - set(platform.news_index))
        if unknown:
            raise UserError(f"environment.campaigns names news item(s) {unknown}, not among "
                            f"the scenario's news {sorted(platform.news_index)}")
        self.election_step = scenario.steps - 1 if config.election_step is None \
            else config.election_step
        if self.election_step >= scenario.steps:
            raise UserError(f"environment.election_step {self.election_step} is not before "
                            f"steps={scenario.steps}")
        self.names = [p.name for p in config.parties]
        items = [[platform.news_index[news] for news, party in config.campaigns.items()
                  if party == name] for name in self.names]
        self.model = VoteModel(config, platform.population, platform.topic_index[config.topic],
                               items, streams["election"])
        self.polls = PollSchedule(
            [_as_survey(poll, config.topic, self.names) for poll in config.polls],
            SurveyContext(platform.population, platform.topic_index, platform.news_index),
            streams["polls"],
        )
        self.stated = np.full(self.n_agents, -1, np.int64)  # last vote a model stated
        self.result = np.full(len(self.names), np.nan)
        self.poll_history: list[tuple[int, str, np.ndarray]] = []  # (step, poll, shares)
        self.first_shares = np.full(len(self.names), np.nan)
        self._asked: dict[str, np.ndarray] = {}
        self._poll_shares: dict[str, np.ndarray] = {}

    # -- the Environment contract ------------------------------------------------------------

    def observe(self, step: int) -> ElectionObservation:
        social = self.platform.observe(step)
        self._asked = self.polls.due(step)
        election_day = step == self.election_step
        asked = [*self._asked.values()]
        if election_day:
            asked.append(np.arange(self.n_agents))
        everyone = np.unique(np.concatenate(asked)) if asked else np.empty(0, np.int64)
        texts = [item.text for item in self.scenario.news]
        return ElectionObservation(step, social, everyone.astype(np.int64), election_day,
                                   self.model, texts)

    def apply(self, step: int, decision: ComposedDecision | None) -> StepRecord:
        record = self.platform.apply(step, decision.social if decision is not None else None)
        votes: VoteDecision | None = decision.part if decision is not None else None
        party = np.full(self.n_agents, -1, np.int64)
        reason: list[str | None] = [None] * self.n_agents
        if votes is not None and len(votes.agents):
            party[votes.agents] = votes.party
            if votes.reason is not None:
                for agent, text in zip(votes.agents.tolist(), votes.reason, strict=True):
                    reason[agent] = text
            by_model = votes.agents[votes.by_model]
            self.stated[by_model] = party[by_model]
        self._poll_shares = {}
        for poll, respondents in self._asked.items():
            answers = party[respondents]
            self._poll_shares[poll] = _shares(answers, len(self.names))
            self.poll_history.append((step, poll, self._poll_shares[poll]))
            record.add("surveys", {
                "step": np.full(len(respondents), step), "survey": [poll] * len(respondents),
                "question": ["vote"] * len(respondents), "agent": respondents,
                "value": answers.astype(np.float64),
                "answer": [self.names[k] for k in answers.tolist()],
            })
        if step == self.election_step:
            ballots = np.arange(self.n_agents)
            self.result = _shares(party[ballots], len(self.names))
            record.add("votes", {"step": np.full(self.n_agents, step), "agent": ballots,
                                 "party": party[ballots],
                                 "reason": reason if any(reason) else None})
        return record

    def intentions(self) -> np.ndarray:
        """Every agent's current vote: a model's last stated vote, else the vote model's."""
        everyone = np.arange(self.n_agents)
        modelled = self.model.intention(self.platform.state, everyone)
        return np.where(self.stated >= 0, self.stated, modelled)

    def measure(self, step: int) -> dict[str, float]:
        out = self.platform.measure(step)
        on_the_day = step == self.election_step  # the ballots, not the updated intentions
        shares = self.result if on_the_day else _shares(self.intentions(), len(self.names))
        if np.isnan(self.first_shares).all():
            self.first_shares = shares
        for k, name in enumerate(self.names):
            out[f"vote_share_{name}"] = float(shares[k])
            for poll, poll_shares in self._poll_shares.items():
                out[f"{poll}_{name}"] = float(poll_shares[k])
        return out

    def summary(self) -> dict[str, float]:
        out = self.platform.summary()
        result = self.result if np.isfinite(self.result).all() else _shares(
            self.intentions(), len(self.names))
        for k, name in enumerate(self.names):
            out[f"vote_share_{name}"] = float(result[k])
            out[f"swing_{name}"] = float(result[k] - self.first_shares[k])
        ordered = np.sort(result)[::-1]
        out["margin"] = float(ordered[0] - ordered[1])
        benchmark = self.config.benchmark
        if benchmark:
            errors = np.array([abs(result[self.names.index(p)] - share)
                               for p, share in benchmark.items()])
            out["vote_error_mae"] = float(errors.mean())
            out["vote_error_max"] = float(errors.max())
        if self.poll_history:
            last_step = max(step for step, _, _ in self.poll_history)
            first_step = min(step for step, _, _ in self.poll_history)
            for label, at in (("poll_error_mae", last_step), ("poll_error_first", first_step)):
                waves = [s for step, _, s in self.poll_history if step == at]
                out[label] = float(np.mean([np.abs(s - result).mean() for s in waves]))
        return out

    # -- checkpoints ---------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {
            "platform": self.platform.get_state(), "polls": self.polls.get_state(),
            "party_id": self.model.party_id, "taste": self.model.taste, "stated": self.stated,
            "result": self.result, "first_shares": self.first_shares,
            "poll_steps": np.array([s for s, _, _ in self.poll_history], np.int64),
            "poll_ids": [p for _, p, _ in self.poll_history],
            "poll_shares": np.array([s for _, _, s in self.poll_history], np.float64).reshape(
                len(self.poll_history), len(self.names)),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.platform.set_state(state["platform"])
        self.polls.set_state(state["polls"])
        self.model.party_id = np.array(state["party_id"], np.int64)
        self.model.taste = np.array(state["taste"], np.float64)
        self.stated = np.array(state["stated"], np.int64)
        self.result = np.array(state["result"], np.float64)
        self.first_shares = np.array(state["first_shares"], np.float64)
        self.poll_history = [(int(s), str(p), np.array(v)) for s, p, v in zip(
            state["poll_steps"], state["poll_ids"], state["poll_shares"], strict=True)]


def _as_survey(poll: Poll, topic: str, parties: list[str]) -> Survey:
    question = Question(id="vote", text=VOTE_QUESTION, kind="choice", measures="attitude",
                        topic=topic, options=parties)
    return Survey(id=poll.id, steps=poll.steps, sample=poll.sample, panel=poll.panel,
                  stratify_by=poll.stratify_by, questions=[question])


def _shares(party: np.ndarray, k: int) -> np.ndarray:
    party = np.asarray(party, np.int64)
    party = party[party >= 0]
    if len(party) == 0:
        return np.full(k, np.nan)
    return np.bincount(party, minlength=k) / len(party)
