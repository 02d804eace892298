"""Feeds: which recent posts each active agent sees, ranked by a recommender mix.

Candidates come from the accounts an agent follows (one sparse product of the
follow matrix with a "who shared what" matrix), optionally plus popular posts
from outside the network. One candidate is kept per (agent, root story) with
the number of followed accounts that shared it (social proof). Candidates are
scored by a weighted mix of recommenders and the top ``length`` are kept.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from townsquare.core.actions import Action
from townsquare.core.behavior import Feed
from townsquare.core.registry import RECOMMENDERS
from townsquare.environments.social.config import FeedConfig
from townsquare.environments.social.content import ContentStore, Label, is_share
from townsquare.environments.social.recommenders import Candidates, FeedContext
from townsquare.network.graph import FollowGraph
from townsquare.population.model import Population


def shown_posts(
    content: ContentStore, since_step: int, hidden_authors: np.ndarray | None = None
) -> np.ndarray:
    """Recent originals, reposts and quotes not removed and not by hidden (suspended) authors."""
    recent = content.recent(since_step)
    kind = content.kind[recent]
    visible = (kind == Action.POST) | is_share(kind)
    visible &= effective_label(content, recent) != Label.REMOVED
    visible &= content.boost[recent] * content.boost[content.root[recent]] > 0
    if hidden_authors is not None and hidden_authors.any():
        visible &= ~hidden_authors[content.author[recent]]
    return recent[visible]


def effective_label(content: ContentStore, posts: np.ndarray) -> np.ndarray:
    """A post shows its own label or its root's, whichever is stronger."""
    return np.maximum(content.label[posts], content.label[content.root[posts]])


def network_candidates(
    graph: FollowGraph, agents: np.ndarray, content: ContentStore, posts: np.ndarray
) -> Candidates:
    """Posts by accounts each agent follows, one per (agent, root), with social proof."""
    if len(agents) == 0 or len(posts) == 0:
        empty = np.empty(0, np.int64)
        return Candidates(empty, empty, empty)
    authors = content.author[posts]
    shared = sp.csr_array(
        (np.ones(len(posts), np.float32), (authors, np.arange(len(posts)))),
        shape=(graph.n, len(posts)),
    )
    seen = (graph.following[agents] @ shared).tocoo()
    row = seen.row.astype(np.int64)
    post = posts[seen.col]
    return _one_per_root(row, post, content)


def _one_per_root(row: np.ndarray, post: np.ndarray, content: ContentStore) -> Candidates:
    """Collapse shares of one story per agent to its newest post, counting the sharers."""
    key = _story_key(row, content.root[post], content)
    order = np.argsort(key, kind="stable")  # radix sort on one int64 key
    starts = _group_starts(key[order])
    newest = np.maximum.reduceat(post[order], starts) if len(starts) else post[:0]
    counts = np.diff(np.append(starts, len(key)))
    return Candidates(row[order][starts], newest, counts)


def _story_key(row: np.ndarray, root: np.ndarray, content: ContentStore) -> np.ndarray:
    """One sortable int64 per (feed row, story)."""
    return row.astype(np.int64) * np.int64(len(content) + 1) + root


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    first = np.ones(len(sorted_keys), bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return np.flatnonzero(first)


def popular_candidates(
    agents: np.ndarray, content: ContentStore, posts: np.ndarray, k: int, rng: np.random.Generator
) -> Candidates:
    """Up to ``k`` out-of-network posts per agent, drawn in proportion to engagement."""
    if k == 0 or len(posts) == 0 or len(agents) == 0:
        empty = np.empty(0, np.int64)
        return Candidates(empty, empty, empty)
    roots = content.root[posts]
    weight = 1.0 + content.likes[roots] + content.shares[roots] + content.comments[roots]
    picks = rng.choice(len(posts), size=(len(agents), k), p=weight / weight.sum())
    row = np.repeat(np.arange(len(agents), dtype=np.int64), k)
    return Candidates(row, posts[picks.ravel()], np.zeros(len(row), np.int64))


def build_feeds(
    config: FeedConfig,
    graph: FollowGraph,
    agents: np.ndarray,
    content: ContentStore,
    population: Population,
    step: int,
    rng: np.random.Generator,
    hidden_authors: np.ndarray | None = None,
) -> Feed:
    """Ranked feeds for ``agents`` at ``step`` (see module docstring).

    ``hidden_authors`` (a boolean mask over agents) keeps suspended accounts'
    posts out; each post's ``boost`` (downranking) multiplies its score.
    """
    posts = shown_posts(content, step - config.window, hidden_authors)
    inside = network_candidates(graph, agents, content, posts)
    outside = popular_candidates(agents, content, posts, config.out_of_network, rng)
    cand = _merge(inside, outside, content)
    own = content.author[cand.post] == agents[cand.row]
    cand = Candidates(cand.row[~own], cand.post[~own], cand.social_proof[~own])
    ctx = FeedContext(step, agents, content, population, config.window, rng)
    total = sum(config.mix.values())
    score = np.zeros(len(cand.post))
    for name, weight in config.mix.items():
        if weight > 0:
            score += (weight / total) * RECOMMENDERS[name](ctx, cand)
    score *= content.boost[cand.post] * content.boost[content.root[cand.post]]
    return _top_k(agents, cand, score, config.length)


def _merge(a: Candidates, b: Candidates, content: ContentStore) -> Candidates:
    """Union of two candidate sets, one entry per (row, story): the best-proven one."""
    if len(b.row) == 0:
        return a
    row = np.concatenate([a.row, b.row])
    post = np.concatenate([a.post, b.post])
    proof = np.concatenate([a.social_proof, b.social_proof])
    key = _story_key(row, content.root[post], content)
    order = np.lexsort((-proof, key))
    first = _group_starts(key[order])
    keep = order[first]
    return Candidates(row[keep], post[keep], proof[keep])


def _top_k(agents: np.ndarray, cand: Candidates, score: np.ndarray, length: int) -> Feed:
    """The ``length`` best-scored candidates of each row, best first."""
    lo, hi = (float(score.min()), float(score.max())) if len(score) else (0.0, 0.0)
    unit = (score - lo) / (hi - lo) if hi > lo else np.zeros(len(score))
    order = np.argsort(cand.row + 0.5 * (1.0 - unit))  # one float sort: row, then best score
    row = cand.row[order]
    counts = np.bincount(row, minlength=len(agents))
    starts = np.zeros(len(agents) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    rank = np.arange(len(row)) - starts[row]
    keep = rank < length
    kept_counts = np.minimum(counts, length)
    indptr = np.zeros(len(agents) + 1, dtype=np.int64)
    np.cumsum(kept_counts, out=indptr[1:])
    return Feed(
        agents=agents,
        indptr=indptr,
        posts=cand.post[order][keep],
        social_proof=cand.social_proof[order][keep],
    )
