"""The action vocabulary: one enum, and a columnar batch of decided actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


class Action(IntEnum):
    """Everything an agent can do in one step. Stored as a small integer."""

    IDLE = 0
    POST = 1
    REPOST = 2
    QUOTE = 3
    COMMENT = 4
    LIKE = 5
    FLAG = 6
    FOLLOW = 7
    UNFOLLOW = 8

    @property
    def creates_post(self) -> bool:
        """Whether the action adds a post (original, repost, quote or comment)."""
        return self in (Action.POST, Action.REPOST, Action.QUOTE, Action.COMMENT)

    @property
    def label(self) -> str:
        return self.name.lower()


ENGAGEMENTS = (Action.REPOST, Action.QUOTE, Action.COMMENT, Action.LIKE)
"""The actions that engage with another's post (a tie's strength counts them)."""
DOINGS = tuple(action for action in Action if action is not Action.IDLE)
"""Every action but idling, in code order: the per-step action counts."""




@dataclass
class ActionBatch:
    """Actions decided for a batch of agents, one row per action.

    ``post`` is the post acted on (-1 for original posts, follows and idles);
    ``target`` the agent followed or unfollowed (-1 otherwise). ``topic`` and
    ``stance`` describe a new original post; ``text`` and ``reason`` are
    optional per-row strings (LLM agents fill them; heuristics leave None).
    """

    agent: np.ndarray
    action: np.ndarray
    post: np.ndarray
    target: np.ndarray
    topic: np.ndarray
    stance: np.ndarray
    text: list[str | None] | None = None
    reason: list[str | None] | None = None
    news: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        n = len(self.agent)
        for name in ("action", "post", "target", "topic", "stance"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"ActionBatch.{name} has {len(getattr(self, name))} rows, not {n}")
        if self.news is None:
            self.news = np.full(n, -1, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.agent)

    @classmethod
    def empty(cls) -> ActionBatch:
        return cls.build(np.empty(0, np.int64), Action.IDLE)

    @classmethod
    def build(
        cls,
        agent: np.ndarray,
        action: Action | np.ndarray,
        post: np.ndarray | int = -1,
        target: np.ndarray | int = -1,
        topic: np.ndarray | int = -1,
        stance: np.ndarray | float = 0.0,
        text: list[str | None] | None = None,
        reason: list[str | None] | None = None,
        news: np.ndarray | int = -1,
    ) -> ActionBatch:
        """Broadcast scalars to the batch length and fix dtypes."""
        agent = np.asarray(agent, dtype=np.int64)
        n = len(agent)

        def col(value: np.ndarray | float, dtype: type) -> np.ndarray:
            return np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()

        return cls(
            agent=agent,
            action=col(action, np.int8),
            post=col(post, np.int64),
            target=col(target, np.int64),
            topic=col(topic, np.int16),
            stance=col(stance, np.float32),
            text=text,
            reason=reason,
            news=col(news, np.int32),
        )

    @classmethod
    def concat(cls, batches: list[ActionBatch]) -> ActionBatch:
        batches = [b for b in batches if len(b)]
        if not batches:
            return cls.empty()
        any_text = any(b.text is not None for b in batches)
        any_reason = any(b.reason is not None for b in batches)

        def strings(name: str) -> list[str | None]:
            out: list[str | None] = []
            for b in batches:
                values = getattr(b, name)
                out.extend(values if values is not None else [None] * len(b))
            return out

        return cls(
            agent=np.concatenate([b.agent for b in batches]),
            action=np.concatenate([b.action for b in batches]),
            post=np.concatenate([b.post for b in batches]),
            target=np.concatenate([b.target for b in batches]),
            topic=np.concatenate([b.topic for b in batches]),
            stance=np.concatenate([b.stance for b in batches]),
            text=strings("text") if any_text else None,
            reason=strings("reason") if any_reason else None,
            news=np.concatenate([b.news for b in batches]),
        )

    def select(self, mask: np.ndarray) -> ActionBatch:
        """Rows where ``mask`` is true (or the given row indices)."""
        idx = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask)

        def pick(values: list[str | None]) -> list[str | None]:
            return [values[i] for i in idx]

        return ActionBatch(
            agent=self.agent[idx],
            action=self.action[idx],
            post=self.post[idx],
            target=self.target[idx],
            topic=self.topic[idx],
            stance=self.stance[idx],
            text=pick(self.text) if self.text is not None else None,
            reason=pick(self.reason) if self.reason is not None else None,
            news=self.news[idx] if self.news is not None else None,
        )
