"""Register the built-in environments, classic models and recommenders.

Each package registers itself when imported; this module imports them all, in
the order the scenario reference lists them. Only their config models load here
(validating a scenario stays cheap); the environments load when a run builds one.
"""

from townsquare.environments import social  # noqa: F401, I001  (the order is the reference's)
from townsquare.environments import contagion  # noqa: F401
from townsquare.environments import market  # noqa: F401
from townsquare.environments import commons  # noqa: F401
from townsquare.environments import election  # noqa: F401
