"""Where scenario text comes from: the built-in TOML files, or a path.

Kept apart from :mod:`townsquare.scenario` (pydantic models) so that listing the
built-ins, or telling a user a name is unknown, imports nothing heavy.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from townsquare.errors import ScenarioError


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with townsquare."""
    folder = resources.files("townsquare.scenarios")
    names = (p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))
    return sorted(names)


def builtin_descriptions() -> dict[str, str]:
    """One line per built-in scenario, from its ``description`` field."""
    out: dict[str, str] = {}
    for name in builtin_names():
        data = tomllib.loads(read_scenario_text(name)[0])
        lines = str(data.get("description", "")).strip().splitlines()
        out[name] = lines[0] if lines else ""
    return out


def read_scenario_text(name_or_path: str | Path) -> tuple[str, str]:
    """Return (toml text, source label) for a built-in name or a file path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists() or path.parent != Path("."):
        if not path.is_file():
            raise ScenarioError(path, ["file not found"])
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(path, [f"cannot be read: {exc}"]) from None
    resource = resources.files("townsquare.scenarios") / f"{name_or_path}.toml"
    if not resource.is_file():
        known = ", ".join(builtin_names())
        raise ScenarioError(
            str(name_or_path), [f"no built-in scenario or file of that name (built-ins: {known})"]
        )
    return resource.read_text(encoding="utf-8"), f"built-in scenario '{name_or_path}'"
