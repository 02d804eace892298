"""Turn parsed answers into one :class:`Decision` (a fallback joins it: behavior/merge.py).

Each agent's answer becomes action rows (with the model's text and stated
reason) and a state update: attitudes per topic, valence/arousal, beliefs.
What the model left out keeps its current value. An agent that chose no
action gets one IDLE row, so its stated reason is kept too.

:class:`StepAnswers` does this part by part while a step's answers arrive,
so that little is left to do after the last one.
"""

from __future__ import annotations

import numpy as np

from townsquare.core.actions import Action, ActionBatch
from townsquare.core.behavior import Decision, Observation
from townsquare.environments.social.llm.experience import action_memories
from townsquare.environments.social.llm.schema import ActionType, ParsedAnswer


def answers_to_decision(
    obs: Observation,
    rows: np.ndarray,
    answers: list[ParsedAnswer],
    topics: list[str],
    news_ids: list[str],
    main_topic: np.ndarray,
) -> Decision:
    """The decision of agents ``obs.feed.agents[rows]`` from their parsed answers.

    ``main_topic`` is each agent's main topic index (used for new posts
    without a topic).
    """
    content, state = obs.content, obs.state
    agents = obs.feed.agents[rows].astype(np.int64)
    topic_index = {t: j for j, t in enumerate(topics)}
    news_index = {n: j for j, n in enumerate(news_ids)}
    attitude = state.attitude[agents].astype(np.float32, copy=True)
    valence = state.valence[agents].astype(np.float32, copy=True)
    arousal = state.arousal[agents].astype(np.float32, copy=True)
    belief = state.belief[agents].astype(np.float32, copy=True)
    columns: dict[str, list] = {k: [] for k in
                                ("agent", "action", "post", "target", "topic", "stance",
                                 "text", "reason")}

    def row(agent: int, action: Action, post: int, target: int, topic: int, stance: float,
            text: str | None, reason: str | None) -> None:
        for key, value in zip(columns, (agent, int(action), post, target, topic, stance, text,
                                        reason), strict=True):
            columns[key].append(value)

    for i, (agent, answer) in enumerate(zip(agents.tolist(), answers, strict=True)):
        for name, value in answer.attitude.items():
            attitude[i, topic_index[name]] = value
        if answer.emotion is not None:
            if answer.emotion.valence is not None:
                valence[i] = answer.emotion.valence
            if answer.emotion.arousal is not None:
                arousal[i] = answer.emotion.arousal
        for name, value in answer.belief.items():
            belief[i, news_index[name]] = value
        acted = False
        idle_reason = None
        for choice in answer.actions:
            if choice.type == ActionType.IDLE:
                idle_reason = choice.reason
                continue
            post = choice.post if choice.post is not None else -1
            if choice.type in (ActionType.FOLLOW, ActionType.UNFOLLOW):
                target = choice.target if choice.target is not None else int(content.author[post])
                if target == agent or target < 0:
                    continue
                row(agent, choice.type.action, -1, target, -1, 0.0, None, choice.reason)
            elif choice.type == ActionType.POST:
                topic = topic_index.get(choice.topic or "", int(main_topic[i]))
                row(agent, Action.POST, -1, -1, topic, float(attitude[i, topic]), choice.text,
                    choice.reason)
            else:
                topic = int(content.topic[post])
                own = choice.type in (ActionType.QUOTE, ActionType.COMMENT) and topic >= 0
                stance = float(attitude[i, topic]) if own else float(content.stance[post])
                row(agent, choice.type.action, post, -1, topic, stance, choice.text,
                    choice.reason)
            acted = True
        if not acted:
            row(agent, Action.IDLE, -1, -1, -1, 0.0, None, idle_reason or "chose to do nothing")

    actions = ActionBatch.build(
        np.asarray(columns["agent"], np.int64),
        np.asarray(columns["action"], np.int8),
        post=np.asarray(columns["post"], np.int64),
        target=np.asarray(columns["target"], np.int64),
        topic=np.asarray(columns["topic"], np.int16),
        stance=np.asarray(columns["stance"], np.float32),
        text=columns["text"],
        reason=columns["reason"],
    )
    return Decision(
        actions=actions,
        updated=agents,
        attitude=attitude,
        valence=valence,
        arousal=arousal,
        belief=belief if belief.shape[1] else None,
    )


Memories = tuple[np.ndarray, list[str], np.ndarray]  # (agent, text, importance) per memory


def join_memories(parts: list[Memories]) -> Memories:
    """The memories of several parts, one after the other."""
    return (np.concatenate([p[0] for p in parts]), [text for p in parts for text in p[1]],
            np.concatenate([p[2] for p in parts]))


class StepAnswers:
    """A step's answered agents, turned into decisions and action memories part by part.

    Parts are added in any order (as answers arrive); :meth:`combine` puts
    them in row order, so the result is exactly what one
    :func:`answers_to_decision` over all the rows (and :func:`action_memories`
    of its actions) would give: each agent's rows depend on its answer only.
    """

    def __init__(
        self, obs: Observation, topics: list[str], news_ids: list[str], main_topic: np.ndarray
    ) -> None:
        self._obs = obs
        self._topics = topics
        self._news_ids = news_ids
        self._main_topic = main_topic  # per agent of the population
        self._parts: list[tuple[np.ndarray, Decision, Memories]] = []
        self.covered = np.zeros(len(obs.feed.agents), dtype=bool)  # rows added so far
        agents = np.asarray(obs.feed.agents, dtype=np.int64)
        self._sorter = np.argsort(agents, kind="stable")
        self._sorted = agents[self._sorter]

    def add(self, rows: np.ndarray, answers: list[ParsedAnswer]) -> list[str]:
        """Assemble the answers of agents ``obs.feed.agents[rows]``; their action-memory texts."""
        obs = self._obs
        rows = np.asarray(rows, dtype=np.int64)
        agents = obs.feed.agents[rows].astype(np.int64)
        decided = answers_to_decision(obs, rows, answers, self._topics, self._news_ids,
                                      self._main_topic[agents])
        memories = action_memories(decided.actions, obs.content, self._topics)
        self._parts.append((rows, decided, memories))
        self.covered[rows] = True
        return memories[1]

    def combine(self) -> tuple[Decision, Memories]:
        """All parts as one decision in row order, and the memories of its actions."""
        parts = self._parts
        if not parts:
            self.add(np.empty(0, np.int64), [])
        if len(parts) == 1 and (np.diff(parts[0][0]) > 0).all():
            return parts[0][1], parts[0][2]
        decisions = [d for _, d, _ in parts]
        by_row = np.argsort(np.concatenate([rows for rows, _, _ in parts]), kind="stable")

        def state(name: str) -> np.ndarray:
            return np.concatenate([getattr(d, name) for d in decisions])[by_row]

        actions = ActionBatch.concat([d.actions for d in decisions])
        actions = actions.select(np.argsort(self._row(actions.agent), kind="stable"))
        decision = Decision(
            actions=actions,
            updated=state("updated"),
            attitude=state("attitude"),
            valence=state("valence"),
            arousal=state("arousal"),
            belief=state("belief") if decisions[0].belief is not None else None,
        )
        who, texts, importance = join_memories([m for _, _, m in parts])
        order = np.argsort(self._row(who), kind="stable")
        return decision, (who[order], [texts[i] for i in order.tolist()], importance[order])

    def _row(self, agents: np.ndarray) -> np.ndarray:
        """Each agent's row in the step's feed (agents appear once per step)."""
        return self._sorter[np.searchsorted(self._sorted, agents)]
