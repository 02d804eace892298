"""bench/knockouts.py covers every built-in study, and every arm it would run is a valid
scenario (checked without running: a typo in a knock-out would otherwise surface only
minutes into a sweep)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from townsquare.scenario import Scenario, builtin_names

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _knockouts() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # it imports its sibling scenario_results
    try:
        spec = importlib.util.spec_from_file_location("knockouts", BENCH / "knockouts.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["knockouts"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


KNOCKOUTS = _knockouts()


def test_every_builtin_study_has_a_knockout_table() -> None:
    covered = {study.scenario for study in KNOCKOUTS.STUDIES.values()}
    assert covered == set(builtin_names())


def _arms(study: Any) -> list[dict[str, Any]]:
    """Every (treated or control) override set the script would run for ``study``."""
    variants: list[Any] = [{}, *study.knockouts.values()]
    variants += [{p: v} for p, values in study.sweeps.items() for v in values]
    arms = []
    for variant in variants:
        pair = variant if isinstance(variant, KNOCKOUTS.Arms) else KNOCKOUTS.Arms(variant, variant)
        arms.append({**study.base, **study.treated, **pair.treated})
        if study.control is not None:
            arms.append({**study.base, **study.control, **pair.control})
    return arms


@pytest.mark.parametrize("name", sorted(KNOCKOUTS.STUDIES))
def test_every_arm_of_a_study_is_a_valid_scenario(name: str) -> None:
    study = KNOCKOUTS.STUDIES[name]
    scenario = Scenario.load(study.scenario)
    for overrides in _arms(study):
        values = {k: v(scenario) if callable(v) else v for k, v in overrides.items()}
        changed = scenario.with_overrides(values)  # raises ScenarioError when invalid
        for key, value in values.items():  # and the override really lands
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                node: Any = changed
                for part in key.split("."):
                    node = node[part] if isinstance(node, dict) else getattr(node, part)
                assert node == value, (name, key)
