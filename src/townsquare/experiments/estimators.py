"""Direct, spillover and total effects under network interference, with standard errors.

Exposure mapping (Aronow & Samii 2017, "Estimating average causal effects
under general interference", Ann. Appl. Stat. 11:1912): each unit is in one of
four conditions — own treatment ``Z`` (0/1) times exposure ``E`` = "at least
one neighbour treated" (0/1). The estimands compare average potential
outcomes ``mu(z, e)``:

* direct effect    ``mu(1, 0) - mu(0, 0)``: being treated, with no treated neighbour;
* spillover effect ``mu(0, 1) - mu(0, 0)``: having a treated neighbour, untreated;
* total effect     ``mu(1, 1) - mu(0, 0)``: treated among treated neighbours.

Estimator: the Hájek (ratio) estimator of each ``mu(z, e)``, weighting unit
``i`` by ``1 / pi_i(z, e)``, the probability that the design puts it in that
condition. The probabilities are computed by Monte Carlo: the design is drawn
``draws`` times and the share of draws placing each unit in each condition is
counted (:func:`exposure_probabilities`). An effect is estimated over the
units the design *measures* whose probabilities of both compared conditions
are at least ``min_probability`` (positivity; units that can hardly ever be in
a condition would get huge weights). Under a constant effect this subset does
not change the estimand; otherwise the estimate is the effect on that subset.

Standard error: the spread of the estimator over the design's own
randomization, with potential outcomes imputed under constant effects
(``Y_i(c) = Y_i - mu_hat(C_i) + mu_hat(c)``). It accounts for everything the
design does — clustered assignments, units sharing neighbours — without
pairwise inclusion probabilities. It is exact in expectation when effects are
homogeneous across units; with strongly heterogeneous effects it can
understate the variance somewhat (as the pooled-variance t-test does).
Confidence intervals are normal: ``estimate ± z * se``.

:func:`difference_in_means` is the naive treated-vs-control comparison with
Neyman's standard error, for contrast: it ignores exposure entirely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from townsquare.errors import UserError
from townsquare.experiments.designs import Design, undirected_adjacency

CONDITIONS = ("control_unexposed", "control_exposed", "treated_unexposed", "treated_exposed")
"""Condition codes 0..3 = 2 * Z + E."""

EFFECTS = {"direct": (2, 0), "spillover": (1, 0), "total": (3, 0)}
"""Effect name -> (condition, reference condition)."""

_CHUNK = 256  # draws handled at a time when re-randomizing (bounds memory)


def treated_neighbours(adjacency: sp.csr_array, treated: np.ndarray) -> np.ndarray:
    """Number of treated neighbours of each unit, for one ``(n,)`` or many ``(size, n)`` draws."""
    z = np.asarray(treated, dtype=np.float32)
    counts = adjacency @ z.T
    return np.rint(counts.T).astype(np.int64)


def conditions(adjacency: sp.csr_array, treated: np.ndarray) -> np.ndarray:
    """Condition code ``2 * Z + E`` of each unit (int8), same shape as ``treated``."""
    z = np.asarray(treated, dtype=bool)
    exposed = treated_neighbours(adjacency, z) > 0
    return (2 * z + exposed).astype(np.int8)


@dataclass(frozen=True, eq=False)
class ExposureModel:
    """A design on a graph with its Monte Carlo exposure probabilities.

    ``draws`` holds the condition codes of every unit in every Monte Carlo
    draw (``(draws, n)`` int8: mind memory for very large graphs);
    ``probabilities[i, c]`` is the share of draws placing unit ``i`` in
    condition ``c``.
    """

    adjacency: sp.csr_array
    measured: np.ndarray
    draws: np.ndarray
    probabilities: np.ndarray

    @property
    def n(self) -> int:
        return self.adjacency.shape[0]


def exposure_probabilities(design: Design, graph: Any, draws: int = 2000,
                           seed: int = 0) -> ExposureModel:
    """Draw ``design`` ``draws`` times on ``graph`` and count each unit's conditions."""
    adjacency = undirected_adjacency(graph)
    if design.n != adjacency.shape[0]:
        raise UserError(f"the design has {design.n} units but the graph {adjacency.shape[0]}")
    if draws < 2:
        raise UserError(f"draws must be at least 2, got {draws}")
    rng = np.random.default_rng(seed)
    codes = np.concatenate([
        conditions(adjacency, design.draw(rng, min(_CHUNK, draws - start)))
        for start in range(0, draws, _CHUNK)
    ])
    counts = np.stack([(codes == c).sum(axis=0) for c in range(len(CONDITIONS))], axis=1)
    return ExposureModel(adjacency, np.asarray(design.measured, bool), codes, counts / draws)


