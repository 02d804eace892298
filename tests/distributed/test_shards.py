"""Shard assignment, per-shard endpoints and the slim copy of the posts (no Ray needed)."""

from __future__ import annotations

import numpy as np
import pytest

from townsquare.behavior.llm.config import LLMConfig
from townsquare.behavior.llm.faults import LLMConfigError
from townsquare.core.actions import Action
from townsquare.distributed.shards import assign_shards, shard_configs, slim_content
from townsquare.environments.social.content import ContentStore


def test_llm_agents_are_dealt_evenly_whatever_their_ids() -> None:
    llm_agents = np.array([0, 2, 4, 6, 8, 10, 12])  # all even: id % 2 would put all in shard 0
    shard = assign_shards(20, 2, llm_agents)
    assert shard[llm_agents].tolist() == [0, 1, 0, 1, 0, 1, 0]
    assert shard[[1, 3, 5]].tolist() == [1, 1, 1]  # the others by id
    assert np.array_equal(shard, assign_shards(20, 2, llm_agents[::-1]))  # fixed for the run
    counts = np.bincount(assign_shards(1000, 3, np.arange(0, 1000, 7))[::7], minlength=3)
    assert counts.max() - counts.min() <= 1
    with pytest.raises(ValueError, match="at least 1"):
        assign_shards(10, 0)


def test_each_shard_keeps_the_models_but_uses_its_own_urls() -> None:
    config = LLMConfig.model_validate({"models": [
        {"name": "big", "model": "llama-70b", "base_url": "http://a:8000/v1"},
        {"name": "small", "model": "llama-8b", "base_url": "http://a:8001/v1"}],
        "model_for_role": {"bystander": "small"}})
    first, second = shard_configs(config, [["http://a:8000/v1", "http://a:8001/v1"],
                                           ["http://b:8000/v1", "http://b:8001/v1"]])
    assert [m.base_url for m in second.models] == ["http://b:8000/v1", "http://b:8001/v1"]
    assert [m.model for m in second.models] == ["llama-70b", "llama-8b"]
    assert second.model_for_role == {"bystander": "small"}
    assert first.models == config.models
    with pytest.raises(LLMConfigError, match=r"llm_shards\[0\] lists 1 base URL.*'big', 'small'"):
        shard_configs(config, [["http://b:8000/v1"]])


def test_the_slim_copy_reads_like_the_original_for_the_posts_it_carries() -> None:
    content = ContentStore()
    n = 6
    content.add(author=np.arange(n), kind=np.array([Action.POST, Action.REPOST, Action.QUOTE,
                                                    Action.POST, Action.COMMENT, Action.REPOST]),
                parent=np.array([-1, 0, 1, -1, 3, 4]), topic=np.zeros(n, np.int16),
                stance=np.linspace(-1, 1, n).astype(np.float32), step=0,
                text=["first words", None, "a quote", "", None, None])
    slim = slim_content(content, np.array([1, 2, 5, 4]))
    for post in (1, 2, 4, 5):
        assert slim.text_of(post) == content.text_of(post)
    assert slim.text_of(1) == "first words"  # a repost reads its parent's text
    assert slim.text[0] is None and slim.text[3] is None  # texts not carried
    assert np.array_equal(slim.stance, content.stance) and len(slim) == len(content)
