"""The initial follow graph of a scenario: a generated network or a loaded file.

Generators produce undirected ties; a tie becomes a mutual follow with
probability ``reciprocity``, else a follow in one random direction. Each
network kind maps to one small builder in ``BUILDERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.random import Generator

from townsquare.errors import UserError
from townsquare.network import generators
from townsquare.network.config import NetworkConfig
from townsquare.network.graph import FollowGraph
from townsquare.network.io import read_edgelist, read_graphml

Ties = tuple[np.ndarray, np.ndarray]
Builder = Callable[[NetworkConfig, np.ndarray, Generator], FollowGraph]


def build_network(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> FollowGraph:
    """The follow graph on ``len(leaning)`` agents that ``config`` describes.

    ``leaning`` (in ``[-1, 1]``) places agents in the stochastic block
    model's blocks, so its homophily is by political leaning.
    """
    return BUILDERS[config.kind](config, np.asarray(leaning, dtype=np.float64), rng)


def orient(
    n: int, u: np.ndarray, v: np.ndarray, reciprocity: float, rng: Generator
) -> FollowGraph:
    """Follows from undirected ties: both ways with probability ``reciprocity``, else one way."""
    mutual = rng.random(len(u)) < reciprocity
    flip = rng.random(len(u)) < 0.5
    follower, followee = np.where(flip, v, u), np.where(flip, u, v)
    return FollowGraph.from_edges(
        n,
        np.concatenate([follower, followee[mutual]]),
        np.concatenate([followee, follower[mutual]]),
    )


def leaning_blocks(leaning: np.ndarray, blocks: int) -> np.ndarray:
    """Block of each agent: ``blocks`` equal-width bins of leaning over ``[-1, 1]``."""
    return np.clip(np.floor((leaning + 1) / 2 * blocks), 0, blocks - 1).astype(np.int64)


# -- one builder per network kind -------------------------------------------------------


def _generated(ties: Callable[[NetworkConfig, np.ndarray, Generator], Ties]) -> Builder:
    """A builder orienting the ties of a generator; bad parameters are user errors."""

    def build(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> FollowGraph:
        try:
            u, v = ties(config, leaning, rng)
        except ValueError as exc:
            raise UserError(f"network '{config.kind}' for {len(leaning)} agents: {exc}") from None
        return orient(len(leaning), u, v, config.reciprocity, rng)

    return build


def _barabasi_albert(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> Ties:
    return generators.barabasi_albert(len(leaning), config.m, rng=rng)


def _holme_kim(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> Ties:
    return generators.holme_kim(len(leaning), config.m, config.p, rng=rng)


def _watts_strogatz(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> Ties:
    return generators.watts_strogatz(len(leaning), config.k, config.p, rng=rng)


def _erdos_renyi(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> Ties:
    n = len(leaning)
    p = config.p
    if config.mean_degree is not None:
        if config.mean_degree > n - 1:
            raise ValueError(f"mean_degree {config.mean_degree} exceeds n - 1 = {n - 1}")
        p = config.mean_degree / (n - 1)
    return generators.erdos_renyi(n, p, rng=rng)


def _stochastic_block(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> Ties:
    """Blocks by leaning; the mean degree is ``mean_degree`` if set, else ``2 m`` (as BA)."""
    mean_degree = config.mean_degree if config.mean_degree is not None else 2 * config.m
    blocks = leaning_blocks(leaning, config.blocks)
    return generators.stochastic_block(blocks, mean_degree, config.homophily, rng=rng)


def _complete(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> Ties:
    return generators.complete(len(leaning))


def _file(config: NetworkConfig) -> Path:
    """The file of a file-based network (the scenario check requires it)."""
    if config.path is None:
        raise UserError(f"network kind '{config.kind}' needs a 'path'")
    return config.path


def _edgelist(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> FollowGraph:
    return read_edgelist(_file(config), directed=config.directed, n=len(leaning))[0]


def _graphml(config: NetworkConfig, leaning: np.ndarray, rng: Generator) -> FollowGraph:
    return read_graphml(_file(config), n=len(leaning))[0]


BUILDERS: dict[str, Builder] = {
    "barabasi_albert": _generated(_barabasi_albert),
    "holme_kim": _generated(_holme_kim),
    "watts_strogatz": _generated(_watts_strogatz),
    "erdos_renyi": _generated(_erdos_renyi),
    "stochastic_block": _generated(_stochastic_block),
    "complete": _generated(_complete),
    "edgelist": _edgelist,
    "graphml": _graphml,
}
