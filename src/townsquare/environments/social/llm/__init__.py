"""The social platform's LLM agents: what they are asked, how they answer, what they remember.

``behavior`` (:class:`LLMBehavior`, the language-model mind of social agents),
``prompts`` (the decision and reflection prompts), ``schema`` (the answer and
its tolerant parser), ``assemble`` (answers into one decision), ``experience``
(the memories a step leaves). The shared machinery (session, client, cache,
memory store, asker) is in :mod:`townsquare.behavior.llm`.
"""
