"""Recommenders: score candidate posts for a feed; a feed mix blends their scores.

Each is registered by name (:func:`townsquare.core.registry.register_recommender`),
so ``platform.feed.mix`` accepts exactly the registered names and a new
recommender is one function and one registration. This module imports only
numpy, so validating a scenario stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from townsquare.core.registry import register_recommender

if TYPE_CHECKING:
    from townsquare.environments.social.content import ContentStore
    from townsquare.population.model import Population


@dataclass
class Candidates:
    """Unranked (agent row, post) pairs with per-pair social proof."""

    row: np.ndarray
    post: np.ndarray
    social_proof: np.ndarray


Scorer = Callable[["FeedContext", Candidates], np.ndarray]


@dataclass
class FeedContext:
    step: int
    agents: np.ndarray
    content: ContentStore
    population: Population
    window: int
    rng: np.random.Generator


def _chronological(ctx: FeedContext, c: Candidates) -> np.ndarray:
    age = ctx.step - ctx.content.step[c.post]
    return 1.0 - age / (ctx.window + 1.0)


def _popularity(ctx: FeedContext, c: Candidates) -> np.ndarray:
    content = ctx.content
    roots = content.root[c.post]
    engagement = content.likes[roots] + content.shares[roots] + content.comments[roots]
    score = np.log1p(engagement.astype(np.float64))
    return score / max(float(score.max(initial=0.0)), 1.0)


def _engagement(ctx: FeedContext, c: Candidates) -> np.ndarray:
    """Personalised: what your network shares most, weighted by your interest."""
    interest = _interest(ctx, c)
    proof = np.log1p(c.social_proof.astype(np.float64))
    return 0.5 * interest + 0.5 * proof / max(float(proof.max(initial=0.0)), 1.0)


def _interest(ctx: FeedContext, c: Candidates) -> np.ndarray:
    topics = ctx.content.topic[c.post].astype(np.int64)
    valid = topics >= 0
    out = np.zeros(len(c.post))
    agents = ctx.agents[c.row[valid]]
    out[valid] = ctx.population.interests[agents, topics[valid]]
    return out / max(float(out.max(initial=0.0)), 1e-9)


def _random(ctx: FeedContext, c: Candidates) -> np.ndarray:
    return ctx.rng.random(len(c.post))


for _name, _scorer in {"chronological": _chronological, "popularity": _popularity,
                       "engagement": _engagement, "interest": _interest,
                       "random": _random}.items():
    register_recommender(_name, _scorer)
