"""The ``[distributed]`` scenario section: which Ray cluster, and how LLM agents are sharded.

Importing this module never imports Ray (Ray is an optional extra); only the
scenario's validation lives here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Urls = Annotated[list[str], Field(min_length=1)]


class DistributedConfig(BaseModel):
    """Where a run's LLM shards (and `townsquare sweep --backend ray`) execute."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    ray_address: str | None = Field(
        default=None,
        description="Ray cluster to use (e.g. 'ray://head:10001' or 'auto'); default: the "
        "RAY_ADDRESS environment variable, else a Ray instance on this machine",
    )
    llm_shards: list[Urls] = Field(
        default_factory=list,
        description="one list of base URLs per shard, aligned with [[llm.models]]: the LLM "
        "agents are split over one Ray actor per shard, each talking to its own servers; "
        "empty: no sharding",
    )

    @field_validator("llm_shards")
    @classmethod
    def _http_urls(cls, shards: list[list[str]]) -> list[list[str]]:
        for i, urls in enumerate(shards):
            for j, url in enumerate(urls):
                if not url.startswith(("http://", "https://")):
                    raise ValueError(f"shard {i}, URL {j} ('{url}') must start with http:// "
                                     "or https://")
        return [[url.rstrip("/") for url in urls] for urls in shards]
