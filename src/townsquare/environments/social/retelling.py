"""Retelling: a story's text mutates as agents quote and comment on it (FUSE).

When a heuristic agent quotes or comments on a post carrying a *retold* news
item and writes no text of its own, its text is the parent's text edited by
rules whose chance depends on the agent's role (Liu et al. 2024, "From a Tiny
Slip to a Giant Leap: an LLM-based simulation for fake news evolution",
arXiv:2410.19064):

* **spreaders** exaggerate: hedges become certainties ("may" -> "will",
  "reportedly" dropped), numbers grow, intensifiers are added;
* **commentators** add opinion or speculation;
* **verifiers** restore the original text;
* **bystanders** rarely change anything (and then only drop a word).

Reposts carry their parent's text unchanged. Texts written by LLM agents are
kept as written. Every version is logged with its *generation* (how many
retellings separate it from the original) and its deviation from the original
(:mod:`townsquare.measure.text`), so drift can be followed per step and by
generation. Edits are drawn from the caller's random stream, so a run is
reproducible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from townsquare.core.actions import Action, ActionBatch
from townsquare.environments.social.content import ContentStore
from townsquare.measure.text import deviation
from townsquare.population.model import ROLES
from townsquare.scenario_types import Role

# Chance that a retelling by each role edits the text at all.
EDIT_RATE: dict[Role, float] = {
    Role.SPREADER: 0.8,
    Role.COMMENTATOR: 0.7,
    Role.VERIFIER: 0.6,
    Role.BYSTANDER: 0.1,
}
CERTAINTY = {
    "may": "will", "might": "will", "could": "will", "possibly": "definitely",
    "reportedly": "", "allegedly": "", "about": "over", "around": "over", "some": "all",
    "preliminary": "final", "suggests": "proves", "suggest": "prove", "unconfirmed": "confirmed",
    "small": "huge", "minor": "major", "rare": "common", "slightly": "sharply",
}
INTENSIFIERS = ("BREAKING:", "SHOCKING:", "CONFIRMED:", "URGENT:", "They don't want you to know:")
OPINIONS = (
    "This is clearly a cover-up.", "They knew all along.", "Nobody is talking about this.",
    "I bet this is just the beginning.", "Follow the money.", "Makes you wonder who benefits.",
    "Typical. Nobody will be held responsible.", "I never trusted them anyway.",
)
GENERATIONS = 3  # per-step metrics for generations 1, 2 and 3+
_WORD = re.compile(r"[A-Za-z']+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def exaggerate(text: str, rng: np.random.Generator) -> str:
    """A spreader's edit: certainty for hedges, bigger numbers, an intensifier."""
    words = text.split(" ")
    hedges = [i for i, w in enumerate(words) if _bare(w) in CERTAINTY]
    numbers = [i for i, w in enumerate(words) if _NUMBER.search(w)]
    choice = rng.integers(3)
    if choice == 0 and hedges:
        i = hedges[rng.integers(len(hedges))]
        swap = CERTAINTY[_bare(words[i])]
        words[i] = words[i].replace(_bare_raw(words[i]), swap) if swap else ""
    elif choice == 1 and numbers:
        i = numbers[rng.integers(len(numbers))]
        factor = int(rng.integers(2, 11))
        words[i] = _NUMBER.sub(lambda m: _scaled(m.group(0), factor), words[i], count=1)
    else:
        prefix = INTENSIFIERS[rng.integers(len(INTENSIFIERS))]
        if not text.startswith(prefix):
            words.insert(0, prefix)
    return " ".join(w for w in words if w)


def comment_on(text: str, rng: np.random.Generator) -> str:
    """A commentator's edit: an opinion or a speculation added after the story."""
    return f"{text} {OPINIONS[rng.integers(len(OPINIONS))]}"


def drop_word(text: str, rng: np.random.Generator) -> str:
    """A bystander's rare edit: one word left out."""
    words = text.split(" ")
    if len(words) < 4:
        return text
    del words[int(rng.integers(len(words)))]
    return " ".join(words)


def retell(
    texts: list[str], originals: list[str], roles: np.ndarray, rng: np.random.Generator
) -> list[str]:
    """Each text as retold by an agent of ``roles[i]`` (indices into ``ROLES``)."""
    rates = np.array([EDIT_RATE[r] for r in ROLES])[roles]
    edits = rng.random(len(texts)) < rates
    out = list(texts)
    for i in np.flatnonzero(edits):
        role = ROLES[roles[i]]
        if role is Role.SPREADER:
            out[i] = exaggerate(texts[i], rng)
        elif role is Role.COMMENTATOR:
            out[i] = comment_on(texts[i], rng)
        elif role is Role.VERIFIER:
            out[i] = originals[i]
        else:
            out[i] = drop_word(texts[i], rng)
    return out


