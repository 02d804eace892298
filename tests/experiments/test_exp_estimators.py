"""Estimators under interference, checked against a synthetic ground truth.

Acceptance: on a Holme–Kim graph of 3,000 nodes with known direct and
spillover effects, the independent-set and cluster (randomized-saturation)
designs recover both within their reported 95% intervals in at least 80% of
50 replicates, while the naive individually randomized difference in means is
off the true direct effect by many standard errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from townsquare.errors import UserError
from townsquare.experiments.designs import (
    BernoulliDesign,
    ClusterDesign,
    IndependentSetDesign,
    degrees,
    undirected_adjacency,
)
from townsquare.experiments.estimators import (
    conditions,
    difference_in_means,
    estimate_effects,
    exposure_probabilities,
)
from townsquare.experiments.synthetic import replicate_design, synthetic_outcomes, true_effects
from townsquare.network import generators

TRUTH = {"direct": 1.0, "spillover": 0.5, "interaction": -0.6}
REPLICATES = 50


@pytest.fixture(scope="module")
def graph() -> sp.csr_array:
    n = 3000
    u, v = generators.holme_kim(n, 3, 0.3, rng=np.random.default_rng(11))
    return undirected_adjacency(sp.csr_array((np.ones(len(u)), (u, v)), shape=(n, n)))


def replicate_estimates(design, graph: sp.csr_array, seed: int, exposure: str = "any",
                        truth: dict[str, float] = TRUTH) -> pd.DataFrame:
    """Estimates over REPLICATES fresh assignments and outcomes (noise and degree effect)."""
    return replicate_design(design, graph, exposure=exposure, replicates=REPLICATES, seed=seed,
                            **truth)


@pytest.mark.parametrize("make_design", [
    lambda g: IndependentSetDesign.from_graph(g, seed=0),
    lambda g: ClusterDesign.from_graph(g, saturations=(0.0, 0.5), seed=0),
], ids=["independent-set", "cluster"])
def test_designs_recover_direct_and_spillover_effects(make_design, graph: sp.csr_array) -> None:
    table = replicate_estimates(make_design(graph), graph, seed=21)
    for effect in ("direct", "spillover", "total"):
        rows = table[table["effect"] == effect]
        assert rows["covered"].mean() >= 0.8, (effect, rows["covered"].mean())
        # unbiased: the mean over replicates is within Monte Carlo error of the truth
        error = rows["estimate"].std() / np.sqrt(REPLICATES)
        assert abs(rows["estimate"].mean() - rows["truth"].iloc[0]) < 4 * error
        # honest standard errors: reported SE close to the spread over replicates
        assert 0.7 < rows["se"].mean() / rows["estimate"].std() < 1.4


@pytest.mark.slow  # 2 designs x 50 replicates, ~15-30 s
def test_a_dose_dependent_spillover_biases_every_design_s_total_effect(
        graph: sp.csr_array) -> None:
    """Misspecified exposure: the spillover grows with the share of treated neighbours.

    The designs' "exposed" units have a share far below 1, so their total-effect
    contrast misses the global effect (everyone treated vs no one) by many
    Monte Carlo errors, and its intervals do not cover it.
    """
    dose = {"direct": 1.0, "spillover": 0.5, "interaction": 0.0}
    truth = true_effects(**dose)["total"]
    for design in (IndependentSetDesign.from_graph(graph, seed=0),
                   ClusterDesign.from_graph(graph, saturations=(0.0, 0.5), seed=0)):
        table = replicate_estimates(design, graph, seed=41, exposure="share", truth=dose)
        total = table[table["effect"] == "total"]
        error = total["estimate"].std() / np.sqrt(REPLICATES)
        assert abs(total["estimate"].mean() - truth) > 4 * error, type(design).__name__
        assert total["covered"].mean() < 0.5, type(design).__name__


def test_naive_difference_in_means_is_biased(graph: sp.csr_array) -> None:
    table = replicate_estimates(BernoulliDesign(graph.shape[0], 0.2), graph, seed=31)
    naive = table[table["effect"] == "naive"]
    bias = naive["estimate"].mean() - TRUTH["direct"]
    assert abs(bias) > 4 * naive["se"].mean()  # off by many of its own standard errors
    assert naive["covered"].mean() < 0.1
    # and it is not the total effect either (nor can it say anything about spillover)
    assert abs(naive["estimate"].mean() - true_effects(**TRUTH)["total"]) > 4 * naive["se"].mean()
    # the exposure-mapping estimator on the very same experiments is fine
    direct = table[table["effect"] == "direct"]
    assert direct["covered"].mean() >= 0.8


def test_exposure_probabilities_match_the_closed_form(graph: sp.csr_array) -> None:
    p = 0.2
    model = exposure_probabilities(BernoulliDesign(graph.shape[0], p), graph, draws=4000, seed=5)
    unexposed = (1 - p) ** degrees(graph)
    exact = np.stack([(1 - p) * unexposed, (1 - p) * (1 - unexposed), p * unexposed,
                      p * (1 - unexposed)], axis=1)
    assert np.allclose(model.probabilities.sum(axis=1), 1.0)
    sd = np.sqrt(exact * (1 - exact) / 4000)
    assert (np.abs(model.probabilities - exact) <= 5 * sd + 1e-12).mean() > 0.999


def test_noise_free_outcomes_are_recovered_exactly(graph: sp.csr_array) -> None:
    design = ClusterDesign.from_graph(graph, saturations=(0.0, 0.5), seed=1)
    model = exposure_probabilities(design, graph, draws=600, seed=2)
    z = design.assign(3)
    y = synthetic_outcomes(graph, z, direct=2.0, spillover=-1.0, interaction=0.25, noise=0.0)
    table = estimate_effects(y, z, model).set_index("effect")
    assert table["estimate"].to_dict() == pytest.approx(true_effects(2.0, -1.0, 0.25))
    assert table["se"].to_numpy() == pytest.approx(0.0, abs=1e-6)
    observed = conditions(graph, z)
    assert table.loc["direct", "n_condition"] <= (observed == 2).sum()


def test_bad_inputs_and_impossible_conditions(graph: sp.csr_array) -> None:
    n = graph.shape[0]
    pure = ClusterDesign.from_graph(graph, saturations=(0.0, 1.0), seed=1)
    model = exposure_probabilities(pure, graph, draws=300, seed=2)
    z = pure.assign(0)
    y = synthetic_outcomes(graph, z, direct=1.0, spillover=0.5, rng=0)
    table = estimate_effects(y, z, model).set_index("effect")
    # treating whole clusters leaves almost no treated unit without treated neighbours
    assert table.loc["direct", "units"] < 0.05 * n
    assert np.isfinite(table.loc["total", "estimate"])
    with pytest.raises(UserError, match="one value per unit"):
        estimate_effects(y[:10], z, model)
    bad = y.copy()
    bad[0] = np.nan
    with pytest.raises(UserError, match="missing or infinite"):
        estimate_effects(bad, z, model)
    with pytest.raises(UserError, match="has 5 units but the graph"):
        exposure_probabilities(BernoulliDesign(5), graph)
    with pytest.raises(UserError, match="at least two treated"):
        difference_in_means(np.ones(3), np.array([True, False, False]))
