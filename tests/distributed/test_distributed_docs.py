"""docs/distributed.md: its scenario snippets validate, and its sharding example is consistent."""

from __future__ import annotations

import re
from pathlib import Path

from townsquare.distributed.shards import shard_configs
from townsquare.scenario import Scenario

PAGE = Path(__file__).resolve().parents[2] / "docs" / "distributed.md"


def test_the_toml_example_is_a_valid_sharded_scenario() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks
    for block in blocks:
        scenario = Scenario.from_toml(block, source="docs/distributed.md")
        assert scenario.llm is not None and scenario.distributed is not None
        shards = shard_configs(scenario.llm, scenario.distributed.llm_shards)
        assert [m.base_url for s in shards for m in s.models] == [
            "http://gpu-a:8000/v1", "http://gpu-b:8000/v1"]
