"""Persona files of every odd shape load or raise DataError naming the file (#20)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townsquare.errors import DataError
from townsquare.population.model import ROLES, load_population
from townsquare.scenario_types import Role

TOPICS = ["politics", "health"]
N = 5

cell = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(-(2**63), 2**63 - 1), st.text(max_size=6), st.binary(max_size=6),
                 st.booleans())
column = st.one_of(
    st.lists(st.floats(0, 1), min_size=N, max_size=N),  # valid
    st.lists(cell, min_size=N, max_size=N),
    st.lists(st.binary(max_size=4), min_size=N, max_size=N),
    st.lists(st.lists(st.integers(0, 3), max_size=2), min_size=N, max_size=N),
)
names = st.sampled_from(["leaning", "activity", "susceptibility", "age_group", "role",
                         "interest_politics", "interest_health", "other"])
tables = st.dictionaries(names, column, max_size=8)


def _arrow_column(values: list) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowException, OverflowError):
        return pa.array([repr(v) for v in values])


def check_loaded(path: Path) -> None:
    """Loaded with sane values, or a DataError naming the file."""
    try:
        pop = load_population(path, TOPICS)
    except DataError as exc:
        assert str(path) in str(exc)
    else:
        assert np.all((pop.activity >= 0) & (pop.activity <= 1))
        assert np.all(np.abs(pop.leaning) <= 1)
        assert np.all(pop.age_group >= 0) and np.all(pop.age_group < len(pop.age_labels))


def _fuzz_parquet(tmp_path_factory: pytest.TempPathFactory, table: dict) -> None:
    path = tmp_path_factory.mktemp("pq") / "p.parquet"
    pq.write_table(pa.table({k: _arrow_column(v) for k, v in table.items()} or {"x": [1]}), path)
    check_loaded(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables)
def test_arbitrary_parquet_personas(tmp_path_factory, table: dict) -> None:
    _fuzz_parquet(tmp_path_factory, table)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables)
def test_arbitrary_parquet_personas_many(tmp_path_factory, table: dict) -> None:
    _fuzz_parquet(tmp_path_factory, table)


def _fuzz_csv(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    path = tmp_path_factory.mktemp("csv") / "p.csv"
    path.write_bytes(b"leaning,activity,susceptibility,age_group,role\n" + content)
    check_loaded(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(max_size=200))
def test_arbitrary_csv_bytes(tmp_path_factory, content: bytes) -> None:
    _fuzz_csv(tmp_path_factory, content)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(max_size=400))
def test_arbitrary_csv_bytes_many(tmp_path_factory, content: bytes) -> None:
    _fuzz_csv(tmp_path_factory, content)


def test_more_than_127_age_groups(tmp_path: Path) -> None:
    n = 300
    path = tmp_path / "p.csv"
    rows = [f"0.1,0.5,0.5,group{i}" for i in range(n)]
    path.write_text("leaning,activity,susceptibility,age_group\n" + "\n".join(rows) + "\n")
    pop = load_population(path, TOPICS)
    assert len(pop.age_labels) == n
    assert sorted(pop.age_group.tolist()) == list(range(n))
    assert pop.to_frame()["age_group"].nunique() == n


def test_a_binary_role_column_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"leaning": [0.1], "activity": [0.5], "susceptibility": [0.5],
                             "role": pa.array([b"\xff\xfe"], pa.binary())}), path)
    with pytest.raises(DataError, match="column 'role'"):
        load_population(path, TOPICS)
    pq.write_table(pa.table({"leaning": [0.1], "activity": [0.5], "susceptibility": [0.5],
                             "role": pa.array([b"verifier"], pa.binary())}), path)
    assert load_population(path, TOPICS).role.tolist() == [ROLES.index(Role.VERIFIER)]