def _hajek(y: np.ndarray, codes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of ``y`` in each condition (NaN where no unit is in it)."""
    w = weights[np.arange(len(codes)), codes]
    k = len(CONDITIONS)
    total = np.bincount(codes, weights=w, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.bincount(codes, weights=w * y, minlength=k) / total, np.nan)


def _rerandomized(residual: np.ndarray, draws: np.ndarray, weights: np.ndarray, a: int,
                  b: int) -> np.ndarray:
    """Hájek contrast ``a - b`` of the residuals in each Monte Carlo draw (rows of ``draws``).

    Sums per draw are products of the 0/1 condition masks with weight vectors,
    in float32 (ample for a standard error) and with ``einsum`` (no BLAS
    threads, which cost more than they save on such skinny products).
    """
    out = []
    for start in range(0, draws.shape[0], _CHUNK):
        chunk = draws[start:start + _CHUNK]
        means = []
        for c in (a, b):
            mask = (chunk == c).astype(np.float32)
            total = np.einsum("ij,j->i", mask, weights[:, c].astype(np.float32))
            sums = np.einsum("ij,j->i", mask, (weights[:, c] * residual).astype(np.float32))
            with np.errstate(invalid="ignore", divide="ignore"):
                means.append(np.where(total > 0, sums / total, np.nan))
        out.append(means[0] - means[1])
    return np.concatenate(out)


def estimate_effects(
    outcome: np.ndarray,
    treated: np.ndarray,
    model: ExposureModel,
    level: float = 0.95,
    min_probability: float = 0.02,
) -> pd.DataFrame:
    """Direct, spillover and total effects with SE and CI (one row per effect).

    ``outcome`` and ``treated`` hold one value per unit of the graph (only
    the design's measured units are used). Columns: ``effect``,
    ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``units`` (units with
    positivity for the effect), ``n_condition`` and ``n_reference`` (of those,
    observed in each compared condition).
    """
    y = np.asarray(outcome, dtype=np.float64)
    z = np.asarray(treated, dtype=bool)
    if y.shape != (model.n,) or z.shape != (model.n,):
        raise UserError(f"outcome and treated need one value per unit ({model.n})")
    if not np.isfinite(y[model.measured]).all():
        raise UserError("outcome has missing or infinite values for measured units")
    if not 0 < min_probability <= 1:
        raise UserError(f"min_probability must lie in (0, 1], got {min_probability}")
    if not 0 < level < 1:
        raise UserError(f"confidence level must lie in (0, 1), got {level}")
    observed = conditions(model.adjacency, z)
    floor = 0.5 / model.draws.shape[0]  # a unit seen in a condition has probability > 0
    weights = 1.0 / np.maximum(model.probabilities, floor)
    quantile = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for name, (a, b) in EFFECTS.items():
        p = model.probabilities
        units = np.flatnonzero(model.measured & (p[:, a] >= min_probability)
                               & (p[:, b] >= min_probability))
        yu, cu, wu = y[units], observed[units], weights[units]
        n_a, n_b = int((cu == a).sum()), int((cu == b).sum())
        row: dict[str, Any] = {"effect": name, "estimate": np.nan, "se": np.nan,
                               "ci_low": np.nan, "ci_high": np.nan, "units": len(units),
                               "n_condition": n_a, "n_reference": n_b}
        if n_a >= 2 and n_b >= 2:
            means = _hajek(yu, cu, wu)
            estimate = means[a] - means[b]
            residual = yu - np.nan_to_num(means)[cu]
            spread = _rerandomized(residual, model.draws[:, units], wu, a, b)
            se = float(np.nanstd(spread, ddof=1))
            row |= {"estimate": estimate, "se": se, "ci_low": estimate - quantile * se,
                    "ci_high": estimate + quantile * se}
        rows.append(row)
    return pd.DataFrame(rows)


def difference_in_means(outcome: np.ndarray, treated: np.ndarray, level: float = 0.95,
                        units: np.ndarray | None = None) -> pd.DataFrame:
    """Naive treated-minus-control mean with Neyman's SE (ignores interference)."""
    y = np.asarray(outcome, dtype=np.float64)
    z = np.asarray(treated, dtype=bool)
    keep = np.ones(len(y), bool) if units is None else np.asarray(units, bool)
    y1, y0 = y[keep & z], y[keep & ~z]
    if len(y1) < 2 or len(y0) < 2:
        raise UserError("the naive comparison needs at least two treated and two control units")
    estimate = float(y1.mean() - y0.mean())
    se = float(np.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0)))
    quantile = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame([{"effect": "naive", "estimate": estimate, "se": se,
                          "ci_low": estimate - quantile * se, "ci_high": estimate + quantile * se,
                          "units": int(keep.sum()), "n_condition": len(y1),
                          "n_reference": len(y0)}])
