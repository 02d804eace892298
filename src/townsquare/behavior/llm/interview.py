"""Interviews (AgentSociety): ask an agent a question, answered in character.

The answer comes from the agent's persona and the memories given. Use
:meth:`LLMBehavior.interview` during a run (it retrieves the memories); the
functions here serve standalone use and tests.
"""

from __future__ import annotations

import asyncio

from townsquare.behavior.llm.client import CallTag, ChatModel, ChatRequest
from townsquare.behavior.llm.config import LLMConfig, ModelEndpoint, apply_env_overrides
from townsquare.behavior.llm.faults import Fault, LLMFault
from townsquare.behavior.llm.messages import interview_messages
from townsquare.behavior.llm.session import LLMSession
from townsquare.behavior.llm.wrappers import innermost


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
        messages=interview_messages(persona_text, memories, question),
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
    """The agent's answer, from synchronous code.

    Given a config, the first model is asked through an :class:`LLMSession`
    (the environment overrides applied, the response cache if the config
    enables it, the built-in local server for ``backend = "local"``); given an
    endpoint, that endpoint without a cache; given a client, the endpoint it
    was built for (then not inside a running event loop).
    """
    if isinstance(client_or_config, ModelEndpoint):
        client_or_config = LLMConfig(models=[client_or_config], cache=False)
    if isinstance(client_or_config, LLMConfig):
        session = LLMSession(apply_env_overrides(client_or_config), check=False,
                             name="townsquare-interview")
        try:
            return session.loop.run(ainterview(session.stacks[0], session.endpoint(0),
                                               persona_text, memories, question, seed=seed))
        finally:
            session.close()
    model = client_or_config
    endpoint = innermost(model).endpoint  # type: ignore[attr-defined]
    return asyncio.run(ainterview(model, endpoint, persona_text, memories, question, seed=seed))
