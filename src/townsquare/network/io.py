"""Follow graphs from and to files (edge lists, GraphML) and networkx.

Edge lists are parsed by numpy over the file's bytes, not by a Python loop per
line, so SNAP files of tens of millions of lines load; every line keeps its
number, so a bad record is reported as ``file, line N: what is wrong``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from townsquare.errors import DataError
from townsquare.network.graph import FollowGraph

if TYPE_CHECKING:
    import networkx as nx

_SOLID = np.ones(256, bool)  # bytes that belong to an id: not spaces, not line breaks
_SOLID[list(b" \t\r\v\f\n")] = False
_NEWLINE = ord("\n")
_COMMENT = np.frombuffer(b"#%", np.uint8)
_HEADER_SOURCES = {"source", "src", "from", "follower", "node1", "source_id", "from_id", "u"}
_HEADER_TARGETS = {"target", "dst", "to", "followee", "node2", "target_id", "to_id", "v"}


# -- edge lists -----------------------------------------------------------------------


def read_edgelist(
    path: str | Path, *, directed: bool = True, n: int | None = None
) -> tuple[FollowGraph, list[str]]:
    """Load a SNAP-style edge list as a follow graph.

    Columns are separated by commas, tabs or runs of spaces (whichever the
    first record uses). Lines starting with ``#`` or ``%`` are comments; a
    first record such as ``source,target`` or ``follower,followee`` is a
    header; columns after the second (weights, times) are ignored. Node ids
    may be any text and are numbered ``0, 1, ...`` in order of first
    appearance. A row means *follower follows followee* when ``directed``,
    else a mutual tie. Self-loops are dropped and repeated rows merged.

    Parameters
    ----------
    path : str or Path
        The file.
    directed : bool
        Whether rows are one-way follows (else both directions).
    n : int, optional
        Number of agents of the graph; the file may name fewer nodes (the rest
        get no ties) but not more.

    Returns
    -------
    graph : FollowGraph
        The follow graph on ``n`` (or as many as the file names) agents.
    labels : list of str
        The file's id of agent ``i``, for the agents the file names.

    Raises
    ------
    DataError
        The file is missing, unreadable, empty, not UTF-8 text, names more
        than ``n`` nodes, or has a bad line (its number is given).
    """
    path = Path(path)
    data = _read_bytes(path)
    src, dst, labels = _parse_edges(path, data)
    size = len(labels) if n is None else _fit(path, len(labels), n)
    if not directed:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    graph = FollowGraph.from_edges(size, src, dst)
    if graph.num_edges == 0:
        raise DataError(path, "has no edges besides self-loops")
    return graph, labels


def write_edgelist(
    graph: FollowGraph, path: str | Path, labels: Sequence[object] | None = None
) -> None:
    """Write the follows as a tab-separated ``follower, followee`` list with a header.

    Agents are written as their index, or as ``labels[i]`` when given (as
    :func:`read_edgelist` returns them), so the file reads back to the same
    graph. Agents without follows are not in the file.
    """
    src, dst = graph.edges()
    if labels is None:
        names = pa.array(np.arange(graph.n).astype(str), pa.large_string())
    else:
        names = pa.array([str(label) for label in labels], pa.large_string())
        _check_labels(names, src, dst)
    tab = pa.scalar("\t", pa.large_string())
    rows = pc.binary_join_element_wise(pc.take(names, src), pc.take(names, dst), tab)
    with Path(path).open("wb") as out:
        out.write(b"follower\tfollowee\n")
        out.write(_lines(rows))


def _lines(rows: pa.LargeStringArray) -> bytes:
    """The strings of ``rows``, each ended by a newline, as one bytes object."""
    _, offsets, data = rows.buffers()
    offsets = np.frombuffer(offsets, np.int64)[rows.offset : rows.offset + len(rows) + 1]
    text = np.frombuffer(data, np.uint8) if data else np.zeros(0, np.uint8)
    text = text[offsets[0] : offsets[-1]]
    return np.insert(text, offsets[1:] - offsets[0], _NEWLINE).tobytes()


def _check_labels(names: pa.Array, src: np.ndarray, dst: np.ndarray) -> None:
    """Refuse labels that would not read back as the same ids."""
    used = max(int(src.max(initial=-1)), int(dst.max(initial=-1)))
    if used >= len(names):
        raise ValueError(f"labels name {len(names)} agents but agent {used} has follows")
    bad = pc.or_(
        pc.match_substring_regex(names, r"[\t\n\r\v\f]|^[#%\s]|\s$"),
        pc.equal(pc.utf8_length(names), 0),
    )
    if pc.any(bad).as_py():
        first = names[int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0])]
        raise ValueError(f"label {first.as_py()!r} cannot be written to an edge list")


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except IsADirectoryError:
        raise DataError(path, "is a directory, not a file") from None
    except OSError as exc:
        raise DataError(path, f"cannot be read: {exc.strerror or exc}") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(path, "is not UTF-8 text", line=line) from None
    return data.removeprefix(b"\xef\xbb\xbf")


def _fit(path: Path, named: int, n: int) -> int:
    if named > n:
        raise DataError(path, f"names {named} nodes but the population has only {n} agents")
    return n


def _parse_edges(path: Path, data: bytes) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(src codes, dst codes, labels) of the records of an edge-list file."""
    text = _Text(np.frombuffer(data, np.uint8))
    record = text.records()
    if not len(record):
        raise DataError(path, "has no edges (it is empty or only comments)")
    count, first, second = text.columns(record, text.delimiter(record[0]))
    _check_records(path, record, count, first, second)
    if _is_header(data, (first[0][0], first[1][0]), (second[0][0], second[1][0])):
        record = record[1:]
        first, second = (first[0][1:], first[1][1:]), (second[0][1:], second[1][1:])
        if not len(record):
            raise DataError(path, "has a header but no edges")
    starts = np.column_stack([first[0], second[0]]).ravel()
    ends = np.column_stack([first[1], second[1]]).ravel()
    ids = _strings(text.buf, starts, ends).dictionary_encode()
    codes = ids.indices.to_numpy().astype(np.int64)
    return codes[0::2], codes[1::2], ids.dictionary.to_pylist()


