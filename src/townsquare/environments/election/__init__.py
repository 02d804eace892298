"""An election campaign on the social platform, with opinion polls (ElectionSim).

Registered as a built-in in :mod:`townsquare.environments.builtin`.
"""
