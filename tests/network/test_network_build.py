"""build_network: every scenario network kind, reciprocity, leaning blocks, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from townsquare.errors import DataError, UserError
from townsquare.network.build import BUILDERS, build_network, leaning_blocks, orient
from townsquare.network.config import NetworkConfig, NetworkKind
from townsquare.network.graph import FollowGraph

GENERATED = ["barabasi_albert", "holme_kim", "watts_strogatz", "stochastic_block",
             "erdos_renyi", "complete"]


def leaning(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, n)


def mutual_share(graph: FollowGraph) -> float:
    """Share of connected pairs that follow each other."""
    src, dst = graph.edges()
    mutual = graph.has_edges(dst, src)
    pairs = graph.num_edges - mutual.sum() / 2
    return float(mutual.sum() / 2 / pairs)


def test_every_scenario_kind_has_a_builder() -> None:
    assert set(BUILDERS) == set(NetworkKind.__args__)


@pytest.mark.parametrize("kind", GENERATED)
def test_generated_kinds_give_a_graph_on_the_population(kind: str) -> None:
    graph = build_network(NetworkConfig(kind=kind, p=0.05), leaning(300), np.random.default_rng(1))
    assert graph.n == 300
    assert graph.num_edges > 0
    src, dst = graph.edges()
    assert not np.any(src == dst)


def test_same_seed_same_network() -> None:
    config = NetworkConfig(kind="holme_kim")
    a = build_network(config, leaning(500), np.random.default_rng(3))
    b = build_network(config, leaning(500), np.random.default_rng(3))
    assert np.array_equal(a.get_state()["keys"], b.get_state()["keys"])


@pytest.mark.parametrize("reciprocity", [0.0, 0.3, 0.8, 1.0])
def test_reciprocity_is_the_share_of_mutual_ties(reciprocity: float) -> None:
    config = NetworkConfig(kind="barabasi_albert", m=4, reciprocity=reciprocity)
    graph = build_network(config, leaning(5000), np.random.default_rng(2))
    ties = 4 * (5000 - 4)
    assert graph.num_edges == round(ties * (1 + mutual_share(graph)))
    assert mutual_share(graph) == pytest.approx(reciprocity, abs=0.015)


def test_one_way_ties_point_either_way() -> None:
    u = np.arange(1, 4001)
    v = np.zeros(4000, np.int64)  # everyone tied to agent 0
    graph = orient(4001, u, v, 0.0, np.random.default_rng(0))
    assert graph.num_edges == 4000
    assert graph.in_degree()[0] / 4000 == pytest.approx(0.5, abs=0.03)


def test_leaning_blocks_are_equal_width_bins() -> None:
    x = np.array([-1.0, -0.51, -0.5, -0.01, 0.0, 0.49, 0.5, 1.0])
    assert leaning_blocks(x, 4).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert leaning_blocks(x, 1).tolist() == [0] * 8


def test_stochastic_block_homophily_is_by_leaning() -> None:
    x = np.concatenate([np.full(2000, -0.7), np.full(2000, 0.6)])
    config = NetworkConfig(kind="stochastic_block", blocks=2, homophily=0.85, mean_degree=10)
    graph = build_network(config, x, np.random.default_rng(4))
    src, dst = graph.edges()
    same_side = np.sign(x[src]) == np.sign(x[dst])
    assert same_side.mean() == pytest.approx(0.85, abs=0.02)


def test_erdos_renyi_mean_degree_overrides_p() -> None:
    config = NetworkConfig(kind="erdos_renyi", mean_degree=8, p=0.9, reciprocity=0.0)
    graph = build_network(config, leaning(4000), np.random.default_rng(5))
    # each undirected tie is one follow: mean ties per agent = 2 * follows / n
    assert 2 * graph.num_edges / 4000 == pytest.approx(8, rel=0.03)


def test_erdos_renyi_uses_p_without_mean_degree() -> None:
    config = NetworkConfig(kind="erdos_renyi", p=0.01, reciprocity=1.0)
    graph = build_network(config, leaning(1000), np.random.default_rng(6))
    assert graph.num_edges / 2 == pytest.approx(0.01 * 1000 * 999 / 2, rel=0.05)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (NetworkConfig(kind="barabasi_albert", m=10), "m < n"),
        (NetworkConfig(kind="watts_strogatz", k=5), "even k"),
        (NetworkConfig(kind="erdos_renyi", mean_degree=50), "exceeds n - 1"),
    ],
)
def test_impossible_parameters_are_user_errors(config: NetworkConfig, message: str) -> None:
    with pytest.raises(UserError, match=f"network '{config.kind}' for 10 agents: .*{message}"):
        build_network(config, leaning(10), np.random.default_rng())


def test_edge_list_file_fits_the_population(tmp_path: Path) -> None:
    path = tmp_path / "follows.csv"
    path.write_text("follower,followee\nann,bob\nbob,ann\ncat,ann\n")
    config = NetworkConfig(kind="edgelist", path=path)
    graph = build_network(config, leaning(5), np.random.default_rng())
    assert graph.n == 5 and graph.num_edges == 3
    assert graph.in_degree().tolist() == [2, 1, 0, 0, 0]  # ann is agent 0: first named


def test_undirected_edge_list(tmp_path: Path) -> None:
    path = tmp_path / "ties.txt"
    path.write_text("1 2\n2 3\n")
    config = NetworkConfig(kind="edgelist", path=path, directed=False)
    assert build_network(config, leaning(3), np.random.default_rng()).num_edges == 4


@pytest.mark.parametrize("kind", ["edgelist", "graphml"])
def test_file_with_more_nodes_than_agents_is_refused(tmp_path: Path, kind: str) -> None:
    if kind == "edgelist":
        path = tmp_path / "big.csv"
        path.write_text("a,b\nb,c\nc,d\n")
    else:
        path = tmp_path / "big.graphml"
        path.write_text(
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="directed">'
            + "".join(f'<node id="{i}"/>' for i in range(4))
            + '<edge source="0" target="1"/></graph></graphml>'
        )
    config = NetworkConfig(kind=kind, path=path)
    with pytest.raises(DataError, match=rf"{path.name}.*4 nodes.*3 agents") as info:
        build_network(config, leaning(3), np.random.default_rng())
    assert info.value.path == str(path)


def test_graphml_file(tmp_path: Path) -> None:
    path = tmp_path / "g.graphml"
    path.write_text(
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="undirected">'
        '<node id="x"/><node id="y"/><edge source="x" target="y"/></graph></graphml>'
    )
    config = NetworkConfig(kind="graphml", path=path)
    graph = build_network(config, leaning(4), np.random.default_rng())
    assert graph.n == 4 and graph.num_edges == 2


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    config = NetworkConfig(kind="edgelist", path=tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        build_network(config, leaning(3), np.random.default_rng())
