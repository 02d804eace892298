"""The social platform: posts, feeds, moderation, interventions, retelling, social heuristic."""
