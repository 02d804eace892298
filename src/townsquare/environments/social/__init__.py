"""The social platform: posts, feeds, moderation, interventions, retelling, social heuristic.

Importing the package registers the built-in recommenders (recommenders.py), so a
feed mix validates wherever the platform's config is used.
"""

from townsquare.environments.social import recommenders as _recommenders  # noqa: F401
