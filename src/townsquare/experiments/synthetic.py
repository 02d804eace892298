"""A synthetic outcome with known direct and spillover effects, to check designs and estimators.

``Y_i = baseline + degree_effect * log(1 + degree_i) + direct * Z_i
+ spillover * E_i + interaction * Z_i * E_i + noise * eps_i``, with ``E_i``
= "at least one neighbour treated" and ``eps_i`` standard normal. The true
effects in the exposure-mapping sense of
:mod:`townsquare.experiments.estimators` are then exactly

* direct    = ``direct``
* spillover = ``spillover``
* total     = ``direct + spillover + interaction``.

``degree_effect`` makes baseline outcomes depend on degree, as they do on
real platforms (hubs differ); since exposure probabilities also depend on
degree, an unweighted comparison of exposed and unexposed units is then
confounded, which the probability weights undo. ``interaction`` lets the
effect of one's own treatment depend on the neighbours' (a prebunk matters
less when one's friends were prebunked too), which is what biases the naive
treated-vs-control comparison of an individually randomized experiment: it
averages the own-treatment effect over whatever exposure the treated happen
to have, so it estimates neither the direct nor the total effect.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from townsquare.experiments.designs import degrees, undirected_adjacency
from townsquare.experiments.estimators import treated_neighbours


def true_effects(direct: float, spillover: float, interaction: float = 0.0) -> dict[str, float]:
    """The effects the estimators target, under the synthetic model."""
    return {"direct": direct, "spillover": spillover, "total": direct + spillover + interaction}


def synthetic_outcomes(
    graph: Any,
    treated: np.ndarray,
    *,
    direct: float,
    spillover: float,
    interaction: float = 0.0,
    baseline: float = 0.0,
    degree_effect: float = 0.0,
    noise: float = 1.0,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """One outcome per unit under the model above."""
    adjacency = undirected_adjacency(graph)
    z = np.asarray(treated, dtype=bool)
    exposed = treated_neighbours(adjacency, z) > 0
    eps = np.random.default_rng(rng).standard_normal(len(z))
    return (baseline + degree_effect * np.log1p(degrees(adjacency)) + direct * z
            + spillover * exposed + interaction * (z & exposed) + noise * eps)
