"""Content moderation strategies from MOSAIC: fact-check labels, community notes, both.

* Third-party fact checking: a share ``fact_check_coverage`` of the news items,
  true or false, is rated; a rated false item is labelled with chance
  ``fact_check_sensitivity``, a rated true one with chance
  ``fact_check_false_positive``. ``fact_check_delay`` steps after an item first
  appears, every post carrying a labelled item is labelled.
* Claim matching: platforms put a rating on every post their matching system
  judges to carry the rated claim (Meta's near-duplicate matching), and matching
  errs, labelling posts of other stories on the same topic, quotes and debunks
  included. Each original or quote carrying another news item on a labelled
  item's topic is screened once against it and matched with chance ``match_false_positive``
  times its similarity ``1 - |stance difference| / 2``; a matched post is
  labelled (source ``fact_check_match``) and scored by its own story's veracity,
  so a true story's posts mislabelled this way are false positives.
* Community notes: when the flags on one story (all posts with the same root)
  reach ``note_threshold``, a note is attached to that story. Agents flag what
  they judge false, so notes can land on true stories too.
* Hybrid: both. Labels lower resharing and belief (``label_effect``);
  ``remove_labelled`` hides labelled stories from feeds instead.

Each label is an event with a cost (one fact check, one note) for cost vs effect,
and each is scored against the story's veracity (:attr:`Moderator.verdicts`), so a
run records its moderation's mistakes: labels on true stories are false positives,
and false items left unlabelled once their check is due are misses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from townsquare.arrays import unique_ints
from townsquare.core.actions import Action
from townsquare.environments.social.config import ModerationConfig
from townsquare.environments.social.content import ContentStore, Label, Veracity

STRATEGY_PARTS: dict[str, tuple[bool, bool]] = {
    "none": (False, False),
    "fact_check": (True, False),
    "community_notes": (False, True),
    "hybrid": (True, True),
}

MATCHED_KINDS = (int(Action.POST), int(Action.QUOTE))


@dataclass
class LabelRecord:
    """Labels applied in one step: (post, label, source) columns."""

    post: list[int] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    source: list[str] = field(default_factory=list)

    def add(self, posts: np.ndarray, label: Label, source: str) -> None:
        self.post.extend(int(p) for p in posts)
        self.label.extend([int(label)] * len(posts))
        self.source.extend([source] * len(posts))

    def columns(self, step: int) -> dict[str, list]:
        return {
            "step": [step] * len(self.post),
            "post": self.post,
            "label": self.label,
            "source": self.source,
        }


class Moderator:
    """Applies the scenario's moderation strategy after each step's actions."""

    def __init__(
        self,
        config: ModerationConfig,
        news_veracity: np.ndarray,
        news_step: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        self.config = config
        self.fact_checks, self.notes = STRATEGY_PARTS[config.strategy]
        n = len(news_veracity)
        rated = rng.random(n) < config.fact_check_coverage
        verdict = rng.random(n) < np.where(news_veracity == Veracity.FALSE,
                                           config.fact_check_sensitivity,
                                           config.fact_check_false_positive)
        self.rated = rated  # the items the checkers rate (each a fact check, once due)
        self.checked_news = rated & verdict  # the items the checkers will label
        self.news_step = news_step
        self.news_false = news_veracity == Veracity.FALSE
        self.labelled_news = np.zeros(n, bool)
        self.screened = 0  # posts before this index were screened against every labelled item
        self.rng = rng
        self.cost = {"fact_checks": 0, "community_notes": 0}
        self.verdicts = {"on_false": 0, "on_true": 0, "on_unverified": 0, "missed_false": 0}
        # flags on each story (all posts of one root), kept up to date from the posts
        # flagged each step; None until first needed and after a restore
        self._story_flags: np.ndarray | None = None

    @property
    def label(self) -> Label:
        return Label.REMOVED if self.config.remove_labelled else Label.FACT_CHECK

    def moderate(self, content: ContentStore, step: int) -> LabelRecord:
        record = LabelRecord()
        flagged = content.take_flagged()
        if self.fact_checks:
            self._fact_check(content, step, record)
        if self.notes:
            self._community_notes(content, record, flagged)
        return record

    def _fact_check(self, content: ContentStore, step: int, record: LabelRecord) -> None:
        passed = step >= self.news_step + self.config.fact_check_delay
        rated_by_now = self.rated & passed
        self.cost["fact_checks"] = int(rated_by_now.sum())  # a fact check is paid when done
        due = self.checked_news & rated_by_now & ~self.labelled_news
        # misses: false items whose check is due (or would be, unrated) and not labelled
        self.verdicts["missed_false"] = int((self.news_false & passed
                                             & ~(self.labelled_news | due)).sum())
        earlier = self.labelled_news.copy()
        if due.any():
            self.labelled_news |= due
            news = content.news
            posts = np.flatnonzero((news >= 0) & due[np.maximum(news, 0)])
            roots = unique_ints(content.root[posts])
            self._score(content, apply_label(content, roots, self.label, "fact_check", record))
        # new posts against the items labelled before; every post against the new ones
        chance = self.config.match_false_positive
        matched = np.concatenate([
            match_claims(content, np.flatnonzero(earlier), self.screened, chance, self.rng),
            match_claims(content, np.flatnonzero(due), 0, chance, self.rng),
        ])
        self.screened = len(content)
        if len(matched):
            self._score(content, apply_label(content, unique_ints(matched), self.label,
                                             "fact_check_match", record))

    def _community_notes(self, content: ContentStore, record: LabelRecord,
                         flagged: np.ndarray) -> None:
        """Note the unlabelled stories whose flags reached the threshold.

        A story can only cross the threshold when one of its posts is flagged (flags
        never fall, labels never go back to none), so after the first count only
        the stories flagged this step are looked at, not every post of the run.
        """
        if len(content) == 0:
            return
        threshold = self.config.note_threshold
        if self._story_flags is None:  # the first time, or after a restore: one full count
            self._story_flags = _grown(np.bincount(content.root, weights=content.flags,
                                                   minlength=len(content)), len(content))
            roots = np.flatnonzero(self._story_flags[: len(content)] >= threshold)
        else:
            self._story_flags = _grown(self._story_flags, len(content))
            stories = content.root[flagged]
            np.add.at(self._story_flags, stories, 1)
            roots = unique_ints(stories)
            roots = roots[self._story_flags[roots] >= threshold]
        roots = roots[content.label[roots] == Label.NONE]
        if len(roots) == 0:
            return
        self.cost["community_notes"] += len(roots)
        label = Label.REMOVED if self.config.remove_labelled else Label.COMMUNITY_NOTE
        self._score(content, apply_label(content, roots, label, "community_note", record))

    def _score(self, content: ContentStore, labelled: np.ndarray) -> None:
        """Count newly labelled stories by their veracity."""
        veracity = np.bincount(content.veracity[labelled], minlength=3)
        self.verdicts["on_unverified"] += int(veracity[Veracity.UNVERIFIED])
        self.verdicts["on_true"] += int(veracity[Veracity.TRUE])
        self.verdicts["on_false"] += int(veracity[Veracity.FALSE])

    def labelled_new_posts(self, content: ContentStore, posts: np.ndarray) -> None:
        """New shares of an already fact-checked item carry the label at once."""
        if not self.labelled_news.any() or len(posts) == 0:
            return
        news = content.news[posts]
        hit = (news >= 0) & self.labelled_news[np.maximum(news, 0)]
        content.column("label")[posts[hit]] = np.maximum(content.label[posts[hit]], self.label)

    def get_state(self) -> dict[str, object]:
        return {
            "rated": self.rated,
            "checked_news": self.checked_news,
            "labelled_news": self.labelled_news,
            "screened": self.screened,
            "cost": dict(self.cost),
            "verdicts": dict(self.verdicts),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.rated = np.asarray(state.get("rated", self.rated))
        self.checked_news = np.asarray(state["checked_news"])
        self.labelled_news = np.asarray(state["labelled_news"])
        self.screened = int(state.get("screened", 0))
        self.cost = dict(state["cost"])
        self.verdicts = dict(state.get("verdicts", self.verdicts))
        self._story_flags = None  # counted again from the restored posts


def _grown(counts: np.ndarray, size: int) -> np.ndarray:
    """``counts`` with room for ``size`` entries (capacity doubles: amortised O(1))."""
    if len(counts) >= size:
        return counts
    grown = np.zeros(max(size, 2 * len(counts)), np.float64)
    grown[: len(counts)] = counts
    return grown


def apply_label(
    content: ContentStore, roots: np.ndarray, label: Label, source: str, record: LabelRecord
) -> np.ndarray:
    """Raise stories' labels to ``label`` (never lower one); returns the roots that changed."""
    fresh = roots[content.label[roots] < label]
    content.column("label")[fresh] = label
    record.add(fresh, label, source)
    return fresh


