"""Does a run look like a real platform? Checks against stylized facts, and recorded data.

Each check reports PASS, FAIL or SKIP (not applicable) with the number it
measured and what was expected:

* ``cascade size tail`` — cascade sizes are heavy-tailed: over the tail
  ``size >= xmin`` a discrete power law fits better than a discrete
  exponential (log-likelihood ratio ``R > 0``; Clauset, Shalizi & Newman 2009,
  "Power-law distributions in empirical data", SIAM Review 51:661, with
  ``xmin`` chosen by their KS-minimizing method and the Vuong p-value).
* ``cascade size exponent`` — the fitted exponent lies in a plausible range
  (default 1.5–4; observed cascade-size exponents are mostly 2–3).
* ``most cascades small`` — the share of posts never reshared is at least a
  threshold (default 0.5; Goel, Watts & Goldstein 2012 find over 90%).
* ``user activity tail`` — events per agent are heavy-tailed (``R > 0`` as
  above): a few accounts do most of the acting.
* ``follower degree tail`` — followers per account (the initial follow graph's
  in-degrees) are heavy-tailed (``R > 0`` as above; Kwak et al. 2010 for Twitter).
* ``false news reach further`` — false items reach more agents than true ones
  (Vosoughi, Roy & Aral 2018), checked wherever the scenario has both.
* ``false news faster`` — false items reach ``k`` agents in fewer steps than true
  ones (Vosoughi et al.: six times faster to 1,500 people), with ``k`` half the
  smaller final reach, so both get there.

A check is skipped only when the run cannot answer it (no false and true news,
too few values for a tail fit), never because a model parameter is off.

With a recorded data set the report adds the distribution comparison of
:func:`townsquare.experiments.recorded.compare_cascades`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from townsquare.experiments.recorded import compare_cascades, read_recorded
from townsquare.run import Run

Status = Literal["PASS", "FAIL", "SKIP"]


@dataclass(frozen=True)
class TailFit:
    """A discrete power law fitted to the tail of a sample, against an exponential."""

    xmin: int
    alpha: float
    n_tail: int
    loglik_ratio: float  # > 0: power law fits better than the exponential
    p_value: float  # Vuong's test that the sign of the ratio is not chance


def _powerlaw_alpha(x: np.ndarray, xmin: int) -> float:
    """Maximum-likelihood exponent of a discrete power law on ``x >= xmin``."""
    logsum = np.log(x).sum()

    def nll(alpha: float) -> float:
        return alpha * logsum + len(x) * np.log(special.zeta(alpha, xmin))

    return float(optimize.minimize_scalar(nll, bounds=(1.0001, 8.0), method="bounded").x)


def _ks_distance(x: np.ndarray, xmin: int, alpha: float) -> float:
    values, counts = np.unique(x, return_counts=True)
    empirical = np.cumsum(counts[::-1])[::-1] / len(x)  # P(X >= v)
    model = special.zeta(alpha, values) / special.zeta(alpha, xmin)
    return float(np.max(np.abs(empirical - model)))


def fit_tail(values: np.ndarray, xmin: int | None = None, min_tail: int = 10) -> TailFit | None:
    """Fit the tail of positive integer ``values``; None if there are too few to fit.

    ``xmin=None`` picks, among the observed values leaving at least
    ``min_tail`` points in the tail, the one whose fit has the smallest KS
    distance (Clauset et al. 2009).
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[x >= 1]
    if xmin is None:
        candidates = [v for v in np.unique(x)[:50] if (x >= v).sum() >= min_tail]
        if not candidates:
            return None
        fits = [(v, _powerlaw_alpha(x[x >= v], int(v))) for v in candidates]
        xmin, _ = min(fits, key=lambda f: _ks_distance(x[x >= f[0]], int(f[0]), f[1]))
    tail = x[x >= xmin]
    if len(tail) < min_tail or np.ptp(tail) == 0:
        return None
    xmin = int(xmin)
    alpha = _powerlaw_alpha(tail, xmin)
    log_pl = -alpha * np.log(tail) - np.log(special.zeta(alpha, xmin))
    lam = np.log1p(1.0 / (tail - xmin).mean())  # geometric on x - xmin
    log_exp = np.log(-np.expm1(-lam)) - lam * (tail - xmin)
    diff = log_pl - log_exp
    ratio, sd = float(diff.sum()), float(diff.std())
    p = float(special.erfc(abs(ratio) / np.sqrt(2 * len(tail)) / sd)) if sd > 0 else np.nan
    return TailFit(xmin, alpha, len(tail), ratio, p)


