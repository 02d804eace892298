"""Who spreads the rumour? One run on the personas of personas.csv, sharing by role and leaning.

Prints, for each FUSE role and each side of the leaning scale, how many agents there
are, the share who reshared the rumour (with a 95% Wilson interval), and a chi-square
test of whether sharing depends on the role. Writes sharing_by_role.csv.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest, chi2_contingency

from townsquare import Scenario, Simulation

HERE = Path(__file__).resolve().parent


def wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of k successes in n trials (scipy's, exact at 0 and n)."""
    bounds = [binomtest(int(ki), int(ni)).proportion_ci(0.95, method="wilson")
              for ki, ni in zip(k, n, strict=True)]
    return (np.array([b.low for b in bounds]), np.array([b.high for b in bounds]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--out", type=Path, default=Path("runs"))
    args = parser.parse_args()

    scenario = Scenario.load(HERE / "study.toml").with_overrides(
        {"steps": args.steps, "output_dir": str(args.out)})
    run = Simulation(scenario).run()

    agents = run.agents()
    posts = run.posts()  # 'news' is the item's index in the scenario's [[news]] list
    rumour = [item.id for item in run.scenario().news].index("rumour")
    reshares = posts[posts["kind"].isin(["repost", "quote"]) & (posts["news"] == rumour)]
    sharers = set(reshares["author"])
    agents["shared"] = agents["agent"].isin(sharers)
    agents["side"] = np.where(agents["leaning"] < 0, "left", "right")

    rows = []
    for column in ("role", "side"):
        table = agents.groupby(column, observed=True)["shared"].agg(["size", "sum"])
        low, high = wilson(table["sum"].to_numpy(float), table["size"].to_numpy(float))
        rows.append(pd.DataFrame({"by": column, "group": table.index.astype(str),
                                  "agents": table["size"].to_numpy(),
                                  "sharers": table["sum"].to_numpy(),
                                  "share": table["sum"].to_numpy() / table["size"].to_numpy(),
                                  "ci_low": low, "ci_high": high}))
    result = pd.concat(rows, ignore_index=True)
    print(f"run {run.id}: {len(agents):,} personas from personas.csv, "
          f"{len(sharers):,} reshared the rumour\n")
    print(result.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    counts = pd.crosstab(agents["role"], agents["shared"])
    if counts.shape[1] == 2 and (counts.sum(axis=1) > 0).all():
        chi2, p_value, dof, _ = chi2_contingency(counts)
        print(f"\nsharing depends on role? chi2 = {chi2:.2f}, dof = {dof}, p = {p_value:.3g}")
    result.to_csv(args.out / "sharing_by_role.csv", index=False)
    print(f"wrote {args.out / 'sharing_by_role.csv'}")


if __name__ == "__main__":
    main()
