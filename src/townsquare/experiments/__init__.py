"""Experiments a social scientist can publish: sweeps, network designs, validation, SQL.

* sweeps over scenario parameters with replicates (common random numbers),
  run in parallel, resumable, summarized with confidence intervals and effect
  sizes: :class:`Sweep`, :func:`summarize_sweep`, :func:`effect_sizes`;
* treatment designs under network interference and their estimators:
  :class:`BernoulliDesign`, :class:`ClusterDesign`,
  :class:`IndependentSetDesign`, :func:`exposure_probabilities`,
  :func:`estimate_effects`; applied to simulations with
  :func:`scenario_graph`, :func:`with_treatment`, :func:`agent_outcome`;
* validation of a run against stylized facts and recorded cascades:
  :func:`validate_run`;
* DuckDB SQL over a folder of runs: :func:`query`.
"""

from townsquare.experiments.designs import (
    BernoulliDesign,
    ClusterDesign,
    CompleteDesign,
    IndependentSetDesign,
    independent_set,
    louvain_clusters,
    undirected_adjacency,
)
from townsquare.experiments.estimators import (
    difference_in_means,
    estimate_effects,
    exposure_probabilities,
)
from townsquare.experiments.recorded import compare_cascades, read_recorded, to_recorded
from townsquare.experiments.results import export_table, query, runs_table
from townsquare.experiments.stats import effect_sizes, mean_ci, summarize_sweep
from townsquare.experiments.sweep import Sweep, collect_results, load_results
from townsquare.experiments.synthetic import replicate_design, synthetic_outcomes, true_effects
from townsquare.experiments.treatment import agent_outcome, scenario_graph, with_treatment
from townsquare.experiments.validate import ValidationReport, fit_tail, validate_run

__all__ = [
    "BernoulliDesign",
    "ClusterDesign",
    "CompleteDesign",
    "IndependentSetDesign",
    "Sweep",
    "ValidationReport",
    "agent_outcome",
    "collect_results",
    "compare_cascades",
    "difference_in_means",
    "effect_sizes",
    "estimate_effects",
    "export_table",
    "exposure_probabilities",
    "fit_tail",
    "independent_set",
    "load_results",
    "louvain_clusters",
    "mean_ci",
    "query",
    "read_recorded",
    "replicate_design",
    "runs_table",
    "scenario_graph",
    "summarize_sweep",
    "synthetic_outcomes",
    "to_recorded",
    "true_effects",
    "undirected_adjacency",
    "validate_run",
    "with_treatment",
]
