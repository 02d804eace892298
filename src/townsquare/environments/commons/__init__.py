"""A shared renewable resource (GovSim): survive or collapse.

Registered as a built-in in :mod:`townsquare.environments.builtin`.
"""
