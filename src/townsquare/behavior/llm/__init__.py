"""LLM agents: any OpenAI-compatible chat endpoint as the mind of some or all agents.

Names are imported lazily, so that ``townsquare.scenario`` can import
:mod:`townsquare.behavior.llm.config` without pulling in the rest (and
without an import cycle through ``townsquare.population.model``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_LAZY = {
    "LLMBehavior": "behavior",
    "derive_seed": "behavior",
    "LLMConfig": "config",
    "ModelEndpoint": "config",
    "AssignConfig": "config",
    "MemoryConfig": "config",
    "select_llm_agents": "config",
    "apply_env_overrides": "config",
    "ChatClient": "client",
    "ChatRequest": "client",
    "ChatResult": "client",
    "CallTag": "client",
    "ChatModel": "client",
    "build_stack": "wrappers",
    "ResponseCache": "cache",
    "HashingEmbedder": "embeddings",
    "Fault": "faults",
    "LLMFault": "faults",
    "EndpointUnreachableError": "faults",
    "LLMConfigError": "faults",
    "MemoryStore": "memory",
    "MemoryKind": "memory",
    "parse_answer": "schema",
    "ParsedAnswer": "schema",
    "ParseFailure": "schema",
    "ActionChoice": "schema",
    "LLM_TABLES": "records",
    "interview": "interview",
    "ainterview": "interview",
}
__all__ = [
    "LLM_TABLES",
    "ActionChoice",
    "AssignConfig",
    "CallTag",
    "ChatClient",
    "ChatModel",
    "ChatRequest",
    "ChatResult",
    "EndpointUnreachableError",
    "Fault",
    "HashingEmbedder",
    "LLMBehavior",
    "LLMConfig",
    "LLMConfigError",
    "LLMFault",
    "MemoryConfig",
    "MemoryKind",
    "MemoryStore",
    "ModelEndpoint",
    "ParseFailure",
    "ParsedAnswer",
    "ResponseCache",
    "ainterview",
    "apply_env_overrides",
    "build_stack",
    "derive_seed",
    "interview",
    "parse_answer",
    "select_llm_agents",
]

if TYPE_CHECKING:
    from townsquare.behavior.llm.behavior import LLMBehavior, derive_seed
    from townsquare.behavior.llm.cache import ResponseCache
    from townsquare.behavior.llm.client import (
        CallTag,
        ChatClient,
        ChatModel,
        ChatRequest,
        ChatResult,
    )
    from townsquare.behavior.llm.config import (
        AssignConfig,
        LLMConfig,
        MemoryConfig,
        ModelEndpoint,
        apply_env_overrides,
        select_llm_agents,
    )
    from townsquare.behavior.llm.embeddings import HashingEmbedder
    from townsquare.behavior.llm.faults import (
        EndpointUnreachableError,
        Fault,
        LLMConfigError,
        LLMFault,
    )
    from townsquare.behavior.llm.interview import ainterview, interview
    from townsquare.behavior.llm.memory import MemoryKind, MemoryStore
    from townsquare.behavior.llm.records import LLM_TABLES
    from townsquare.behavior.llm.schema import (
        ActionChoice,
        ParsedAnswer,
        ParseFailure,
        parse_answer,
    )
    from townsquare.behavior.llm.wrappers import build_stack


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"townsquare.behavior.llm.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'townsquare.behavior.llm' has no attribute {name!r}")
