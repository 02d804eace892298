"""Turn parsed answers into one :class:`Decision`, and merge in fallback decisions.

Each agent's answer becomes action rows (with the model's text and stated
reason) and a state update: attitudes per topic, valence/arousal, beliefs.
What the model left out keeps its current value. An agent that chose no
action gets one IDLE row, so its stated reason is kept too.
"""

from __future__ import annotations

import numpy as np

from townsquare.behavior.base import Decision, Observation
from townsquare.behavior.llm.schema import ActionType, ParsedAnswer
from townsquare.platform.actions import Action, ActionBatch


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
