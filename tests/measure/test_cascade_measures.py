"""Cascade measures against networkx references and hand-built forests."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.errors import DataError
from townsquare.measure.cascades import (
    cascade_size_distribution,
    cascade_table,
    reach_by_veracity,
    time_to_reach,
)


def _posts(parent: list[int], **columns: list[int]) -> pd.DataFrame:
    """Posts with ids 0..n-1; step and author default to the row number."""
    n = len(parent)
    base = {"post_id": np.arange(n), "parent": parent, "step": np.arange(n), "author": np.arange(n)}
    return pd.DataFrame({**base, **columns})


@st.composite
def forests(draw: st.DrawFn) -> pd.DataFrame:
    """Random forests with shuffled, non-contiguous ids and shuffled rows."""
    n = draw(st.integers(1, 40))
    parent = [-1] + [draw(st.integers(-1, i - 1)) for i in range(1, n)]
    ids = np.array(draw(st.permutations(range(n)))) * 7 + 3
    rows = np.array(draw(st.permutations(range(n))))
    authors = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    table = pd.DataFrame(
        {
            "post_id": ids,
            "parent": [ids[p] if p >= 0 else -1 for p in parent],
            "step": np.arange(n),
            "author": authors,
        }
    )
    return table.iloc[rows].reset_index(drop=True)


@settings(max_examples=50, deadline=None)
@given(forests())
def test_cascade_table_matches_networkx(posts: pd.DataFrame) -> None:
    graph = nx.Graph()
    graph.add_nodes_from(posts["post_id"])
    linked = posts[posts["parent"] >= 0]
    graph.add_edges_from(zip(linked["parent"], linked["post_id"], strict=True))
    author = dict(zip(posts["post_id"], posts["author"], strict=True))
    table = cascade_table(posts).set_index("root")
    roots = sorted(posts.loc[posts["parent"] == -1, "post_id"])
    assert list(table.index) == roots
    for root in roots:
        dist = nx.single_source_shortest_path_length(graph, root)
        tree = graph.subgraph(dist)
        row = table.loc[root]
        assert row["size"] == len(dist)
        assert row["depth"] == max(dist.values())
        assert row["max_breadth"] == max(np.bincount(list(dist.values())))
        assert row["unique_users"] == len({author[v] for v in dist})
        expected = nx.average_shortest_path_length(tree) if len(dist) > 1 else 0.0
        assert row["structural_virality"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 50, 1000])
def test_structural_virality_of_star_and_path(n: int) -> None:
    star = cascade_table(_posts([-1] + [0] * (n - 1)))
    assert star.loc[0, "structural_virality"] == pytest.approx(2 * (n - 1) / n, rel=1e-12)
    assert (star.loc[0, "depth"], star.loc[0, "max_breadth"]) == (1, n - 1)
    path = cascade_table(_posts(list(range(-1, n - 1))))
    assert path.loc[0, "structural_virality"] == pytest.approx((n + 1) / 3, rel=1e-12)
    assert (path.loc[0, "depth"], path.loc[0, "max_breadth"]) == (n - 1, 1)


def test_cascade_table_on_hand_built_forest() -> None:
    #   0 -> 1 -> 3 -> 6        4 -> 5        7
    #   0 -> 2
    posts = _posts(
        [-1, 0, 0, 1, -1, 4, 3, -1],
        step=[0, 1, 1, 2, 3, 7, 9, 4],
        author=[0, 1, 2, 1, 3, 4, 0, 9],
        veracity=[2, 2, 2, 2, 1, 1, 2, 0],
        news=[5, 5, 5, 5, -1, -1, 5, 2],
    )
    table = cascade_table(posts)
    assert table["root"].tolist() == [0, 4, 7]
    assert table["size"].tolist() == [5, 2, 1]
    assert table["depth"].tolist() == [3, 1, 0]
    assert table["max_breadth"].tolist() == [2, 1, 1]
    assert table["unique_users"].tolist() == [3, 2, 1]
    assert table["first_step"].tolist() == [0, 3, 4]
    assert table["last_step"].tolist() == [9, 7, 4]
    assert table["duration"].tolist() == [9, 4, 0]
    assert table["veracity"].tolist() == [2, 1, 0]
    assert table["news"].tolist() == [5, -1, 2]
    # Tree 0: distances 1,1,2,3 from the root; 1,2 from 1 ... Wiener index 20 over 10 pairs.
    assert table["structural_virality"].tolist() == pytest.approx([2.0, 1.0, 0.0])


def test_cascade_table_accepts_a_mapping_of_arrays_and_a_consistent_root() -> None:
    posts = {
        "post_id": np.array([10, 11, 12]),
        "parent": np.array([-1, 10, 11]),
        "root": np.array([10, 10, 10]),
        "step": np.array([0, 1, 2]),
        "author": np.array([1, 2, 3]),
    }
    table = cascade_table(posts)
    assert table[["root", "size", "depth"]].values.tolist() == [[10, 3, 2]]
    assert table.loc[0, "veracity"] == 0 and table.loc[0, "news"] == -1


def test_empty_posts_table_gives_empty_results() -> None:
    empty = _posts([])
    assert len(cascade_table(empty)) == 0
    assert len(time_to_reach(empty)) == 0
    assert reach_by_veracity(empty).loc["true", "cascades"] == 0


def test_time_to_reach_on_constructed_cascade() -> None:
    # Root 0 at step 3; its cascade grows to 2 posts at step 4, 3 and 4 at step 5, 5 at step 9.
    posts = _posts([-1, 0, 0, 1, 1, -1, 5], step=[3, 4, 5, 9, 5, 6, 6])
    out = time_to_reach(posts, sizes=(1, 2, 3, 4, 5, 6))
    assert out["root"].tolist() == [0, 5]
    first = out.iloc[0, 1:].tolist()
    assert first[:5] == [0.0, 1.0, 2.0, 2.0, 6.0] and np.isnan(first[5])
    second = out.iloc[1, 1:].tolist()
    assert second[:2] == [0.0, 0.0] and np.isnan(second[2:]).all()
    with pytest.raises(ValueError, match="positive"):
        time_to_reach(posts, sizes=(0,))


def test_reach_by_veracity_with_exposures() -> None:
    # false: cascades {0,1,2} by authors 0,1,1 and {5} by author 0; true: {3,4} by 2,3.
    posts = _posts(
        [-1, 0, 1, -1, 3, -1],
        author=[0, 1, 1, 2, 3, 0],
        veracity=[2, 2, 2, 1, 1, 2],
    )
    exposures = pd.DataFrame({"post_id": [0, 0, 2, 5, 3], "agent": [7, 8, 7, 9, 7]})
    out = reach_by_veracity(posts, exposures)
    assert out.loc["false"].to_dict() == {
        "cascades": 2.0,
        "posts": 4.0,
        "unique_users": 2.0,
        "mean_size": 2.0,
        "max_size": 3.0,
        "exposures": 4.0,
        "unique_viewers": 3.0,
    }
    assert out.loc["true", ["posts", "unique_users", "exposures", "unique_viewers"]].tolist() == [
        2.0,
        2.0,
        1.0,
        1.0,
    ]
    assert out.loc["unverified", "cascades"] == 0 and np.isnan(out.loc["unverified", "mean_size"])
    assert out.loc["false/true", "posts"] == 2.0
    assert out.loc["false/true", "cascades"] == 2.0
    assert out.loc["false/true", "exposures"] == 4.0


def test_reach_by_veracity_reads_the_run_database_exposure_counts() -> None:
    posts = _posts([-1, 0, -1], veracity=[2, 2, 1])
    exposures = pd.DataFrame({"step": [0, 1, 1], "post": [0, 1, 2], "count": [5, 3, 4]})
    out = reach_by_veracity(posts, exposures)
    assert out["exposures"].tolist() == [0.0, 4.0, 8.0, 2.0]
    assert "unique_viewers" not in out
    with pytest.raises(DataError, match=r"missing required column 'post_id' \(or 'post'\)"):
        reach_by_veracity(posts, exposures.drop(columns="post"))


def test_reach_ratio_is_nan_without_true_items() -> None:
    out = reach_by_veracity(_posts([-1, 0], veracity=[2, 2]))
    assert np.isnan(out.loc["false/true", "posts"])


def test_cascade_size_distribution() -> None:
    dist = cascade_size_distribution(pd.DataFrame({"size": [1, 1, 1, 2, 5, 5]}))
    assert dist["size"].tolist() == [1, 2, 5]
    assert dist["count"].tolist() == [3, 1, 2]
    assert dist["ccdf"].tolist() == pytest.approx([1.0, 0.5, 2 / 6])
    assert cascade_size_distribution(np.array([3])).to_dict("list") == {
        "size": [3],
        "count": [1],
        "ccdf": [1.0],
    }


@pytest.mark.parametrize(
    ("posts", "message"),
    [
        (_posts([-1, 7]), "post 1 has parent 7, which is not in the table"),
        (_posts([-1, 2, 1]), "post 1 is on or below a cycle"),
        (_posts([-1, 2, 3, 2]), "post 1 is on or below a cycle"),
        (_posts([-1, 1]), "post 1 is on or below a cycle"),
        (_posts([-1, 0]).assign(post_id=[4, 4]), "post_id 4 appears more than once"),
        (_posts([-1, 0]).drop(columns="author"), "missing required column 'author'"),
        (_posts([-1, 0, -1]).assign(root=[0, 2, 2]), "post 1 has root 2 but its parent links"),
        (_posts([-1, 0]).assign(step=[0.0, 0.5]), "column 'step' must hold integers"),
    ],
)
def test_broken_posts_tables_name_the_problem(posts: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataError, match=f"^posts table: {message}"):
        cascade_table(posts)


def test_whole_float_columns_are_accepted() -> None:
    table = cascade_table(_posts([-1, 0]).astype(float))
    assert table["size"].tolist() == [2]


def test_missing_parents_news_and_veracity_take_their_defaults() -> None:
    # As read from SQL: NULL parents become NaN (floats) or <NA> (nullable integers).
    for parent in (pd.Series([np.nan, 0, np.nan]), pd.Series([None, 0, None], dtype="Int64")):
        posts = _posts([0, 0, 0]).assign(
            parent=parent, news=pd.Series([None, None, 4], dtype="Int64"), veracity=np.nan
        )
        table = cascade_table(posts)
        assert table[["root", "size", "news", "veracity"]].values.tolist() == [
            [0, 2, -1, 0],
            [2, 1, 4, 0],
        ]


def test_missing_or_text_values_in_required_columns_are_errors() -> None:
    with pytest.raises(DataError, match="column 'author' must hold integers; row 1 has nan"):
        cascade_table(_posts([-1, 0]).assign(author=[1.0, np.nan]))
    with pytest.raises(DataError, match="column 'step' must hold integers, got object"):
        cascade_table(_posts([-1, 0]).assign(step=["a", "b"]))


def test_reach_rejects_unknown_veracity_and_unknown_exposed_posts() -> None:
    with pytest.raises(DataError, match="post 1 has veracity 7"):
        reach_by_veracity(_posts([-1, -1], veracity=[0, 7]))
    exposures = pd.DataFrame({"post_id": [0, 9], "agent": [1, 1]})
    with pytest.raises(DataError, match=r"^exposures table: row 1: post 9 is not in"):
        reach_by_veracity(_posts([-1, 0]), exposures)