@dataclass(frozen=True)
class Check:
    """One stylized fact checked on a run."""

    name: str
    status: Status
    value: str
    expected: str


@dataclass(frozen=True)
class ValidationReport:
    """The checks of one run, and the comparison with recorded data if one was given."""

    run_id: str
    checks: list[Check]
    comparison: pd.DataFrame | None = field(default=None)

    @property
    def passed(self) -> bool:
        """No check failed (skipped checks do not count)."""
        return all(c.status != "FAIL" for c in self.checks)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.__dict__ for c in self.checks])


def _status(ok: bool) -> Status:
    return "PASS" if ok else "FAIL"


def _tail_checks(label: str, values: np.ndarray,
                 alpha_range: tuple[float, float] | None) -> list[Check]:
    fit = fit_tail(values)
    if fit is None:
        checks = [Check(f"{label} tail", "SKIP", f"{len(values)} values",
                        "at least 10 in the tail, not all equal")]
        return checks + ([Check(f"{label} exponent", "SKIP", "no fit", "a tail fit")]
                         if alpha_range else [])
    shown = f"R={fit.loglik_ratio:.3g} (p={fit.p_value:.2g}), xmin={fit.xmin}, n={fit.n_tail}"
    checks = [Check(f"{label} tail", _status(fit.loglik_ratio > 0), shown,
                    "power law beats exponential (R > 0)")]
    if alpha_range is not None:
        low, high = alpha_range
        checks.append(Check(f"{label} exponent", _status(low <= fit.alpha <= high),
                            f"alpha={fit.alpha:.3g}", f"{low} <= alpha <= {high}"))
    return checks


def _news_checks(run: Run) -> list[Check]:
    reach, faster = "false news reach further", "false news faster"
    scenario = run.scenario()
    veracities = {item.veracity for item in scenario.news}
    metrics = run.metrics()
    if not {"true", "false"} <= veracities or "reach_false" not in metrics:
        why = "no false and true news in the scenario"
        return [Check(reach, "SKIP", why, "reach_false > reach_true"),
                Check(faster, "SKIP", why, "fewer steps to k agents")]
    false, true = metrics["reach_false"].to_numpy(), metrics["reach_true"].to_numpy()
    k = max(1.0, 0.5 * min(false[-1], true[-1]))
    steps = [int(metrics.index[np.argmax(r >= k)]) for r in (false, true)]
    return [
        Check(reach, _status(false[-1] > true[-1]), f"{false[-1]:g} vs {true[-1]:g}",
              "reach_false > reach_true"),
        Check(faster, _status(steps[0] < steps[1]),
              f"step {steps[0]} vs {steps[1]} to reach {k:,.0f} agents",
              "fewer steps to k agents"),
    ]


def validate_run(
    run: Run | str | Path,
    recorded: str | Path | None = None,
    *,
    runs_dir: str | Path = "runs",
    min_unshared: float = 0.5,
    alpha_range: tuple[float, float] = (1.5, 4.0),
    news_only: bool = False,
) -> ValidationReport:
    """Check a run against stylized facts; compare with a recorded CSV if given.

    ``news_only`` restricts the recorded comparison to simulated cascades
    started by a seeded news item (as when a digital clone is seeded with
    recorded posts).
    """
    run = run if isinstance(run, Run) else Run.open(run, runs_dir)
    posts = run.reader.query("SELECT post_id, parent, root, step, author, news FROM posts")
    checks: list[Check] = []
    if len(posts):
        cascades = run.cascades()
        checks += _tail_checks("cascade size", cascades["size"].to_numpy(), alpha_range)
        unshared = float((cascades["size"] == 1).mean())
        checks.append(Check("most cascades small", _status(unshared >= min_unshared),
                            f"{unshared:.1%} never reshared", f">= {min_unshared:.0%}"))
    else:
        checks.append(Check("cascade size tail", "SKIP", "no posts", "posts"))
    activity = run.reader.query("SELECT COUNT(*) AS n FROM events GROUP BY agent")["n"]
    checks += _tail_checks("user activity", activity.to_numpy(), None)
    followers = np.bincount(run.edges()["dst"].to_numpy(np.int64))
    checks += _tail_checks("follower degree", followers[followers > 0], None)
    checks += _news_checks(run)
    comparison = None
    if recorded is not None:
        simulated = posts
        if news_only:
            roots = posts.loc[posts["news"] >= 0, "post_id"]
            simulated = posts[posts["root"].isin(roots)]
        comparison = compare_cascades(simulated, read_recorded(recorded))
    return ValidationReport(run.id, checks, comparison)