Span = tuple[np.ndarray, np.ndarray]  # byte ranges [start, end)


class _Text:
    """A byte buffer split into lines, and into tokens: runs of bytes that are not spaces.

    Most lines and columns begin and end with an id, so the token positions
    are only computed where a line or column begins or ends with spaces.
    """

    def __init__(self, buf: np.ndarray) -> None:
        self.buf = buf
        breaks = np.flatnonzero(buf == _NEWLINE)
        self.start = np.concatenate([[0], breaks + 1])
        self.end = np.concatenate([breaks, [len(buf)]])
        self.solid = _SOLID[buf]
        self._tokens: Span | None = None

    @property
    def tokens(self) -> Span:
        """Start and end (exclusive) positions of all tokens."""
        if self._tokens is None:
            step = np.diff(self.solid.view(np.int8), prepend=np.int8(0), append=np.int8(0))
            self._tokens = np.flatnonzero(step == 1), np.flatnonzero(step == -1)
        return self._tokens

    def records(self) -> np.ndarray:
        """Indices of the lines that are neither blank nor comments."""
        head = self.start.copy()  # first byte of each line that is not a space
        late = ~self._solid_at(head)
        if late.any():
            token = self.tokens[0]
            head[late] = _pick(token, np.searchsorted(token, head[late]), len(self.buf))
        filled = head < self.end
        comment = np.zeros(len(filled), bool)
        comment[filled] = np.isin(self.buf[head[filled]], _COMMENT)
        return np.flatnonzero(filled & ~comment)

    def delimiter(self, line: int) -> int | None:
        """The column separator of a line: comma, tab, or (None) runs of spaces."""
        content = self.buf[self.start[line] : self.end[line]]
        return next((sep for sep in (ord(","), ord("\t")) if (content == sep).any()), None)

    def columns(self, record: np.ndarray, delimiter: int | None) -> tuple[np.ndarray, Span, Span]:
        """Column count and byte ranges of the first two columns of each record."""
        if delimiter is None:  # columns are tokens
            token, token_end = self.tokens
            count, at = self._per_line(token, record)
            nxt = np.minimum(at + 1, len(token) - 1)
            return count, (token[at], token_end[at]), (token[nxt], token_end[nxt])
        sep = np.flatnonzero(self.buf == delimiter)
        count, at = self._per_line(sep, record)
        end = self.end[record]
        first_sep = np.minimum(_pick(sep, at, len(self.buf)), end)
        second_sep = np.minimum(_pick(sep, at + 1, len(self.buf)), end)
        first = self._trim(self.start[record], first_sep)
        return count + 1, first, self._trim(np.minimum(first_sep + 1, end), second_sep)

    def _per_line(self, positions: np.ndarray, record: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How many sorted ``positions`` fall on each record line, and the index of its first."""
        at = np.searchsorted(positions, self.start)
        count = np.diff(at, append=len(positions))
        return count[record], at[record]

    def _solid_at(self, positions: np.ndarray) -> np.ndarray:
        if not len(self.buf):
            return np.zeros(len(positions), bool)
        inside = (positions >= 0) & (positions < len(self.buf))
        return inside & self.solid[np.clip(positions, 0, len(self.buf) - 1)]

    def _trim(self, lo: np.ndarray, hi: np.ndarray) -> Span:
        """The ranges ``[lo, hi)`` without surrounding spaces (empty ones as ``(lo, lo)``)."""
        start, stop = lo.copy(), hi.copy()
        move = (stop > start) & ~self._solid_at(start)
        if move.any():  # to the next token's start
            token = self.tokens[0]
            after = _pick(token, np.searchsorted(token, start[move]), len(self.buf))
            start[move] = np.minimum(after, stop[move])
        move = (stop > start) & ~self._solid_at(stop - 1)
        if move.any():  # back to the previous token's end
            token_end = self.tokens[1]
            before = _pick(token_end, np.searchsorted(token_end, stop[move], side="right") - 1, 0)
            stop[move] = np.maximum(before, start[move])
        empty = stop <= start
        return np.where(empty, lo, start), np.where(empty, lo, stop)


def _pick(values: np.ndarray, index: np.ndarray, fill: int) -> np.ndarray:
    """``values[index]``, with ``fill`` where the index falls outside."""
    if not len(values):
        return np.full(len(index), fill, np.int64)
    inside = (index >= 0) & (index < len(values))
    return np.where(inside, values[np.clip(index, 0, len(values) - 1)], fill)


def _check_records(
    path: Path, record: np.ndarray, count: np.ndarray, first: Span, second: Span
) -> None:
    """Raise for the first record with fewer than two columns or an empty id."""
    problems = [
        (count < 2, "expected two node ids (follower, followee) but found one column"),
        ((first[0] == first[1]) & (count >= 2), "the follower id is empty"),
        ((second[0] == second[1]) & (count >= 2), "the followee id is empty"),
    ]
    worst = [(record[np.argmax(bad)], message) for bad, message in problems if bad.any()]
    if worst:
        line, message = min(worst, key=lambda item: item[0])
        raise DataError(path, message, line=int(line) + 1)


def _is_header(data: bytes, first: tuple[int, int], second: tuple[int, int]) -> bool:
    source = data[first[0] : first[1]].decode("utf-8").lower()
    target = data[second[0] : second[1]].decode("utf-8").lower()
    return source in _HEADER_SOURCES and target in _HEADER_TARGETS


def _strings(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The byte ranges ``[starts, ends)`` (ascending, disjoint) as an Arrow string array."""
    edge = np.zeros(len(buf) + 1, np.int8)
    edge[starts] = 1
    edge[ends] -= 1
    inside = np.cumsum(edge[:-1], dtype=np.int8).astype(bool)
    offsets = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
    return pa.LargeStringArray.from_buffers(
        len(starts), pa.py_buffer(offsets), pa.py_buffer(buf[inside].tobytes())
    )


# -- GraphML and networkx ------------------------------------------------------------------


def read_graphml(path: str | Path, *, n: int | None = None) -> tuple[FollowGraph, list[str]]:
    """Load a GraphML file; undirected graphs become mutual follows.

    Returns the graph (on ``n`` agents if given: the file may name fewer
    nodes but not more) and each agent's GraphML node id, in file order.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found" if not path.exists() else "is not a file")
    import networkx as nx  # local: only GraphML and networkx graphs need it

    try:
        G = nx.read_graphml(path)
    except (ET.ParseError, nx.NetworkXError, ValueError, KeyError, TypeError,
            LookupError) as exc:  # LookupError: an unknown encoding in the XML declaration
        raise DataError(path, f"is not valid GraphML: {exc}") from None
    except OSError as exc:
        raise DataError(path, f"cannot be read: {exc.strerror or exc}") from None
    if G.number_of_nodes() == 0:
        raise DataError(path, "has no nodes")
    graph, nodes = from_networkx(G)
    if n is not None:
        graph = FollowGraph.from_edges(_fit(path, graph.n, n), *graph.edges())
    return graph, [str(node) for node in nodes]


def to_networkx(graph: FollowGraph) -> nx.DiGraph:
    """The follow graph as a networkx ``DiGraph`` on nodes ``0 .. n-1``."""
    import networkx as nx

    G = nx.DiGraph()
    G.add_nodes_from(range(graph.n))
    src, dst = graph.edges()
    G.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    return G


def from_networkx(G: nx.Graph) -> tuple[FollowGraph, list]:
    """A follow graph from any networkx graph, and its nodes in agent order.

    Directed edges are follows; undirected edges become mutual follows.
    Self-loops are dropped and parallel edges merged.
    """
    nodes = list(G.nodes)
    if not nodes:
        return FollowGraph(0, np.zeros(0, np.int64)), nodes
    import networkx as nx

    coo = nx.to_scipy_sparse_array(G, nodelist=nodes, weight=None, format="coo")
    return FollowGraph.from_edges(len(nodes), coo.row, coo.col), nodes
