"""A sweep's plan: the parameter grid, one seed per replicate, and its manifest on disk.

Seeds use common random numbers: replicate ``r`` of *every* arm runs with the
same seed, ``SeedSequence(base_seed, spawn_key=(r,))``'s first 32-bit word.
Differences between arms at one replicate are then differences of the
parameters alone, not of luck, so arms can be compared replicate by replicate
(paired), which usually narrows confidence intervals a lot. Seeds of different
replicates are statistically independent streams (numpy's SeedSequence), and
growing the number of replicates keeps the seeds of the existing ones.

The manifest ``sweep.json`` holds the base scenario (as TOML), the grid, the
replicate count and the seeds, so a sweep folder is self-describing and a
rerun of the same command resumes it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from townsquare.errors import ScenarioError, UserError
from townsquare.scenario import Scenario

MANIFEST = "sweep.json"
MANIFEST_VERSION = 1
MANAGED = ("seed", "output_dir")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def replicate_seed(base_seed: int, replicate: int) -> int:
    """The seed of replicate ``replicate``, shared by every arm (common random numbers)."""
    sequence = np.random.SeedSequence(int(base_seed), spawn_key=(int(replicate),))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def parse_value(raw: str) -> Any:
    """One value read as TOML (number, boolean, string, list) or, failing that, as text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw.strip()


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are outside brackets, braces and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote and text[i - 1] != "\\" else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"a.b=1,2,3"`` -> ``("a.b", [1, 2, 3])``; values are TOML, bare words are text."""
    if "=" not in text:
        raise UserError(f"--param '{text}' is not of the form name=value1,value2,...")
    name, raw = (part.strip() for part in text.split("=", 1))
    check_name(name)
    try:
        values = tomllib.loads(f"v = [{raw}]")["v"]
    except tomllib.TOMLDecodeError:
        values = [parse_value(part) for part in _split_top_level(raw)]
    if not raw or any(v == "" for v in values):
        raise UserError(f"--param '{text}' has an empty value; give values separated by commas")
    return name, values


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise UserError(f"parameter name '{name}' is not a dotted scenario path like "
                        "'platform.moderation.strategy'")
    if name in MANAGED:
        raise UserError(f"parameter '{name}' is set by the sweep itself (seeds come from "
                        "--seed and the replicate index; runs go into the sweep folder)")


def column_name(param: str) -> str:
    """Results column of a swept parameter: ``param_`` + the path with dots as underscores."""
    return "param_" + param.replace(".", "_")


@dataclass(frozen=True)
class Arm:
    """One point of the grid."""

    index: int
    params: dict[str, Any]


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to produce one run (picklable, no open handles)."""

    run_id: str
    arm: int
    replicate: int
    seed: int
    scenario_toml: str
    overrides: dict[str, Any]
    run_dir: str


@dataclass(frozen=True)
class SweepPlan:
    """The grid of arms, the replicate seeds and the base scenario of one sweep."""

    scenario_toml: str
    params: dict[str, list[Any]]
    replicates: int
    base_seed: int

    def __post_init__(self) -> None:
        if self.replicates < 1:
            raise UserError(f"replicates must be at least 1, got {self.replicates}")
        for name, values in self.params.items():
            check_name(name)
            if not values:
                raise UserError(f"parameter '{name}' has no values")
        columns = [column_name(p) for p in self.params]
        if len(set(columns)) != len(columns):
            raise UserError(f"parameters {list(self.params)} give clashing column names")

    @property
    def scenario(self) -> Scenario:
        return Scenario.from_toml(self.scenario_toml, source="sweep base scenario", stored=True)

    @property
    def arms(self) -> list[Arm]:
        names = list(self.params)
        grid = itertools.product(*(self.params[n] for n in names))
        return [Arm(i, dict(zip(names, values, strict=True))) for i, values in enumerate(grid)]

    @property
    def seeds(self) -> list[int]:
        return [replicate_seed(self.base_seed, r) for r in range(self.replicates)]

    def run_id(self, arm: int, replicate: int) -> str:
        """Folder name of a run: ``<arm>-r<replicate>``, zero-padded so names sort."""
        width_arm = len(str(max(len(self.arms) - 1, 0)))
        width_rep = len(str(max(self.replicates - 1, 0)))
        return f"{arm:0{width_arm}d}-r{replicate:0{width_rep}d}"

    def run_prefix(self, folder: Path) -> str:
        """Prefix of run ids: none in SQLite, where each run is a file in the sweep folder;
        the sweep's name and a hash of its folder with PostgreSQL, where run ids are schema
        names shared by every sweep writing to that database."""
        if self.scenario.store is None:
            return ""
        digest = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:8]
        return f"{Path(folder).name}-{digest}-"

    def tasks(self, folder: Path) -> list[RunTask]:
        """One task per (arm, replicate), replicate-major so early stops cover every arm."""
        seeds, arms = self.seeds, self.arms
        prefix = self.run_prefix(folder)
        return [
            RunTask(
                run_id=prefix + self.run_id(arm.index, r),
                arm=arm.index,
                replicate=r,
                seed=seeds[r],
                scenario_toml=self.scenario_toml,
                overrides=arm.params | {"seed": seeds[r]},
                run_dir=str(folder / (prefix + self.run_id(arm.index, r))),
            )
            for r in range(self.replicates)
            for arm in arms
        ]

    def check_arms(self) -> None:
        """Validate every arm's scenario now, so a bad value fails before any run starts."""
        base = self.scenario
        for arm in self.arms:
            try:
                base.with_overrides(arm.params)
            except ScenarioError as exc:
                shown = ", ".join(f"{k}={v!r}" for k, v in arm.params.items())
                raise UserError(f"sweep arm {arm.index} ({shown}) is not a valid scenario:\n"
                                + "\n".join(f"  - {p}" for p in exc.problems)) from None

    # -- manifest --------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "scenario_name": self.scenario.name,
            "scenario_toml": self.scenario_toml,
            "params": self.params,
            "replicates": self.replicates,
            "base_seed": self.base_seed,
            "seeds": self.seeds,
            "arms": [{"arm": a.index, "params": a.params} for a in self.arms],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path) -> SweepPlan:
        try:
            if data.get("version") != MANIFEST_VERSION:
                raise UserError(f"{source}: unknown sweep manifest version {data.get('version')}")
            return cls(str(data["scenario_toml"]), dict(data["params"]),
                       int(data["replicates"]), int(data["base_seed"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{source} is not a valid sweep manifest ({exc!r})") from None

    def compatible(self, other: SweepPlan) -> bool:
        """Same scenario, grid and seed (replicate counts may differ)."""
        return (self.scenario_toml, self.params, self.base_seed) == (
            other.scenario_toml, other.params, other.base_seed)


def read_manifest(folder: Path) -> SweepPlan:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise UserError(f"{folder} is not a sweep folder: it has no {MANIFEST}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} cannot be read as JSON: {exc}") from None
    return SweepPlan.from_json(data, path)


def write_manifest(folder: Path, plan: SweepPlan) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(plan.to_json(), indent=2), encoding="utf-8")
    tmp.replace(folder / MANIFEST)
