"""What an agent remembers of a step: the top of its feed and what it did.

Importance (1–10) is scored by cheap rules instead of one extra model call
per memory (Park et al. ask the model; at simulation scale that would double
the requests): engagement, moderation labels, news items and disagreement
make an observation memorable; writing weighs more than liking.
"""

from __future__ import annotations

import numpy as np

from townsquare.core.actions import Action, ActionBatch
from townsquare.core.behavior import Observation
from townsquare.environments.social.content import ContentStore

SNIPPET = 160
ACTION_IMPORTANCE = {
    Action.LIKE: 2.0, Action.REPOST: 4.0, Action.QUOTE: 5.0, Action.COMMENT: 5.0,
    Action.POST: 6.0, Action.FLAG: 6.0, Action.FOLLOW: 3.0, Action.UNFOLLOW: 4.0,
}
_VERB = {
    Action.LIKE: "liked", Action.REPOST: "reposted", Action.QUOTE: "quoted",
    Action.COMMENT: "commented on", Action.FLAG: "flagged", Action.POST: "posted",
    Action.FOLLOW: "followed", Action.UNFOLLOW: "unfollowed",
}


def observation_memories(
    obs: Observation, topics: list[str], k: int
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(agent, text, importance) for the top ``k`` posts of each feed."""
    feed, content = obs.feed, obs.content
    starts = np.repeat(feed.indptr[:-1], np.diff(feed.indptr))
    take = (np.arange(len(feed.posts)) - starts) < k
    posts = feed.posts[take]
    who = feed.agents[feed.owner[take]]
    if not len(posts):
        return who, [], np.empty(0, np.float32)
    topic = content.topic[posts].astype(np.int64)
    engagement = (content.likes[posts] + content.shares[posts] + content.comments[posts])
    labelled = np.maximum(content.label[posts], content.label[content.root[posts]]) > 0
    attitude = obs.state.attitude[who, np.maximum(topic, 0)]
    distance = np.where(topic >= 0, np.abs(attitude - content.stance[posts]), 0.0)
    importance = np.clip(
        1.0 + 1.2 * np.log1p(engagement) + 2.0 * labelled + 1.5 * distance
        + 1.0 * (content.news[posts] >= 0),
        1.0, 10.0,
    ).astype(np.float32)
    texts = [
        f'Saw post {p} by agent {a} about {_topic(topics, t)}'
        f'{" (labelled by moderators)" if lab else ""}: "{_snippet(content, p)}"'
        for p, a, t, lab in zip(posts.tolist(), content.author[posts].tolist(), topic.tolist(),
                                labelled.tolist(), strict=True)
    ]
    return who, texts, importance


def action_memories(
    actions: ActionBatch, content: ContentStore, topics: list[str]
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(agent, text, importance) for every non-idle action row."""
    keep = np.flatnonzero(actions.action != Action.IDLE)
    texts: list[str] = []
    importance = np.empty(len(keep), np.float32)
    for j, i in enumerate(keep.tolist()):
        kind = Action(int(actions.action[i]))
        post, target = int(actions.post[i]), int(actions.target[i])
        own = actions.text[i] if actions.text is not None else None
        reason = actions.reason[i] if actions.reason is not None else None
        if kind in (Action.FOLLOW, Action.UNFOLLOW):
            line = f"I {_VERB[kind]} agent {target}"
        elif kind == Action.POST:
            line = f"I posted about {_topic(topics, int(actions.topic[i]))}"
        else:
            author = int(content.author[post]) if 0 <= post < len(content) else -1
            line = f'I {_VERB[kind]} post {post} by agent {author} ("{_snippet(content, post)}")'
        if own:
            line += f': "{own[:SNIPPET]}"'
        if reason:
            line += f" because {reason[:SNIPPET]}"
        texts.append(line)
        importance[j] = ACTION_IMPORTANCE.get(kind, 1.0)
    return actions.agent[keep], texts, importance


def _snippet(content: ContentStore, post: int) -> str:
    if not 0 <= post < len(content):
        return ""
    text = " ".join(content.text_of(post).split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


def _topic(topics: list[str], index: int) -> str:
    return topics[index] if 0 <= index < len(topics) else "general matters"
