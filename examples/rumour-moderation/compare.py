"""Does fact-checking reduce belief in a false rumour? A paired sweep of moderation strategies.

Every arm runs the same replicate seeds (common random numbers), so each strategy is
compared with ``none`` replicate by replicate: the difference, its 95% CI, the p-value
and Hedges' g. Writes effects.csv beside the sweep.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from townsquare import Scenario
from townsquare.experiments import Sweep, effect_sizes, summarize_sweep

HERE = Path(__file__).resolve().parent
MEASURES = ["believers_rumour", "reach_rumour", "reach_report"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("sweep-moderation"))
    args = parser.parse_args()

    base = Scenario.load(HERE / "study.toml").with_overrides(
        {"population.size": args.agents, "steps": args.steps})
    grid = {"platform.moderation.strategy": ["none", "fact_check", "community_notes"]}
    sweep = Sweep(base, grid, args.replicates, out=args.out, workers=args.workers)
    results = sweep.run()

    pd.set_option("display.width", 160)
    print(summarize_sweep(results, MEASURES).to_string(index=False))
    control = {"platform.moderation.strategy": "none"}
    effects = pd.concat([effect_sizes(results, m, reference=control) for m in MEASURES],
                        ignore_index=True)
    shown = ["param_platform_moderation_strategy", "measure", "n", "difference", "ci_low",
             "ci_high", "p_value", "hedges_g", "paired"]
    print("\nDifference from no moderation (paired by replicate):")
    print(effects[shown].to_string(index=False))
    effects.to_csv(args.out / "effects.csv", index=False)
    print(f"\nwrote {args.out / 'effects.csv'}")


if __name__ == "__main__":
    main()
