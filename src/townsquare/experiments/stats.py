"""Statistics over replicates: means with confidence intervals, and effects between arms.

Confidence intervals are Student-t (default; exact for normal replicate
outcomes, good for means of ~10+ replicates) or bootstrap (BCa, falling back
to percentile when BCa is undefined; no normality assumption, needs more
replicates to be reliable). Effects compare each arm with a reference arm:
the difference in means with its CI and p-value — *paired by replicate* when
both arms ran the same seeds at each replicate (a sweep's common random
numbers), else Welch's unequal-variance comparison — and the standardized
effect sizes Cohen's d (difference over the pooled standard deviation) and
Hedges' g (d with the exact small-sample correction). d and g always use the
pooled between-replicate SD, paired or not, so they are comparable across
designs; pairing only narrows the CI of the difference.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from townsquare.errors import UserError
from townsquare.experiments.grid import column_name
from townsquare.measure.ranges import clip_to_range

Method = Literal["t", "bootstrap"]
ID_COLUMNS = ("run_id", "arm", "replicate", "seed")


def mean_ci(
    values: Sequence[float] | np.ndarray,
    level: float = 0.95,
    method: Method = "t",
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(mean, low, high) of the ``level`` confidence interval for the mean of ``values``.

    NaNs are dropped; fewer than two values give NaN bounds.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    _check(level, method)
    if len(x) == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(x.mean())
    if len(x) < 2:
        return (mean, np.nan, np.nan)
    if np.ptp(x) == 0:
        return (mean, mean, mean)
    if method == "t":
        half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
        return (mean, mean - half, mean + half)
    low, high = _bootstrap((x,), np.mean, level, n_boot, seed)
    return (mean, low, high)


def _bootstrap(samples: tuple[np.ndarray, ...], statistic: Any, level: float, n_boot: int,
               seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = stats.bootstrap(samples, statistic, confidence_level=level,
                                     n_resamples=n_boot, method=method, rng=rng,
                                     vectorized=True)
        low, high = result.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            break
    return (float(low), float(high))


def _check(level: float, method: str) -> None:
    if not 0 < level < 1:
        raise UserError(f"confidence level must lie in (0, 1), got {level}")
    if method not in ("t", "bootstrap"):
        raise UserError(f"unknown CI method '{method}'; use 't' or 'bootstrap'")


def measure_columns(results: pd.DataFrame) -> list[str]:
    """Numeric columns of a results table that are measures (not ids or parameters)."""
    return [
        c for c in results.columns
        if c not in ID_COLUMNS and not c.startswith("param_")
        and pd.api.types.is_numeric_dtype(results[c]) and not pd.api.types.is_bool_dtype(results[c])
    ]


def _by_columns(results: pd.DataFrame, by: Sequence[str] | str | None) -> list[str]:
    if by is None:
        return [c for c in results.columns if c.startswith("param_")]
    names = [by] if isinstance(by, str) else list(by)
    out = []
    for name in names:
        column = name if name in results.columns else column_name(name)
        if column not in results.columns:
            raise UserError(f"no column '{name}' to group by; columns: {list(results.columns)}")
        out.append(column)
    return out


def _measures(results: pd.DataFrame, measures: Sequence[str] | str | None) -> list[str]:
    if measures is None:
        return measure_columns(results)
    names = [measures] if isinstance(measures, str) else list(measures)
    missing = [m for m in names if m not in results.columns]
    if missing:
        known = ", ".join(measure_columns(results))
        raise UserError(f"no measure {', '.join(map(repr, missing))} in the results; "
                        f"measures: {known}")
    return names


def _groups(
    results: pd.DataFrame, by: list[str]
) -> list[tuple[tuple[Hashable, ...], pd.DataFrame]]:
    if not by:
        return [((), results)]
    return [((k,) if not isinstance(k, tuple) else k, g)
            for k, g in results.groupby(by, sort=False, dropna=False)]


def summarize_sweep(
    results: pd.DataFrame,
    measures: Sequence[str] | str | None = None,
    by: Sequence[str] | str | None = None,
    level: float = 0.95,
    method: Method = "t",
) -> pd.DataFrame:
    """Mean, SD and CI of each measure per arm (one row per arm and measure).

    ``by`` defaults to every ``param_`` column (one group per arm); parameter
    names may be given with or without the ``param_`` prefix. Interval bounds are
    clipped to the measure's range (counts at 0, shares at 0 and 1; see
    :mod:`townsquare.measure.ranges`).
    """
    _check(level, method)
    by_cols, names = _by_columns(results, by), _measures(results, measures)
    rows = []
    for key, group in _groups(results, by_cols):
        for measure in names:
            values = group[measure].to_numpy(np.float64)
            mean, low, high = mean_ci(values, level, method)
            low, high = clip_to_range(measure, np.array([low, high]))
            valid = values[~np.isnan(values)]
            rows.append(dict(zip(by_cols, key, strict=True)) | {
                "measure": measure, "n": len(valid), "mean": mean,
                "sd": float(valid.std(ddof=1)) if len(valid) > 1 else np.nan,
                "ci_low": low, "ci_high": high,
            })
    return pd.DataFrame(rows)


def effect_sizes(
    results: pd.DataFrame,
    measure: str,
    reference: Mapping[str, Any] | int | None = None,
    by: Sequence[str] | str | None = None,
    level: float = 0.95,
    method: Method = "t",
    paired: bool | None = None,
) -> pd.DataFrame:
    """Each arm against a reference arm: difference in means with CI, Cohen's d, Hedges' g.

    ``reference`` is a mapping of parameter values (names with or without
    ``param_``), an arm index, or None for the first arm. ``paired=None``
    pairs by replicate whenever both arms share the seed of every replicate.
    """
    _check(level, method)
    by_cols = _by_columns(results, by)
    [measure] = _measures(results, measure)
    groups = _groups(results, by_cols)
    ref_key, ref = _reference(groups, by_cols, reference)
    rows = []
    for key, group in groups:
        if key == ref_key:
            continue
        row = dict(zip(by_cols, key, strict=True)) | {"measure": measure}
        rows.append(row | _compare(group, ref, measure, level, method, paired))
    return pd.DataFrame(rows)


def _reference(groups: list[tuple[tuple[Hashable, ...], pd.DataFrame]], by: list[str],
               reference: Mapping[str, Any] | int | None) -> tuple[tuple, pd.DataFrame]:
    if not groups:
        raise UserError("the results table is empty")
    if reference is None:
        return groups[0]
    if isinstance(reference, bool):
        raise UserError(f"reference must be an arm number or parameter values, not {reference}")
    for key, group in groups:
        if isinstance(reference, int):
            if "arm" in group and (group["arm"] == reference).all():
                return key, group
            continue
        wanted = {(k if k in by else column_name(k)): v for k, v in reference.items()}
        unknown = [k for k in wanted if k not in by]
        if unknown:
            raise UserError(f"reference names unknown parameter(s) {unknown}; parameters: {by}")
        if all(group[k].iloc[0] == v for k, v in wanted.items()):
            return key, group
    raise UserError(f"no arm matches the reference {reference!r}")


def _compare(arm: pd.DataFrame, ref: pd.DataFrame, measure: str, level: float, method: Method,
             paired: bool | None) -> dict[str, Any]:
    can_pair = {"replicate", "seed"} <= set(arm.columns)
    if can_pair:
        both = arm.merge(ref, on="replicate", suffixes=("", "_ref"))
        can_pair = len(both) >= 2 and bool((both["seed"] == both["seed_ref"]).all())
    if paired and not can_pair:
        raise UserError("cannot pair by replicate: the arms do not share seeds per replicate")
    use_pairs = can_pair if paired is None else paired
    x = arm[measure].to_numpy(np.float64)
    y = ref[measure].to_numpy(np.float64)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if use_pairs:
        both = both.dropna(subset=[measure, f"{measure}_ref"])
        diffs = (both[measure] - both[f"{measure}_ref"]).to_numpy(np.float64)
        difference, low, high = mean_ci(diffs, level, method)
        p = _p_value(lambda: stats.ttest_1samp(diffs, 0.0).pvalue, diffs)
        n = len(diffs)
    else:
        difference, low, high = _unpaired(x, y, level, method)
        p = _p_value(lambda: stats.ttest_ind(x, y, equal_var=False).pvalue, x, y)
        n = len(x)
    d = _cohens_d(x, y)
    df = len(x) + len(y) - 2
    correction = np.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / np.sqrt(
        df / 2) if df > 1 else np.nan
    return {"n": n, "n_reference": len(y), "mean": float(x.mean()) if len(x) else np.nan,
            "reference_mean": float(y.mean()) if len(y) else np.nan,
            "difference": difference, "ci_low": low, "ci_high": high, "p_value": p,
            "paired": bool(use_pairs), "cohens_d": d, "hedges_g": d * correction}


def _unpaired(x: np.ndarray, y: np.ndarray, level: float,
              method: Method) -> tuple[float, float, float]:
    if len(x) == 0 or len(y) == 0:
        return (np.nan, np.nan, np.nan)
    difference = float(x.mean() - y.mean())
    if len(x) < 2 or len(y) < 2:
        return (difference, np.nan, np.nan)
    if method == "bootstrap":
        def stat(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
            return a.mean(axis=axis) - b.mean(axis=axis)

        if np.ptp(x) == 0 and np.ptp(y) == 0:
            return (difference, difference, difference)
        low, high = _bootstrap((x, y), stat, level, 2000, 0)
        return (difference, low, high)
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = np.sqrt(vx + vy)
    if se == 0:
        return (difference, difference, difference)
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = stats.t.ppf(0.5 + level / 2, df) * se
    return (difference, difference - half, difference + half)


def _p_value(test: Any, *samples: np.ndarray) -> float:
    """The test's p-value, NaN where it is undefined (too few or constant values)."""
    if any(len(s) < 2 for s in samples) or all(np.ptp(s) == 0 for s in samples):
        return np.nan
    return float(test())


def _cohens_d(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or len(y) < 2:
        return np.nan
    pooled = np.sqrt(((len(x) - 1) * x.var(ddof=1) + (len(y) - 1) * y.var(ddof=1))
                     / (len(x) + len(y) - 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(x.mean() - y.mean()) / pooled)
