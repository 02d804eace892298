"""Interviews (AgentSociety): ask an agent a question, answered in character.

The answer comes from the agent's persona and the memories given. Use
:meth:`LLMBehavior.interview` during a run (it retrieves the memories); the
functions here serve standalone use and tests.
"""

from __future__ import annotations

import asyncio

from townsquare.behavior.llm import prompts
from townsquare.behavior.llm.cache import ResponseCache
from townsquare.behavior.llm.client import CallTag, ChatModel, ChatRequest
from townsquare.behavior.llm.config import LLMConfig, ModelEndpoint, apply_env_overrides
from townsquare.behavior.llm.faults import Fault, LLMFault
from townsquare.behavior.llm.wrappers import build_stack, innermost


async def ainterview(
    model: ChatModel,
    endpoint: ModelEndpoint,
    persona_text: str,
    memories: list[str],
    question: str,
    *,
    seed: int | None = None,
    tag: CallTag | None = None,
) -> str:
    """The agent's plain-text answer; raises :class:`LLMFault` if none comes back."""
    request = ChatRequest(
        model=endpoint.model,
        messages=prompts.interview_messages(persona_text, memories, question),
        temperature=endpoint.temperature,
        max_tokens=endpoint.max_tokens,
        seed=seed,
        tag=tag or CallTag(purpose="interview"),
    )
    result = await model.complete(request)
    answer = (result.content or result.refusal or "").strip()
    if not answer:
        raise LLMFault(Fault.EMPTY, "the interview answer was empty")
    return answer


def interview(
    client_or_config: ChatModel | LLMConfig | ModelEndpoint,
    persona_text: str,
    memories: list[str],
    question: str,
    *,
    seed: int | None = None,
) -> str:
    """Synchronous :func:`ainterview` (not for use inside a running event loop).

    Given a config, the first model is used (with the response cache if the
    config enables it); given a client, the endpoint it was built for.
    """
    return asyncio.run(_interview(client_or_config, persona_text, memories, question, seed))


async def _interview(
    client_or_config: ChatModel | LLMConfig | ModelEndpoint,
    persona_text: str,
    memories: list[str],
    question: str,
    seed: int | None,
) -> str:
    if isinstance(client_or_config, LLMConfig | ModelEndpoint):
        config = client_or_config
        cache = None
        if isinstance(config, LLMConfig):
            config = apply_env_overrides(config)
            cache = ResponseCache(config.resolved_cache_path()) if config.cache else None
            endpoint = config.models[0]
        else:
            endpoint = config
        model = build_stack(endpoint, cache)
        try:
            return await ainterview(model, endpoint, persona_text, memories, question, seed=seed)
        finally:
            await model.aclose()
            if cache is not None:
                cache.close()
    endpoint = innermost(client_or_config).endpoint  # type: ignore[attr-defined]
    return await ainterview(client_or_config, endpoint, persona_text, memories, question,
                            seed=seed)
