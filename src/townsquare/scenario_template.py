"""A scenario as a commented TOML file to start a study from (``townsquare init``).

The file keeps the fields the built-in sets, each with its description, and
lists every other field of each section as a commented-out default
(``# key = value``): removing the ``# `` changes nothing until the value is
edited. Data files shipped with a built-in are written as absolute paths, so
the file runs from any folder.
"""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path
from typing import Any, get_args

import tomli_w
from pydantic import BaseModel

from townsquare.scenario import Scenario, read_scenario_text

WIDTH = 92


def commented_toml(name_or_path: str | Path) -> str:
    """The scenario ``name_or_path`` as commented TOML that loads to the same scenario."""
    text, source = read_scenario_text(name_or_path)
    scenario = Scenario.load(name_or_path)
    data = tomllib.loads(text)
    lines = _header(scenario, source)
    _emit_section(data, scenario, [], lines)
    lines += _footer(data, scenario)
    return "\n".join(lines).rstrip() + "\n"


def _header(scenario: Scenario, source: str) -> list[str]:
    from townsquare import __version__

    about = scenario.description or "(no description)"
    lines = [f"# townsquare scenario, written from the {source} (townsquare {__version__}).", "#"]
    lines += _comment(about)
    lines += [
        "#",
        "# Run it:          townsquare run THIS_FILE.toml",
        "# Check an edit:   townsquare validate THIS_FILE.toml",
        "# One-off changes: townsquare run THIS_FILE.toml --set behavior.engage_rate=0.1",
        "# Lines '# key = value' are defaults: remove the '# ' and edit the value to change one.",
        "# Every field is described in docs/scenario-reference.md.",
    ]
    return lines


def _footer(data: dict[str, Any], scenario: Scenario) -> list[str]:
    absent = [(key, field.description or "") for key, field in Scenario.model_fields.items()
              if key not in data and _holds_model(field.annotation)
              and not isinstance(getattr(scenario, key), BaseModel)]
    if not absent:
        return []
    lines = ["", "# Sections this scenario does not use (see docs/scenario-reference.md):"]
    lines += [f"#   [{key}] {description}" for key, description in absent]
    return lines


def _holds_model(annotation: Any) -> bool:
    """Whether a field's type is a section: a model, a list of models, or an optional one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))


def _comment(text: str, prefix: str = "# ") -> list[str]:
    out = []
    for paragraph in text.strip().splitlines() or [""]:
        out += textwrap.wrap(paragraph, WIDTH - len(prefix)) or [""]
    return [f"{prefix}{line}".rstrip() for line in out]


def _emit_section(data: dict[str, Any], model: BaseModel, path: list[str], lines: list[str],
                  array_item: bool = False, defaults: bool = True, off: str = "",
                  about: str | None = None) -> None:
    """Scalars set by ``data``, then ``model``'s other fields as defaults, then sub-tables.

    ``path`` names the table (empty: the top level); an array item always gets its
    ``[[path]]`` header, a table only when it has lines of its own. ``off`` ("# ")
    comments out a whole section the scenario leaves at its defaults.
    """
    fields = type(model).model_fields
    dumped = model.model_dump(mode="json")
    tables = [k for k in data if _holds_model(fields[k].annotation) and isinstance(data[k], dict)]
    arrays = [k for k in data if _holds_model(fields[k].annotation) and isinstance(data[k], list)]
    body: list[str] = []
    for key, value in data.items():
        if key not in tables and key not in arrays:
            shown = dumped[key] if isinstance(getattr(model, key), Path) else value
            body += _line(key, shown, fields[key].description)
    unset = [k for k in fields if k not in data] if defaults else []
    for key in unset:
        if dumped[key] is not None and not _holds_model(fields[key].annotation):
            body += _line(key, dumped[key], fields[key].description, off="# ")
    name = ".".join(_key(k) for k in path)
    about_lines = _comment(about) if about and (array_item or body) else []
    if array_item:
        lines += ["", *(about_lines if defaults else []), f"[[{name}]]"]
    elif path and body:
        lines += ["", *about_lines, f"{off}[{name}]"]
    lines += body
    for key in tables:
        _emit_section(data[key], getattr(model, key), [*path, key], lines, off=off,
                      about=fields[key].description)
    for key in unset:  # sections left at their defaults, shown commented out
        if isinstance(getattr(model, key), BaseModel):
            _emit_section({}, getattr(model, key), [*path, key], lines, off="# ",
                          about=fields[key].description)
    for key in arrays:
        for index, (item, sub) in enumerate(zip(data[key], getattr(model, key), strict=True)):
            _emit_section(item, sub, [*path, key], lines, array_item=True, defaults=index == 0,
                          about=fields[key].description)


def _line(key: str, value: Any, description: str | None, off: str = "") -> list[str]:
    """``key = value  # description``; the description goes above when the line is long."""
    line = f"{off}{_key(key)} = {_value(value)}"
    if not description:
        return [line]
    if len(line) + len(description) + 4 <= WIDTH:
        return [f"{line}  # {description}"]
    return [*_comment(description), line]


def _key(key: str) -> str:
    """A TOML key: bare where TOML allows it, else quoted and escaped by tomli-w."""
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else (
        _value(key))


def _value(value: Any) -> str:
    """A TOML value on one line (tables inline), every string escaped by tomli-w."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")
