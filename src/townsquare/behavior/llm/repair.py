"""Find the JSON object in a model's answer, and coerce its values, repairing slips.

Models wrap JSON in code fences, add prose around it, leave trailing commas,
use Python literals or curly quotes. :func:`extract_object` undoes those and
returns a ``dict`` or the :class:`Fault` that describes why it cannot. It only
ever *reads* text into data (``json.loads``; ``ast.literal_eval`` of literals),
so nothing in an answer can make it do anything else. It never raises.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from townsquare.behavior.llm.faults import Fault

MAX_ANSWER_CHARS = 50_000
_MAX_CANDIDATES = 8
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_REFUSAL = re.compile(
    r"\b(i'?m sorry|i am sorry|i can(?:no|')t|i cannot|i am unable|i'm unable|i won'?t|"
    r"as an ai|i must decline|not able to (?:help|comply|assist))\b",
    re.IGNORECASE,
)
_JSON_START = re.compile(r"[{\[]\s*[\"'{\[]")
_CURLY = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})

REASON_LIMIT = 300
"""The longest stated reason kept from an answer (characters)."""


def extract_object(text: object, truncated: bool = False) -> dict | Fault:
    """The first JSON object in ``text`` (a list becomes ``{"actions": list}``)."""
    if not isinstance(text, str) or not text.strip():
        return Fault.EMPTY
    stripped = text.strip()
    if stripped.startswith("{") and len(stripped) <= MAX_ANSWER_CHARS:  # fast path: clean JSON
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            return value
    text = text[:MAX_ANSWER_CHARS].translate(_CURLY)
    fences = _FENCE.findall(text)
    sources = [*fences, text] if fences else [text]
    saw_unclosed = False
    for source in sources:
        for start, end in _candidates(source):
            if end is None:
                saw_unclosed = saw_unclosed or bool(_JSON_START.match(source, start))
                continue
            value = _loads(source[start:end])
            if isinstance(value, dict):
                return value
            if isinstance(value, list):
                return {"actions": value}
    if truncated or saw_unclosed:
        return Fault.TRUNCATED
    if _REFUSAL.search(text):
        return Fault.REFUSAL
    return Fault.MALFORMED_JSON


def _candidates(text: str) -> list[tuple[int, int | None]]:
    """(start, end) spans of balanced ``{...}`` / ``[...]`` blocks; end None if unclosed."""
    spans: list[tuple[int, int | None]] = []
    pos = 0
    while len(spans) < _MAX_CANDIDATES:
        starts = [i for i in (text.find("{", pos), text.find("[", pos)) if i >= 0]
        if not starts:
            break
        start = min(starts)
        end = _balanced_end(text, start)
        spans.append((start, end))
        if end is None:
            break
        pos = start + 1 if text[start] == "[" else end
    return spans


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the bracket closing ``text[start]``, string-aware; None if unclosed."""
    depth = 0
    quote: str | None = None
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            # an apostrophe inside a bare word is not a string delimiter
            if ch == "'" and i > 0 and text[i - 1].isalnum():
                continue
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _loads(candidate: str) -> object:
    for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
        try:
            return json.loads(attempt)
        except (ValueError, RecursionError):
            pass
    try:  # Python-style literals: single quotes, True/False/None
        pythonic = re.sub(r"\btrue\b", "True", _TRAILING_COMMA.sub(r"\1", candidate))
        pythonic = re.sub(r"\bfalse\b", "False", pythonic)
        pythonic = re.sub(r"\bnull\b", "None", pythonic)
        return ast.literal_eval(pythonic)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None


# -- coercion of single values (used by the answer parser) --------------------------------


def first(fields: Mapping, names: tuple[str, ...]) -> Any:
    """The value of the first of ``names`` (aliases) present and not null."""
    for name in names:
        if name in fields and fields[name] is not None:
            return fields[name]
    return None


def as_int(value: object) -> int | None:
    """An integer from an int, an integral float or a short string like ``"#12"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and len(value) <= 32:
        match = re.search(r"-?\d{1,18}", value)
        return int(match.group()) if match else None
    return None


def as_float(value: object) -> float | None:
    """A finite float from a number or a short numeric string (never a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str) and len(value) <= 32:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_text(value: object, limit: int) -> str | None:
    """A stripped, length-limited, non-empty string, else ``None``."""
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()[:limit]
    return text or None


def clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))
