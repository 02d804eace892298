"""GraphML files of every odd shape load or raise DataError naming the file (#20)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townsquare.errors import DataError
from townsquare.network.io import read_graphml

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow])
xml_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)


@st.composite
def graphml(draw: st.DrawFn) -> bytes:
    encoding = draw(st.one_of(st.sampled_from(["UTF-8", "tf-8", "latin-1", "utf-16", "x"]),
                              st.text("abcdefg-0123456789", max_size=8)))
    kind = draw(st.sampled_from(["directed", "undirected", "", "both"]))
    attr_type = draw(st.sampled_from(["int", "double", "string", "boolean", "long", "wat"]))
    ids = draw(st.lists(xml_text, max_size=4))
    edges = draw(st.lists(st.tuples(xml_text, xml_text), max_size=4))
    value = draw(xml_text)
    nodes = "".join(f'<node id={quoteattr(i)}><data key="d0">{value}</data></node>'
                    for i in ids)
    links = "".join(f"<edge source={quoteattr(a)} target={quoteattr(b)}/>" for a, b in edges)
    text = (f'<?xml version="1.0" encoding="{encoding}"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
            f'<key id="d0" for="node" attr.name="a" attr.type="{attr_type}"/>'
            f'<graph edgedefault="{kind}">{nodes}{links}</graph></graphml>')
    data = text.encode("utf-8")
    if draw(st.booleans()):  # damage some bytes
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=6)) + data[at:]
    return data


def _check(tmp_path: Path, content: bytes, n: int | None) -> None:
    path = tmp_path / "g.graphml"
    path.write_bytes(content)
    try:
        graph, labels = read_graphml(path, n=n)
    except DataError as exc:
        assert str(path) in str(exc)
    else:
        assert len(labels) <= graph.n


def test_an_unknown_encoding_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "g.graphml"
    path.write_text('<?xml version="1.0" encoding="tf-8"?><graphml/>', encoding="utf-8")
    with pytest.raises(DataError, match=r"g\.graphml.*not valid GraphML"):
        read_graphml(path)


@settings(FUZZ, max_examples=40)
@given(content=graphml(), n=st.one_of(st.none(), st.integers(1, 5)))
def test_arbitrary_graphml(tmp_path: Path, content: bytes, n: int | None) -> None:
    _check(tmp_path, content, n)


@pytest.mark.slow
@settings(FUZZ, max_examples=1000)
@given(content=graphml(), n=st.one_of(st.none(), st.integers(1, 5)))
def test_arbitrary_graphml_many(tmp_path: Path, content: bytes, n: int | None) -> None:
    _check(tmp_path, content, n)
