"""Run digests: the same scenario and seed give the same digest, any changed value another.

The recorded digest pins what a small ``default`` run simulates. It changes when
the model changes, and then it is updated on purpose, in the same commit, with
the reason in the message; it must never change by accident (a dependency
update, a refactoring that was meant to keep behaviour).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from importlib import metadata
from pathlib import Path

import pytest

from townsquare import Run, Scenario, Simulation

SMALL = {"population.size": 500, "steps": 8, "checkpoint_every": 0}
# the `default` scenario at SMALL, seed 7, on the libraries of the `pinned` extra
RECORDED_DEFAULT = "0d9dc65905a851795818897bec890b803f01097e045c287964938d012a716eb2"


def small_run(folder: Path, seed: int) -> Run:
    scenario = Scenario.load("default").with_overrides(
        {**SMALL, "seed": seed, "output_dir": str(folder)})
    return Simulation(scenario).run()


def pinned_versions() -> dict[str, str]:
    """The ``pinned`` extra of townsquare: library -> exact version."""
    pins = {}
    for requirement in metadata.requires("townsquare") or []:
        match = re.fullmatch(r"([\w-]+)==([\w.]+)\s*;\s*extra\s*==\s*['\"]pinned['\"]",
                             requirement.strip())
        if match:
            pins[match[1]] = match[2]
    return pins


def test_the_same_seed_gives_the_same_digest_and_another_seed_another(tmp_path: Path) -> None:
    first, again, other = (small_run(tmp_path, s) for s in (7, 7, 8))
    assert first.id != again.id
    assert first.digest() == again.digest()
    assert first.digest() != other.digest()


def test_one_changed_value_changes_the_digest(tmp_path: Path) -> None:
    run = small_run(tmp_path, 7)
    copy = tmp_path / "copy"
    shutil.copytree(run.path, copy)
    with sqlite3.connect(copy / "run.sqlite") as conn:
        conn.execute("UPDATE events SET agent = agent + 1 WHERE rowid = "
                     "(SELECT MAX(rowid) FROM events)")
    assert Run(copy).digest() != run.digest()


def test_meta_and_commit_times_do_not_enter_the_digest(tmp_path: Path) -> None:
    run = small_run(tmp_path, 7)
    copy = tmp_path / "copy"
    shutil.copytree(run.path, copy)
    with sqlite3.connect(copy / "run.sqlite") as conn:
        conn.execute("UPDATE steps SET written_at = written_at + 1000")
        changed = conn.execute("UPDATE meta SET value = '\"2000-01-01\"' WHERE key = 'created_at'")
        assert changed.rowcount == 1
    assert Run(copy).digest() == run.digest()


def test_a_small_default_run_has_the_recorded_digest(tmp_path: Path) -> None:
    pins = pinned_versions()
    assert pins, "the pinned extra is missing from townsquare's metadata"
    installed = {name: metadata.version(name) for name in pins}
    if installed != pins:
        pytest.skip(f"the recorded digest is for the pinned libraries {pins}; "
                    f"installed: {installed} (pip install -e '.[pinned]')")
    assert small_run(tmp_path, 7).digest() == RECORDED_DEFAULT
