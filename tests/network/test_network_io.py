"""Edge lists, GraphML and networkx interop: faithful loads, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from townsquare.errors import DataError
from townsquare.network.graph import FollowGraph
from townsquare.network.io import (
    from_networkx,
    read_edgelist,
    read_graphml,
    to_networkx,
    write_edgelist,
)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write(tmp_path: Path, content: str | bytes, name: str = "edges.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def labelled_pairs(graph: FollowGraph, labels: list[str]) -> set[tuple[str, str]]:
    src, dst = graph.edges()
    return {(labels[a], labels[b]) for a, b in zip(src.tolist(), dst.tolist(), strict=True)}


# -- edge lists: what loads ---------------------------------------------------------------


def test_snap_file_with_comments_header_weights_and_crlf(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# Directed graph\r\n% konect style\r\nsource,target,weight\r\n"
        "alice, bob ,1.5\r\n\r\nbob,carol,2\r\ncarol,alice\r\nalice,alice\r\nalice,bob,9\r\n",
    )
    graph, labels = read_edgelist(path)
    assert labels == ["alice", "bob", "carol"]  # numbered in order of first appearance
    assert labelled_pairs(graph, labels) == {("alice", "bob"), ("bob", "carol"), ("carol", "alice")}
    assert graph.n == 3


@pytest.mark.parametrize(
    "text",
    ["10 20\n20 30\n", "10\t20\n20\t30\n", "10,20\n20,30\n", "  10   20  \n\t20 \t 30\n"],
)
def test_separators(tmp_path: Path, text: str) -> None:
    graph, labels = read_edgelist(write(tmp_path, text))
    assert labels == ["10", "20", "30"]
    assert labelled_pairs(graph, labels) == {("10", "20"), ("20", "30")}


@pytest.mark.parametrize("header", ["follower\tfollowee", "Source Target", "src,dst", "from to"])
def test_known_headers_are_skipped(tmp_path: Path, header: str) -> None:
    sep = next((c for c in ",\t" if c in header), " ")
    graph, labels = read_edgelist(write(tmp_path, f"{header}\n1{sep}2\n"))
    assert labels == ["1", "2"] and graph.num_edges == 1


def test_tab_separated_ids_may_contain_spaces(tmp_path: Path) -> None:
    _, labels = read_edgelist(write(tmp_path, "New York\tSan Francisco\n"))
    assert labels == ["New York", "San Francisco"]


def test_undirected_rows_become_mutual_follows(tmp_path: Path) -> None:
    graph, _ = read_edgelist(write(tmp_path, "a b\nb c\n"), directed=False)
    assert graph.num_edges == 4
    assert np.array_equal(graph.in_degree(), graph.out_degree())


def test_population_size_pads_or_refuses(tmp_path: Path) -> None:
    path = write(tmp_path, "a b\nb c\n")
    graph, labels = read_edgelist(path, n=5)
    assert graph.n == 5 and len(labels) == 3 and graph.out_degree()[3:].sum() == 0
    with pytest.raises(DataError, match=r"edges\.txt.*3 nodes.*2 agents"):
        read_edgelist(path, n=2)


def test_utf8_bom_and_unicode_ids(tmp_path: Path) -> None:
    _, labels = read_edgelist(write(tmp_path, "\ufeffzoë  ✓\n✓ 李\n"))
    assert labels == ["zoë", "✓", "李"]


# -- edge lists: what fails, and where ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("1 2\n# c\n3\n4 5\n", 3, "one column"),
        ("a,b\n\nc,\n", 3, "followee id is empty"),
        ("a,b\n , c\n", 2, "follower id is empty"),
        ("1 2\n2 3\n7\n8\n", 3, "one column"),
        ("x\n", 1, "one column"),
    ],
)
def test_bad_lines_are_reported_with_their_number(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=message) as info:
        read_edgelist(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}, line {line}: ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no edges"),
        ("# nothing here\n\n   \n", "no edges"),
        ("source,target\n", "header but no edges"),
        ("1 1\n2 2\n", "no edges besides self-loops"),
        (b"1 2\n\xff\xfe 3\n", "not UTF-8"),
    ],
)
def test_files_without_edges_or_text_are_refused(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        read_edgelist(write(tmp_path, content))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_edgelist(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="directory"):
        read_edgelist(tmp_path)


# -- property tests ---------------------------------------------------------------------------

SPACES = " \t\r\v\f"
ID_CHARS = st.characters(
    exclude_characters=SPACES + "\n,#%\ufeff", exclude_categories=("Cs",)
)
IDS = st.one_of(
    st.text(ID_CHARS, min_size=1, max_size=6),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["NaN", "nan", "inf", "-0", "0", "00", "1e308", "None", "null"]),
)
HEADER_WORDS = {"source", "src", "from", "follower", "node1", "source_id", "from_id", "u"}


def reference_parse(text: str) -> tuple[list[str], set[tuple[str, str]]]:
    """A slow, obvious parser of well-formed files, to check the fast one against."""
    labels: dict[str, int] = {}
    edges = set()
    for line in text.removeprefix("\ufeff").split("\n"):
        if not line.strip(SPACES) or line.strip(SPACES)[0] in "#%":
            continue
        sep = "," if "," in line else None
        parts = line.split(",") if sep else re.split(f"[{SPACES}]+", line.strip(SPACES))
        a, b = (part.strip(SPACES) for part in parts[:2])
        for node in (a, b):
            labels.setdefault(node, len(labels))
        if a != b:
            edges.add((a, b))
    return list(labels), edges


@st.composite
def edge_files(draw: st.DrawFn) -> str:
    sep = draw(st.sampled_from([",", "\t", " ", ", ", "  \t"]))
    lines = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["edge", "edge", "edge", "weight", "comment", "blank"]))
        if kind == "comment":
            mark = draw(st.sampled_from(["#", "%", "  #"]))
            lines.append(mark + draw(st.text(max_size=10)).replace("\n", " "))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", "  ", "\t", "\r"])))
        else:
            a, b = draw(IDS), draw(st.one_of(IDS, st.just("SELF")))
            b = a if b == "SELF" else b
            row = f"{a}{sep}{b}"
            if kind == "weight":
                row += f"{sep}{draw(st.floats(allow_nan=True))}"
            lines.append(row + draw(st.sampled_from(["", "\r", " "])))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


def records(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip(SPACES)[:1] not in ("", "#", "%")]


@SETTINGS
@given(text=edge_files())
def test_well_formed_files_load_exactly(tmp_path: Path, text: str) -> None:
    check_exact(tmp_path, text)


@pytest.mark.slow
@settings(SETTINGS, max_examples=1000)
@given(text=edge_files())
def test_well_formed_files_load_exactly_many(tmp_path: Path, text: str) -> None:
    check_exact(tmp_path, text)


def check_exact(tmp_path: Path, text: str) -> None:
    """A well-formed file loads exactly the labels and edges of a reference parser."""
    rows = records(text)
    assume(rows)
    first_id = re.split(f"[{SPACES},]+", rows[0].strip(SPACES))[0]
    assume(first_id.lower() not in HEADER_WORDS)  # such a first row may be read as a header
    labels_expected, edges_expected = reference_parse(text)
    path = write(tmp_path, text)
    if not edges_expected:
        with pytest.raises(DataError, match="self-loops"):
            read_edgelist(path)
        return
    graph, labels = read_edgelist(path)
    assert labels == labels_expected
    assert labelled_pairs(graph, labels) == edges_expected


@SETTINGS
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_arbitrary_content_loads_or_raises_data_error(tmp_path: Path, content: bytes) -> None:
    check_arbitrary(tmp_path, content)


@pytest.mark.slow
@settings(SETTINGS, max_examples=1000)
@given(content=st.one_of(st.binary(max_size=600), st.text(max_size=600).map(str.encode)))
def test_arbitrary_content_loads_or_raises_data_error_many(tmp_path: Path,
                                                           content: bytes) -> None:
    check_arbitrary(tmp_path, content)


def check_arbitrary(tmp_path: Path, content: bytes) -> None:
    """Any bytes load as a graph without self-loops, or raise DataError naming the file."""
    path = write(tmp_path, content)
    try:
        graph, labels = read_edgelist(path)
    except DataError as exc:
        assert str(exc).startswith(str(path))
        assert exc.line is None or exc.line >= 1
        return
    assert graph.num_edges > 0 and graph.n == len(labels)
    src, dst = graph.edges()
    assert not np.any(src == dst)


@SETTINGS
@given(
    text=edge_files(),
    bad=st.sampled_from(["lonely", "  lonely  ", "x\t", ",b", "a,", " , "]),
    where=st.integers(0, 30),
)
def test_a_bad_line_is_reported_at_its_number(
    tmp_path: Path, text: str, bad: str, where: int
) -> None:
    # Whatever separator the file uses (even one the bad line sets by coming
    # first), the bad line has one column or an empty id, and all others are fine.
    lines = text.split("\n")
    position = min(where, len(lines))
    lines.insert(position, bad)
    path = write(tmp_path, "\n".join(lines))
    with pytest.raises(DataError) as info:
        read_edgelist(path)
    assert info.value.line == position + 1
    assert f"line {position + 1}: " in str(info.value)


# -- writing and round trips ----------------------------------------------------------------


def test_edge_list_round_trip_with_labels(tmp_path: Path) -> None:
    graph, labels = read_edgelist(write(tmp_path, "ann bob\nbob cat\ncat ann\nann cat\n"))
    out = tmp_path / "out.tsv"
    write_edgelist(graph, out, labels)
    assert out.read_text().splitlines()[0] == "follower\tfollowee"
    again, labels_again = read_edgelist(out)
    assert labelled_pairs(again, labels_again) == labelled_pairs(graph, labels)


def test_edge_list_round_trip_by_index(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    graph = FollowGraph.from_edges(50, rng.integers(0, 50, 400), rng.integers(0, 50, 400))
    out = tmp_path / "out.tsv"
    write_edgelist(graph, out)
    again, labels = read_edgelist(out, n=50)
    assert labelled_pairs(again, labels) == labelled_pairs(graph, [str(i) for i in range(50)])


def test_write_refuses_labels_that_would_not_read_back(tmp_path: Path) -> None:
    graph = FollowGraph.from_edges(2, [0], [1])
    for bad in (["#a", "b"], ["a\tb", "c"], ["a", ""], ["a", "b "]):
        with pytest.raises(ValueError, match="cannot be written"):
            write_edgelist(graph, tmp_path / "x.tsv", bad)
    with pytest.raises(ValueError, match="agent 1"):
        write_edgelist(graph, tmp_path / "x.tsv", ["only"])


# -- GraphML and networkx ----------------------------------------------------------------------

GRAPHML = """<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <graph edgedefault="{kind}">
    <node id="n0"/><node id="n1"/><node id="n2"/>
    <edge source="n0" target="n1"/><edge source="n2" target="n0"/><edge source="n1" target="n1"/>
  </graph>
