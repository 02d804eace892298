"""Validation errors of a scenario as a user reads them: the field, its line, what is wrong."""

from __future__ import annotations

import re
from typing import get_args

from pydantic import ValidationError

from townsquare.core.registry import CLASSIC_MODELS, ENVIRONMENTS
from townsquare.schedules import INTERVENTION_KINDS


def describe_errors(exc: ValidationError, text: str) -> list[str]:
    """One line per pydantic error: the line in ``text``, the dotted field, what is wrong."""
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "tagged-union"))]
        # pydantic puts the discriminator value in the path of union members; drop it
        tags = _union_tags()
        loc = [p for p in loc if p not in tags]
        field = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc).lstrip(".")
        field = field or "(top level)"
        line = _locate(text, loc)
        where = f"line {line}, " if line else ""
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif "input" in err and err["type"] not in ("missing",) and loc:
            message = f"{message} (got {err['input']!r})"
        problems.append(f"{where}field '{field}': {message}")
    return problems


def _union_tags() -> set[str]:
    """Tags of discriminated-union members: pydantic puts them in error paths, users never
    write them there."""
    return {"social", *CLASSIC_MODELS, *ENVIRONMENTS,
            *(get_args(cls.model_fields["kind"].annotation)[0] for cls in INTERVENTION_KINDS)}


def _locate(text: str, loc: list[str]) -> int | None:
    """Best-effort line number of a dotted field in TOML text."""
    if not text or not loc:
        return None
    lines = text.splitlines()
    keys = [k for k in loc if not k.isdigit()]
    if not keys:
        return None
    leaf = keys[-1]
    section = ".".join(keys[:-1])
    in_section = section == ""
    key_pattern = re.compile(rf"^\s*[\"']?{re.escape(leaf)}[\"']?\s*=")
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
    for number, line in enumerate(lines, start=1):
        match = header.match(line)
        if match:
            name = match.group(1)
            in_section = name == section or (section == "" and False)
            if name == ".".join(keys):
                return number
            continue
        if in_section and key_pattern.match(line):
            return number
        dotted = re.compile(rf"^\s*{re.escape('.'.join(keys))}\s*=")
        if dotted.match(line):
            return number
    for number, line in enumerate(lines, start=1):  # fall back: first mention of the key
        if key_pattern.match(line):
            return number
    return None
