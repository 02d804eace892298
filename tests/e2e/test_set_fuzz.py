"""``--set`` overrides of any key and value run or exit 2 with a message, no traceback (#20)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from townsquare.cli import app
from townsquare.scenario import read_scenario_text

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.function_scoped_fixture])


def _dotted(table: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in table.items():
        keys.append(prefix + key)
        if isinstance(value, dict):
            keys += _dotted(value, f"{prefix}{key}.")
    return keys


KEYS = [
    *_dotted(tomllib.loads(read_scenario_text("default")[0])),
    "population.source", "network.path", "network.kind", "recorded_cascades", "store",
    "llm.base_url", "behavior.model", "checkpoint_every", "platform.feed.mix.random",
]
raw_value = st.one_of(
    st.sampled_from(["1", "-1", "0", "1e999", "nan", "inf", "-inf", "true", "[]", "[1, 'a']",
                     "{a = 1}", '"x"', "''", "2**63", "9223372036854775808", '"\\u0000"',
                     '"a\\u0000b"', "/nonexistent/file.csv", "[/x]", "{", "[[", "0.5",
                     "erdos_renyi", "sir", "postgresql://", "x.graphml", '"."', '""']),
    st.text(max_size=12),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(repr),
)
assignment = st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), raw_value)


def _run_with(tmp_path: Path, pairs: list[tuple[str, str]]) -> None:
    args = ["run", "default", "--quiet", "--out", str(tmp_path / "runs")]
    for key, value in pairs:
        args += ["--set", f"{key}={value}"]
    args += ["--agents", "60", "--steps", "2"]  # applied after --set: keeps each run small
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 2), (pairs, result.output, repr(result.exception))
    assert result.exception is None or isinstance(result.exception, SystemExit), pairs


@settings(FUZZ, max_examples=30)
@given(pairs=st.lists(assignment, min_size=1, max_size=3))
def test_set_overrides_run_or_fail_cleanly(tmp_path: Path, pairs: list) -> None:
    _run_with(tmp_path, pairs)


@pytest.mark.slow
@settings(FUZZ, max_examples=1000)
@given(pairs=st.lists(assignment, min_size=1, max_size=3))
def test_set_overrides_run_or_fail_cleanly_many(tmp_path: Path, pairs: list) -> None:
    _run_with(tmp_path, pairs)


def test_a_huge_out_of_network_count_is_a_user_error(tmp_path: Path) -> None:
    """Found by the fuzz test: 1.8e9 candidates per agent ended in a MemoryError."""
    result = CliRunner().invoke(app, ["run", "default", "--quiet", "--out", str(tmp_path),
                                      "--set", "platform.feed.out_of_network=1800709670"])
    assert result.exit_code == 2
    assert "platform.feed.out_of_network" in result.output
