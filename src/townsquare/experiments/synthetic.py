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

``exposure = "share"`` replaces ``E_i`` by the *share* of ``i``'s neighbours
that are treated: a spillover that grows with the dose, which the estimators'
"at least one neighbour treated" mapping does not describe. The global effects
(everyone treated against no one) are then the same numbers as above, but the
designs estimate contrasts at the doses their exposed units happen to get, so
this is the misspecified case in which to measure their bias and coverage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from townsquare.experiments.designs import Design, degrees, undirected_adjacency
from townsquare.experiments.estimators import (
    difference_in_means,
    estimate_effects,
    exposure_probabilities,
    treated_neighbours,
)

if TYPE_CHECKING:
    import pandas as pd


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
    exposure: Literal["any", "share"] = "any",
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """One outcome per unit under the model above."""
    adjacency = undirected_adjacency(graph)
    z = np.asarray(treated, dtype=bool)
    count = treated_neighbours(adjacency, z)
    if exposure == "share":
        exposed = count / np.maximum(degrees(adjacency), 1)
    elif exposure == "any":
        exposed = (count > 0).astype(np.float64)
    else:
        raise ValueError(f"exposure must be 'any' or 'share', got {exposure!r}")
    eps = np.random.default_rng(rng).standard_normal(len(z))
    return (baseline + degree_effect * np.log1p(degrees(adjacency)) + direct * z
            + spillover * exposed + interaction * (z * exposed) + noise * eps)


def replicate_design(
    design: Design,
    graph: Any,
    *,
    direct: float,
    spillover: float,
    interaction: float = 0.0,
    exposure: Literal["any", "share"] = "any",
    degree_effect: float = 0.5,
    replicates: int = 50,
    draws: int = 1500,
    seed: int = 0,
) -> pd.DataFrame:
    """A design's estimates over fresh assignments and outcomes, scored against the truth.

    One row per replicate and effect (``direct``, ``spillover``, ``total`` from
    :func:`~townsquare.experiments.estimators.estimate_effects`, and ``naive``,
    the difference in means, scored against the direct effect), with ``truth``
    and ``covered`` (the truth inside the row's 95% interval): the bias and the
    coverage of a design under a known, possibly misspecified, outcome model.
    """
    import pandas as pd

    adjacency = undirected_adjacency(graph)
    model = exposure_probabilities(design, adjacency, draws=draws, seed=seed)
    rng = np.random.default_rng(seed + 1)
    rows = []
    for r in range(replicates):
        z = design.draw(rng)[0]
        y = synthetic_outcomes(adjacency, z, direct=direct, spillover=spillover,
                               interaction=interaction, degree_effect=degree_effect,
                               exposure=exposure, rng=rng)
        estimates = pd.concat([estimate_effects(y, z, model),
                               difference_in_means(y, z, units=design.measured)])
        rows.append(estimates.assign(replicate=r))
    table = pd.concat(rows, ignore_index=True)
    truth = true_effects(direct, spillover, interaction) | {"naive": direct}
    table["truth"] = table["effect"].map(truth)
    table["covered"] = (table["ci_low"] <= table["truth"]) & (table["truth"] <= table["ci_high"])
    return table
