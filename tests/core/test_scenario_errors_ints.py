"""Integers a 64-bit computation cannot hold are refused when the scenario is read."""

from __future__ import annotations

import pytest

from townsquare import Scenario
from townsquare.errors import ScenarioError


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**70])
def test_an_integer_beyond_64_bits_is_refused_naming_the_field(value: int) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.load("default").with_overrides({"network.m": value})
    assert "field 'network.m'" in str(caught.value) and "64 bits" in str(caught.value)


def test_a_feed_longer_than_the_cap_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"platform\.feed\.length"):
        Scenario.load("default").with_overrides({"platform.feed.length": 2**40})


def test_the_largest_64_bit_seed_is_accepted() -> None:
    assert Scenario.load("default").with_overrides({"seed": 2**63 - 1}).seed == 2**63 - 1
