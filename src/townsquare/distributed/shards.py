"""Splitting LLM agents into shards: who goes where, with which endpoints, seeing what.

Pure functions, no Ray: the fixed agent -> shard assignment, each shard's
copy of the LLM settings with its own base URLs, and the slim copy of the
posts a step's shards need (every numeric column, but only the texts their
feeds show), which is what travels to the workers each step.
"""

from __future__ import annotations

import numpy as np

from townsquare.behavior.llm.config import LLMConfig, ModelEndpoint
from townsquare.behavior.llm.faults import LLMConfigError
from townsquare.environments.social.content import ContentStore


def assign_shards(n_agents: int, n_shards: int, llm_agents: np.ndarray | None = None) -> np.ndarray:
    """The shard of every agent, fixed for the run (memories live with their shard).

    LLM agents (``llm_agents``, ids in increasing order) are dealt round-robin
    so every shard gets the same number (±1) whatever their ids; every other
    agent goes by ``id % n_shards`` (only interviews reach them).
    """
    if n_shards < 1:
        raise ValueError(f"n_shards must be at least 1, got {n_shards}")
    shard = (np.arange(n_agents, dtype=np.int64) % n_shards).astype(np.int32)
    if llm_agents is not None:
        ids = np.sort(np.asarray(llm_agents, dtype=np.int64))
        shard[ids] = (np.arange(len(ids)) % n_shards).astype(np.int32)
    return shard


def shard_configs(config: LLMConfig, shards: list[list[str]]) -> list[LLMConfig]:
    """One copy of ``config`` per shard, whose ``models`` use that shard's base URLs.

    Only ``base_url`` changes: names, model names and sampling settings stay,
    so each request (and its response-cache key) is the one the local
    backend would send.
    """
    out = []
    for i, urls in enumerate(shards):
        if len(urls) != len(config.models):
            names = [m.name for m in config.models]
            raise LLMConfigError(
                f"distributed.llm_shards[{i}] lists {len(urls)} base URL(s); it needs one per "
                f"[[llm.models]] entry ({len(names)}: {names}), in the same order"
            )
        models = [ModelEndpoint.model_validate(m.model_dump() | {"base_url": url})
                  for m, url in zip(config.models, urls, strict=True)]
        out.append(config.model_copy(update={"models": models}))
    return out


def texts_of(content: ContentStore, posts: np.ndarray) -> dict[int, str]:
    """The text a reader sees of each post in ``posts`` (own text, else an ancestor's)."""
    return {p: content.text_of(p) for p in np.unique(np.asarray(posts, np.int64)).tolist()}


def slim_content(content: ContentStore, posts: np.ndarray) -> ContentStore:
    """A copy of ``content`` with every column but texts only for ``posts``.

    A post's entry holds the text ``text_of`` would resolve, so the copy
    answers ``text_of`` exactly like the original for those posts.
    """
    state = content.get_state()
    texts: list[str | None] = [None] * content.n
    for post, text in texts_of(content, posts).items():
        texts[post] = text
    state["text"] = texts
    return ContentStore.from_state(state)


def add_texts(content: ContentStore, texts: dict[int, str]) -> None:
    """Fill in more texts of a slim copy (posts an action names outside the feeds)."""
    for post, text in texts.items():
        content.text[post] = text
