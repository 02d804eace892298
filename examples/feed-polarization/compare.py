"""Does engagement ranking polarize attitudes? A paired sweep of the feed's engagement weight.

Arms: platform.feed.mix.engagement = 0 (chronological feed), 1 (half engagement-ranked)
and 4 (80%). Each is compared with the chronological arm replicate by replicate:
difference, 95% CI, p-value and Hedges' g for polarization and attitude variance.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from townsquare import Scenario
from townsquare.experiments import Sweep, effect_sizes, summarize_sweep

HERE = Path(__file__).resolve().parent
MEASURES = ["polarization_esteban_ray", "attitude_variance", "total_engagement"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("sweep-feed"))
    args = parser.parse_args()

    base = Scenario.load(HERE / "study.toml").with_overrides(
        {"population.size": args.agents, "steps": args.steps})
    grid = {"platform.feed.mix.engagement": [0.0, 1.0, 4.0]}
    results = Sweep(base, grid, args.replicates, out=args.out, workers=args.workers).run()

    pd.set_option("display.width", 160)
    print(summarize_sweep(results, MEASURES).to_string(index=False))
    effects = pd.concat([effect_sizes(results, m, reference={"platform.feed.mix.engagement": 0.0})
                         for m in MEASURES], ignore_index=True)
    shown = ["param_platform_feed_mix_engagement", "measure", "n", "difference", "ci_low",
             "ci_high", "p_value", "hedges_g"]
    print("\nDifference from the chronological feed (paired by replicate):")
    print(effects[shown].to_string(index=False))
    effects.to_csv(args.out / "effects.csv", index=False)
    print(f"\nwrote {args.out / 'effects.csv'}")


if __name__ == "__main__":
    main()