</graphml>
"""


def test_read_directed_graphml(tmp_path: Path) -> None:
    graph, labels = read_graphml(write(tmp_path, GRAPHML.format(kind="directed"), "g.graphml"))
    assert labels == ["n0", "n1", "n2"]
    assert labelled_pairs(graph, labels) == {("n0", "n1"), ("n2", "n0")}


def test_read_undirected_graphml_as_mutual_follows(tmp_path: Path) -> None:
    path = write(tmp_path, GRAPHML.format(kind="undirected"), "g.graphml")
    graph, labels = read_graphml(path, n=4)
    assert graph.n == 4
    assert labelled_pairs(graph, labels) == {("n0", "n1"), ("n1", "n0"), ("n2", "n0"), ("n0", "n2")}
    with pytest.raises(DataError, match=r"g\.graphml.*3 nodes.*2 agents"):
        read_graphml(path, n=2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<graphml><graph>", "not valid GraphML"),
        ("not xml at all", "not valid GraphML"),
        ("", "not valid GraphML"),
        ('<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
         '<key id="d0" for="node" attr.name="age" attr.type="int"/><graph edgedefault="directed">'
         '<node id="a"><data key="d0">old</data></node></graph></graphml>', "not valid GraphML"),
        ('<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="directed">'
         "</graph></graphml>", "no nodes"),
    ],
)
def test_bad_graphml_raises_data_error(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_graphml(write(tmp_path, content, "bad.graphml"))
    with pytest.raises(DataError, match="file not found"):
        read_graphml(tmp_path / "missing.graphml")


def test_networkx_round_trip() -> None:
    graph = FollowGraph.from_edges(5, [0, 1, 1, 4], [1, 0, 2, 3])
    G = to_networkx(graph)
    assert isinstance(G, nx.DiGraph) and G.number_of_nodes() == 5
    assert set(G.edges) == {(0, 1), (1, 0), (1, 2), (4, 3)}
    back, nodes = from_networkx(G)
    src, dst = back.edges()
    assert nodes == [0, 1, 2, 3, 4]
    assert set(zip(src.tolist(), dst.tolist(), strict=True)) == set(G.edges)


def test_from_undirected_networkx_graph_with_labels() -> None:
    G = nx.Graph([("x", "y"), ("y", "z"), ("z", "z")])
    graph, nodes = from_networkx(G)
    assert nodes == ["x", "y", "z"]
    assert labelled_pairs(graph, nodes) == {("x", "y"), ("y", "x"), ("y", "z"), ("z", "y")}
    empty, none = from_networkx(nx.DiGraph())
    assert empty.n == 0 and none == []
