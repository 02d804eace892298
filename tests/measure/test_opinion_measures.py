"""Opinion measures: polarization against theory, sorting on constructed graphs."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from townsquare.measure.opinion import (
    attitude_assortativity,
    attitude_by_group,
    attitude_summary,
    bimodality_coefficient,
    echo_chamber_index,
    emotion_summary,
    esteban_ray,
)

RNG_SEED = 20240611


def _er_reference(x: np.ndarray, bins: int, alpha: float) -> float:
    """The Esteban-Ray double sum written out, with the documented normalisation."""
    edges = np.linspace(-1, 1, bins + 1)
    p = np.histogram(x, edges)[0] / len(x)
    y = (edges[:-1] + edges[1:]) / 2
    raw = sum(
        p[i] ** (1 + alpha) * p[j] * abs(y[i] - y[j]) for i in range(bins) for j in range(bins)
    )
    return raw * 2 ** (1 + alpha) / (y[-1] - y[0])


# -- Esteban-Ray ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1.0, -0.3, 0.0, 0.99, 1.0])
def test_esteban_ray_is_zero_for_identical_opinions(value: float) -> None:
    assert esteban_ray(np.full(100, value)) == 0.0


@pytest.mark.parametrize("bins", [2, 10, 21])
def test_esteban_ray_is_one_for_equal_masses_at_the_extremes(bins: int) -> None:
    x = np.r_[np.full(50, -1.0), np.full(50, 1.0)]
    assert esteban_ray(x, bins=bins) == pytest.approx(1.0, rel=1e-12)


def test_two_extreme_masses_are_the_maximum_over_two_point_distributions() -> None:
    # Esteban & Ray (1994): for alpha <= alpha* ~ 1.6 the symmetric bipolar distribution is maximal.
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(200):
        a, b = rng.uniform(-1, 1, 2)
        share = rng.uniform(0.05, 0.95)
        x = np.where(np.arange(1000) < share * 1000, a, b)
        assert esteban_ray(x) <= 1.0 + 1e-12
    unequal = np.r_[np.full(80, -1.0), np.full(20, 1.0)]
    assert esteban_ray(unequal) < 1.0


def test_esteban_ray_grows_from_unimodal_to_bimodal() -> None:
    rng = np.random.default_rng(RNG_SEED)
    unimodal = np.clip(rng.normal(0.0, 0.25, 5000), -1, 1)
    bimodal = np.clip(np.r_[rng.normal(-0.7, 0.1, 2500), rng.normal(0.7, 0.1, 2500)], -1, 1)
    assert esteban_ray(bimodal) > 2 * esteban_ray(unimodal) > 0


@pytest.mark.parametrize(("bins", "alpha"), [(10, 1.6), (7, 1.0), (30, 0.5)])
def test_esteban_ray_matches_the_double_sum(bins: int, alpha: float) -> None:
    x = np.random.default_rng(RNG_SEED).uniform(-1, 1, 777)
    assert esteban_ray(x, bins=bins, alpha=alpha) == pytest.approx(
        _er_reference(x, bins, alpha), rel=1e-10
    )


def test_esteban_ray_accepts_bin_edges_and_rejects_bad_input() -> None:
    x = np.r_[np.full(5, -1.0), np.full(5, 1.0)]
    assert esteban_ray(x, bins=[-1.0, 0.0, 1.0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"lie in \[-1, 1\]"):
        esteban_ray(np.array([0.0, 1.5]))
    with pytest.raises(ValueError, match="finite"):
        esteban_ray(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="alpha must be positive"):
        esteban_ray(x, alpha=0.0)
    with pytest.raises(ValueError, match="two increasing bins"):
        esteban_ray(x, bins=[-1.0, 1.0])


# -- bimodality ----------------------------------------------------------------------------


def test_bimodality_coefficient_separates_bimodal_from_normal() -> None:
    rng = np.random.default_rng(RNG_SEED)
    bimodal = np.r_[rng.normal(-0.6, 0.15, 1000), rng.normal(0.6, 0.15, 1000)]
    normal = rng.normal(0.0, 0.3, 2000)
    assert bimodality_coefficient(bimodal) > 5 / 9
    assert bimodality_coefficient(normal) < 5 / 9
    # The uniform distribution sits at the 5/9 threshold, the normal at 1/3.
    assert bimodality_coefficient(rng.uniform(-1, 1, 200_000)) == pytest.approx(5 / 9, abs=0.005)
    assert bimodality_coefficient(rng.normal(0, 1, 200_000)) == pytest.approx(1 / 3, abs=0.005)


def test_bimodality_coefficient_formula_on_a_small_sample() -> None:
    x = np.array([0.1, 0.2, 0.25, 0.9, -0.4, 0.0])
    n = len(x)
    m = x.mean()
    m2, m3, m4 = (np.mean((x - m) ** k) for k in (2, 3, 4))
    g1, g2 = m3 / m2**1.5, m4 / m2**2 - 3
    skew = np.sqrt(n * (n - 1)) / (n - 2) * g1
    kurt = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6)
    expected = (skew**2 + 1) / (kurt + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    assert bimodality_coefficient(x) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(bimodality_coefficient(x[:3]))
    assert np.isnan(bimodality_coefficient(np.zeros(10)))


def test_attitude_summary() -> None:
    x = np.array([-1.0, -0.8, 0.0, 0.5, 1.0])
    summary = attitude_summary(x)
    assert summary["n"] == 5
    assert summary["mean"] == pytest.approx(-0.06)
    assert summary["variance"] == pytest.approx(np.var(x))
    assert summary["std"] == pytest.approx(np.std(x))
    assert summary["share_extreme"] == pytest.approx(3 / 5)
    assert summary["bimodality_coefficient"] == bimodality_coefficient(x)
    assert summary["esteban_ray"] == esteban_ray(x)
    assert attitude_summary(x, extreme=0.9)["share_extreme"] == pytest.approx(2 / 5)
    empty = attitude_summary(np.array([]))
    assert empty["n"] == 0 and np.isnan(empty["mean"]) and np.isnan(empty["esteban_ray"])


def test_attitude_by_group() -> None:
    out = attitude_by_group(np.array([-1.0, -0.5, 0.2, 0.4, 0.9]), np.array([0, 0, 1, 1, 1]))
    assert out["n"].tolist() == [2, 3]
    assert out["mean"].tolist() == pytest.approx([-0.75, 0.5])
    assert out["variance"].tolist() == pytest.approx([0.0625, np.var([0.2, 0.4, 0.9])])
    assert out["share_extreme"].tolist() == pytest.approx([0.5, 1 / 3])


# -- on the graph --------------------------------------------------------------------------


def test_assortativity_is_one_within_camps_and_minus_one_across() -> None:
    x = np.array([-0.9, -0.9, 0.6, 0.6])
    within = np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2])
    across = np.array([0, 2, 1, 3]), np.array([2, 0, 3, 1])
    assert attitude_assortativity(*within, x) == pytest.approx(1.0)
    assert attitude_assortativity(*across, x) == pytest.approx(-1.0)


def test_assortativity_matches_networkx_on_a_random_digraph() -> None:
    rng = np.random.default_rng(RNG_SEED)
    graph = nx.gnp_random_graph(60, 0.08, seed=RNG_SEED, directed=True)
    x = rng.uniform(-1, 1, 60)
    nx.set_node_attributes(graph, dict(enumerate(x)), "x")
    src, dst = np.array(graph.edges()).T
    expected = nx.numeric_assortativity_coefficient(graph, "x")
    assert attitude_assortativity(src, dst, x) == pytest.approx(expected, rel=1e-9)
    # Duplicate edges and self-loops do not change it.
    dup_src, dup_dst = np.r_[src, src[:5], 3], np.r_[dst, dst[:5], 3]
    assert attitude_assortativity(dup_src, dup_dst, x) == pytest.approx(expected, rel=1e-9)


def test_assortativity_is_nan_without_edges_or_variance() -> None:
    assert np.isnan(attitude_assortativity(np.array([]), np.array([]), np.zeros(3)))
    assert np.isnan(attitude_assortativity(np.array([0, 1]), np.array([1, 2]), np.ones(3)))


def test_echo_chamber_index_on_a_constructed_graph() -> None:
    x = np.array([0.5, 0.6, -0.5, -0.7, 0.1])
    # 0 follows 1 (same) and 2 (other); 1 follows 0; 2 follows 3; 3 follows 2 and 0; 4 follows none.
    src = np.array([0, 0, 1, 2, 3, 3, 3, 1])
    dst = np.array([1, 2, 0, 3, 2, 0, 3, 0])  # 3 -> 3 is a self-loop, 1 -> 0 a duplicate
    out = echo_chamber_index(src, dst, x)
    assert out["agents"] == 4
    assert out["same_sign_share"] == pytest.approx((0.5 + 1 + 1 + 0.5) / 4)
    neighbor_means = np.array([(0.6 - 0.5) / 2, 0.5, -0.7, (-0.5 + 0.5) / 2])
    expected = np.corrcoef(x[:4], neighbor_means)[0, 1]
    assert out["neighbor_mean_correlation"] == pytest.approx(expected, rel=1e-12)


def test_echo_chamber_index_of_two_closed_camps_is_one() -> None:
    x = np.array([-0.8, -0.4, 0.4, 0.8])
    out = echo_chamber_index(np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2]), x)
    assert out["same_sign_share"] == 1.0
    assert out["neighbor_mean_correlation"] == pytest.approx(
        np.corrcoef(x, [-0.4, -0.8, 0.8, 0.4])[0, 1]
    )
    with pytest.raises(ValueError, match=r"endpoints must lie in \[0, 4\)"):
        echo_chamber_index(np.array([0]), np.array([4]), x)


# -- emotion -------------------------------------------------------------------------------


def test_emotion_summary() -> None:
    valence = np.array([-0.5, -0.1, 0.2, 0.8])
    arousal = np.array([0.9, 0.2, 0.6, 0.1])
    out = emotion_summary(valence, arousal)
    assert out["n"] == 4
    assert out["mean_valence"] == pytest.approx(0.1)
    assert out["std_valence"] == pytest.approx(np.std(valence))
    assert out["mean_arousal"] == pytest.approx(0.45)
    assert out["share_negative"] == 0.5
    assert out["share_high_arousal"] == 0.5
    assert out["share_negative_high_arousal"] == 0.25
    assert out["valence_arousal_correlation"] == pytest.approx(np.corrcoef(valence, arousal)[0, 1])
    assert np.isnan(emotion_summary(np.array([]), np.array([]))["mean_valence"])
    with pytest.raises(ValueError, match="differ in length"):
        emotion_summary(valence, arousal[:2])