def match_claims(
    content: ContentStore, items: np.ndarray, start: int, chance: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Posts from ``start`` on that claim matching wrongly ties to the labelled ``items``.

    Originals and quotes are screened (what matching reads: a post's own text);
    reposts show their original's label and comments sit under a labelled story.
    A post carrying another news item on the same topic as a labelled item is
    matched to it with chance ``chance * (1 - |stance difference| / 2)``; one draw
    per post gives the chance that any labelled item claims it. An item's topic
    and stance are those of its seeded posts. Returns matched post ids.
    """
    if len(items) == 0 or chance <= 0 or start >= len(content):
        return np.empty(0, np.int64)
    posts = np.arange(start, len(content))
    own_text = np.isin(content.kind[posts], MATCHED_KINDS)
    posts = posts[own_text & (content.news[posts] >= 0)]
    news = content.news[posts]
    if len(posts) == 0:
        return posts
    topic, stance = _item_topic_stance(content, items)
    same = (content.topic[posts, None] == topic[None, :]) & (news[:, None] != items[None, :])
    similarity = 1 - np.abs(content.stance[posts, None] - stance[None, :]) / 2
    p_match = np.where(same, chance * similarity, 0.0)
    p_any = 1 - np.prod(1 - p_match, axis=1)
    return posts[rng.random(len(posts)) < p_any]


def _item_topic_stance(content: ContentStore, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Topic and stance of each news item, read from its first (seeded) post."""
    seeds = np.flatnonzero((content.news >= 0) & (content.parent < 0))
    ids, first = np.unique(content.news[seeds], return_index=True)  # seeds ascend: earliest
    where = np.full(int(max(items.max(), ids.max(initial=-1))) + 1, -1, np.int64)
    where[ids] = seeds[first]
    where = where[items]
    topic = np.where(where >= 0, content.topic[np.maximum(where, 0)], -1)
    stance = np.where(where >= 0, content.stance[np.maximum(where, 0)], 0.0)
    return topic.astype(np.int64), stance.astype(np.float64)
