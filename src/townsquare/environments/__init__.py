"""Environments on the same engine: the social platform, the classic contagion models, a
market, a commons and an election, each one package of the same shape (config, actions,
environment, heuristic, LLM decider, build). See docs/environments.md and
docs/architecture.md. :mod:`townsquare.environments.builtin` registers them all.
"""
