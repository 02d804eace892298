"""The initial follow graph: ``[network]`` in a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from townsquare.scenario_types import PositiveInt, Probability, Section

NetworkKind = Literal[
    "barabasi_albert",
    "holme_kim",
    "watts_strogatz",
    "stochastic_block",
    "erdos_renyi",
    "complete",
    "edgelist",
    "graphml",
]


class NetworkConfig(Section):
    """The initial follow graph: a generator with its parameters, or a file."""

    kind: NetworkKind = Field(default="holme_kim", description="generator, or a file format")
    m: PositiveInt = Field(default=5, description="edges per new node (BA, Holme-Kim)")
    p: Probability = Field(
        default=0.3, description="triad probability (Holme-Kim), rewiring (WS), edge prob (ER)"
    )
    k: PositiveInt = Field(default=10, description="ring neighbours (Watts-Strogatz)")
    mean_degree: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Erdős–Rényi mean degree; overrides p when set"
    )
    blocks: PositiveInt = Field(default=2, description="blocks by leaning (SBM)")
    homophily: Probability = Field(
        default=0.8, description="share of SBM edges inside an agent's own leaning block"
    )
    reciprocity: Probability = Field(
        default=0.5,
        description="chance an undirected generated tie becomes a mutual follow (else one way)",
    )
    path: Path | None = Field(default=None, description="edge list or GraphML file")
    directed: bool = Field(default=True, description="edge list rows are follower -> followee")

    @model_validator(mode="after")
    def _file_kinds_need_path(self) -> Self:
        if self.kind in ("edgelist", "graphml") and self.path is None:
            raise ValueError(f"network kind '{self.kind}' needs a 'path'")
        return self