@dataclass
class RetellingLog:
    """Every version of the retold stories: its post, story, generation and deviation.

    ``generation`` is kept for every post (0 for originals and posts of other
    stories) so a child's generation is one lookup.
    """

    retold: np.ndarray  # bool per news item
    originals: list[str]
    generation: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    post: list[int] = field(default_factory=list)
    news: list[int] = field(default_factory=list)
    version_generation: list[int] = field(default_factory=list)
    deviation: list[float] = field(default_factory=list)

    def rewrite(
        self,
        made: ActionBatch,
        content: ContentStore,
        role: np.ndarray,
        rng: np.random.Generator,
    ) -> ActionBatch:
        """Fill the text of quotes and comments on retold stories that carry none."""
        parent = made.post
        replies = (parent >= 0) & ((made.action == Action.QUOTE) | (made.action == Action.COMMENT))
        if not replies.any():
            return made
        news = np.full(len(made), -1, np.int64)
        news[replies] = content.news[parent[replies]]
        retold = (news >= 0) & self.retold[np.maximum(news, 0)]
        texts = made.text if made.text is not None else [None] * len(made)
        rows = [i for i in np.flatnonzero(retold) if texts[i] is None]
        if not rows:
            return made
        parents = [content.text_of(int(parent[i])) for i in rows]
        originals = [self.originals[news[i]] for i in rows]
        new = retell(parents, originals, role[made.agent[rows]], rng)
        texts = list(texts)
        for i, text in zip(rows, new, strict=True):
            texts[i] = text
        made.text = texts
        return made

    def record(self, ids: np.ndarray, content: ContentStore) -> None:
        """Log generation and deviation of newly created posts ``ids``."""
        if len(ids) == 0:
            return
        grown = np.zeros(len(content), np.int32)
        grown[: len(self.generation)] = self.generation
        self.generation = grown
        parent = content.parent[ids]
        has_parent = parent >= 0
        news = content.news[ids]
        kind = content.kind[ids]
        retold = (news >= 0) & self.retold[np.maximum(news, 0)]
        retelling = retold & has_parent & ((kind == Action.QUOTE) | (kind == Action.COMMENT))
        gen = np.zeros(len(ids), np.int32)
        gen[has_parent] = self.generation[parent[has_parent]]
        gen += retelling
        self.generation[ids] = gen
        rows = np.flatnonzero(retelling)
        if len(rows) == 0:
            return
        texts = [content.text_of(int(ids[i])) for i in rows]
        originals = [self.originals[news[i]] for i in rows]
        self.post.extend(int(p) for p in ids[rows])
        self.news.extend(int(k) for k in news[rows])
        self.version_generation.extend(int(g) for g in gen[rows])
        self.deviation.extend(float(d) for d in deviation(texts, originals))

    def metrics(self, news_ids: list[str]) -> dict[str, float]:
        """Per retold story: versions so far, their mean deviation, and by generation."""
        out: dict[str, float] = {}
        news = np.asarray(self.news, np.int64)
        gen = np.asarray(self.version_generation, np.int64)
        dev = np.asarray(self.deviation, np.float64)
        for k in np.flatnonzero(self.retold):
            name = news_ids[k]
            mine = news == k
            out[f"versions_{name}"] = float(mine.sum())
            out[f"deviation_{name}"] = _mean(dev[mine])
            for g in range(1, GENERATIONS + 1):
                at = mine & ((gen == g) if g < GENERATIONS else (gen >= g))
                out[f"deviation_{name}_g{g}"] = _mean(dev[at])
        return out

    def get_state(self) -> dict[str, Any]:
        return {"generation": self.generation, "post": list(self.post), "news": list(self.news),
                "version_generation": list(self.version_generation),
                "deviation": list(self.deviation)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.generation = np.asarray(state["generation"], np.int32)
        self.post = list(state["post"])
        self.news = list(state["news"])
        self.version_generation = list(state["version_generation"])
        self.deviation = list(state["deviation"])


def _bare(word: str) -> str:
    return _bare_raw(word).lower()


def _bare_raw(word: str) -> str:
    match = _WORD.search(word)
    return match.group(0) if match else ""


def _scaled(number: str, factor: int) -> str:
    value = float(number.replace(",", ""))
    scaled = value * factor
    return f"{scaled:,.0f}" if scaled >= 1000 or value.is_integer() else f"{scaled:.1f}"


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")
