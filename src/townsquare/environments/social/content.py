"""Posts as growable columns: originals, reposts, quotes and comments.

Every post knows its author, parent, root (the original it descends from),
topic, stance, veracity, the news item it carries (if any), its text and the
step it was made, plus running engagement counters and moderation labels.
"""

from __future__ import annotations

from enum import IntEnum
from itertools import compress, count, repeat
from operator import is_not
from typing import Any

import numpy as np

from townsquare.core.actions import Action
from townsquare.environments.social.touches import TouchCounter, counted


class Veracity(IntEnum):
    UNVERIFIED = 0
    TRUE = 1
    FALSE = 2


class Label(IntEnum):
    """Moderation state shown next to a post."""

    NONE = 0
    FACT_CHECK = 1  # third-party fact-check label
    COMMUNITY_NOTE = 2  # note written from users' flags
    REMOVED = 3


_COLUMNS: dict[str, tuple[type, int | float]] = {
    "author": (np.int64, -1),
    "kind": (np.int8, 0),
    "parent": (np.int64, -1),
    "root": (np.int64, -1),
    "topic": (np.int16, -1),
    "stance": (np.float32, 0.0),
    "veracity": (np.int8, 0),
    "news": (np.int32, -1),
    "step": (np.int32, 0),
    "likes": (np.int32, 0),
    "shares": (np.int32, 0),
    "comments": (np.int32, 0),
    "flags": (np.int32, 0),
    "exposures": (np.int32, 0),
    "label": (np.int8, 0),
    "boost": (np.float32, 1.0),  # feed-score multiplier (downranking < 1)
    "arousal": (np.float32, 0.0),  # the author's arousal when writing it
}


class ContentStore:
    """All posts of a run as numpy columns that grow by doubling."""

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self._cols: dict[str, np.ndarray] = {
            name: np.full(capacity, fill, dtype=dtype) for name, (dtype, fill) in _COLUMNS.items()
        }
        self.text: list[str | None] = []
        self.touches: TouchCounter | None = None  # see track_touches
        self._flagged: list[np.ndarray] = []  # posts flagged since take_flagged (repeats count)

    def track_touches(self) -> TouchCounter:
        """Count the posts each operation on the store touches (an instrument, see touches)."""
        self.touches = TouchCounter()
        return self.touches

    def __len__(self) -> int:
        return self.n

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("_cols")
        if cols is not None and name in cols:
            return self.column(name)
        raise AttributeError(name)

    def column(self, name: str) -> np.ndarray:
        """A live view of one column (writes go to the store)."""
        view = self._cols[name][: self.n]
        return view if self.touches is None else counted(view, self.touches)

    def add(
        self,
        author: np.ndarray,
        kind: np.ndarray,
        parent: np.ndarray,
        topic: np.ndarray,
        stance: np.ndarray,
        step: int,
        text: list[str | None] | None = None,
        news: np.ndarray | None = None,
        veracity: np.ndarray | None = None,
        arousal: np.ndarray | None = None,
    ) -> np.ndarray:
        """Append posts; roots, news and veracity are inherited from parents. Returns ids."""
        k = len(author)
        self._reserve(self.n + k)
        ids = np.arange(self.n, self.n + k, dtype=np.int64)
        parent = np.asarray(parent, dtype=np.int64)
        has_parent = parent >= 0
        cols = self._cols
        if self.touches is not None:  # the new rows, and the parents they inherit from
            self.touches.mark(np.concatenate([ids, parent[has_parent]]), self.n + k)
        cols["author"][ids] = author
        cols["kind"][ids] = kind
        cols["parent"][ids] = parent
        cols["step"][ids] = step
        root = ids.copy()
        root[has_parent] = cols["root"][parent[has_parent]]
        cols["root"][ids] = root
        inherited_topic = np.asarray(topic, dtype=np.int16).copy()
        inherited_topic[has_parent] = cols["topic"][parent[has_parent]]
        cols["topic"][ids] = inherited_topic
        cols["stance"][ids] = stance
        news_col = np.full(k, -1, np.int32) if news is None else np.asarray(news, np.int32).copy()
        news_col[has_parent] = cols["news"][parent[has_parent]]
        cols["news"][ids] = news_col
        ver = np.zeros(k, np.int8) if veracity is None else np.asarray(veracity, np.int8).copy()
        ver[has_parent] = cols["veracity"][parent[has_parent]]
        cols["veracity"][ids] = ver
        if arousal is not None:
            cols["arousal"][ids] = arousal
        self.text.extend(text if text is not None else [None] * k)
        self.n += k
        return ids

    def recent(self, since_step: int) -> np.ndarray:
        """Ids of posts made at or after ``since_step`` (posts are in step order)."""
        first = int(np.searchsorted(self.step, since_step, side="left"))
        return np.arange(first, self.n, dtype=np.int64)

    def count(self, column: str, posts: np.ndarray) -> None:
        """Add one to ``column`` for each occurrence of a post id (repeats count)."""
        if len(posts):
            if self.touches is not None:
                self.touches.mark(posts, self.n)
            np.add.at(self._cols[column], posts, 1)
            if column == "flags":
                self._flagged.append(np.array(posts, np.int64))

    def take_flagged(self) -> np.ndarray:
        """Posts whose flags grew since the last call, once per added flag."""
        flagged = np.concatenate(self._flagged) if self._flagged else np.empty(0, np.int64)
        self._flagged = []
        return flagged

    def text_of(self, post: int) -> str:
        """The text a reader sees: own text, else the nearest ancestor's."""
        while post >= 0:
            if self.text[post]:
                return self.text[post] or ""
            post = int(self._cols["parent"][post])
        return ""

    def _reserve(self, size: int) -> None:
        capacity = len(self._cols["author"])
        if size <= capacity:
            return
        new_capacity = max(size, 2 * capacity)
        for name, (dtype, fill) in _COLUMNS.items():
            grown: np.ndarray = np.full(new_capacity, fill, dtype=dtype)
            grown[: self.n] = self._cols[name][: self.n]
            self._cols[name] = grown

    def get_state(self) -> dict[str, object]:
        """The columns as live views (copy them before the store changes) and the texts.

        Texts are few (seeded news, LLM posts): kept as (post, text) pairs, not one
        JSON null per post, which cost seconds per checkpoint at millions of posts.
        """
        at = list(compress(count(), map(is_not, self.text, repeat(None))))
        return {"n": self.n, "text_at": np.asarray(at, np.int64),
                "text_values": [self.text[i] for i in at]} | {
            name: col[: self.n] for name, col in self._cols.items()
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ContentStore:
        n = int(state["n"])
        store = cls(capacity=max(1024, n))
        for name in _COLUMNS:
            store._cols[name][:n] = state[name]
        store.n = n
        if "text" in state:  # a checkpoint written before texts were kept as pairs
            store.text = list(state["text"])
        else:
            store.text = [None] * n
            at = state["text_at"]
            if len(at) and (at.min() < 0 or at.max() >= n):
                raise ValueError(f"text of post {at.max()} outside the {n} posts")
            for i, text in zip(state["text_at"].tolist(), state["text_values"], strict=True):
                store.text[i] = text
        return store


def is_share(kind: np.ndarray) -> np.ndarray:
    """Whether posts of these kinds pass another post on (repost or quote)."""
    return (kind == Action.REPOST) | (kind == Action.QUOTE)
