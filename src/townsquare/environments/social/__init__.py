"""The social platform: posts, feeds, moderation, interventions, retelling, social heuristic.

Importing the package registers the built-in recommenders (recommenders.py) and
the platform's metric kinds (metrics.py), so a feed mix validates wherever the
platform's config is used and a run's summary knows how to sum its metrics up.
"""

from townsquare.environments.social import metrics as _metrics  # noqa: F401
from townsquare.environments.social import recommenders as _recommenders  # noqa: F401
