"""A stock market on the social platform (TwinMarket, StockAgent).

Registered as a built-in in :mod:`townsquare.environments.builtin`.
"""
