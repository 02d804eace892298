"""The contracts every layer shares, importing nothing else from townsquare.

Actions and action batches, observations and decisions, step records, typed
metrics, the Environment and Behavior protocols, and the registries through
which environments, recommenders and classic models plug in. See
docs/architecture.md.
"""
