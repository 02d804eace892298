"""A run database with damaged values reads back or raises StoreError, never a traceback (#20)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from townsquare import Run, Scenario, Simulation
from townsquare.errors import UserError
from townsquare.store.schema import SCHEMA

READS = ("events", "posts", "agents", "edges", "metrics", "attitudes", "beliefs", "emotions",
         "labels", "cascades", "summary", "scenario", "meta")
TABLES = ("events", "posts", "agents", "edges", "metrics", "attitudes", "state", "meta",
          "labels", "beliefs")
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.function_scoped_fixture])
odd_value = st.one_of(st.none(), st.text(max_size=8), st.binary(max_size=8),
                      st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True),
                      st.sampled_from(["{", "[1,", '{"a":', "nan", "1e999", "-1", "99"]))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    scenario = Scenario.load("default").with_overrides(
        {"population.size": 150, "steps": 3, "seed": 1, "output_dir": str(out)})
    return Simulation(scenario).run().path


def _damaged(pristine: Path, where: Path, table: str, column: int, value: object) -> Run:
    run_dir = where / pristine.name
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(pristine, run_dir)
    with sqlite3.connect(run_dir / "run.sqlite") as conn:
        names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        name = names[column % len(names)]
        key = ", ".join(f'"{c}"' for c in SCHEMA[table].key) or "rowid"  # WITHOUT ROWID: key
        try:
            conn.execute(f'UPDATE "{table}" SET "{name}" = ? WHERE ({key}) IN '
                         f'(SELECT {key} FROM "{table}" ORDER BY {key} LIMIT 3)', (value,))
        except sqlite3.IntegrityError:  # an INTEGER PRIMARY KEY or NOT NULL keeps its type
            assume(False)
    return Run(run_dir)


def _read_everything(run: Run) -> None:
    for name in READS:
        try:
            getattr(run, name)()
        except UserError as exc:
            assert str(exc)


def test_an_unknown_action_code_is_a_store_error(pristine: Path, tmp_path: Path) -> None:
    run = _damaged(pristine, tmp_path, "events", 2, 99)  # events.action
    with pytest.raises(UserError, match=r"events\.action holds 99"):
        run.events()


def test_text_in_an_integer_column_names_the_column(pristine: Path, tmp_path: Path) -> None:
    run = _damaged(pristine, tmp_path, "posts", 1, "abc")
    with pytest.raises(UserError, match=r"damaged.*posts.*step.*abc"):
        run.posts()


@settings(FUZZ, max_examples=30)
@given(table=st.sampled_from(TABLES), column=st.integers(0, 20), value=odd_value)
def test_damaged_values_read_or_fail_cleanly(pristine: Path, tmp_path: Path, table: str,
                                             column: int, value: object) -> None:
    _read_everything(_damaged(pristine, tmp_path, table, column, value))


@pytest.mark.slow
@settings(FUZZ, max_examples=1000)
@given(table=st.sampled_from(TABLES), column=st.integers(0, 20), value=odd_value)
def test_damaged_values_read_or_fail_cleanly_many(pristine: Path, tmp_path: Path, table: str,
                                                  column: int, value: object) -> None:
    _read_everything(_damaged(pristine, tmp_path, table, column, value))
