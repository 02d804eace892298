"""LLM agents: any OpenAI-compatible chat endpoint as the mind of some or all agents.

The modules: ``config`` (the ``[llm]`` section), ``client``/``http``/``wrappers``
(requests, retries, cache, accounting), ``session`` (one model stack per endpoint),
``prompts``/``schema``/``repair``/``assemble`` (asking and parsing), ``memory``
(memory streams and reflection), ``behavior`` (LLM minds of the social agents),
``asker`` (one structured question per agent, for the other environments),
``local`` (the built-in local model server). Import names from them.
"""
