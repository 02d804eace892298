"""Bias and coverage of the interference designs, with the exposure rule right and wrong.

Outcomes come from :func:`townsquare.experiments.synthetic_outcomes` on a Holme–Kim
graph of 3,000 nodes (m = 3, p = 0.3): direct 1.0, spillover 0.5, no interaction, a
degree effect of 0.5 and unit noise. Under ``any`` the spillover is "at least one
treated neighbour", the mapping the estimators assume; under ``share`` it grows with
the share of treated neighbours (misspecified). Each row: mean estimate minus the
truth (the global effect: everyone treated against no one), its Monte Carlo error,
the spread over replicates, the mean reported SE and the 95% intervals' coverage.

    python bench/bench_designs.py                  # 50 replicates per design and rule
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse as sp

from townsquare.experiments import (
    BernoulliDesign,
    ClusterDesign,
    IndependentSetDesign,
    replicate_design,
    undirected_adjacency,
)
from townsquare.network import generators


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=50)
    args = parser.parse_args()
    n = 3000
    u, v = generators.holme_kim(n, 3, 0.3, rng=np.random.default_rng(11))
    graph = undirected_adjacency(sp.csr_array((np.ones(len(u)), (u, v)), shape=(n, n)))
    designs = {"independent set": IndependentSetDesign.from_graph(graph, seed=0),
               "cluster (0, 0.5)": ClusterDesign.from_graph(graph, saturations=(0.0, 0.5),
                                                            seed=0),
               "Bernoulli(0.2)": BernoulliDesign(n, 0.2)}
    print("| design | exposure | effect | truth | bias | MC error | SD | mean SE | coverage |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, design in designs.items():
        for exposure in ("any", "share"):
            table = replicate_design(design, graph, direct=1.0, spillover=0.5,
                                     exposure=exposure, replicates=args.replicates, seed=21)
            for effect, rows in table.groupby("effect", sort=False):
                sd = rows["estimate"].std()
                bias = rows["estimate"].mean() - rows["truth"].iloc[0]
                print(f"| {name} | {exposure} | {effect} | {rows['truth'].iloc[0]:.2f} | "
                      f"{bias:+.3f} | {sd / np.sqrt(len(rows)):.3f} | {sd:.3f} | "
                      f"{rows['se'].mean():.3f} | {rows['covered'].mean():.0%} |", flush=True)


if __name__ == "__main__":
    main()
