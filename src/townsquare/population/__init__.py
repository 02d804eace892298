"""Agents: persona attributes as columns, their evolving state, and the population config."""
