"""The answer an LLM agent gives each step, and its tolerant parser.

An answer is a JSON object::

    {"actions": [{"type": "comment", "post": 12, "text": "...", "reason": "..."}],
     "attitude": {"health": -0.4}, "emotion": {"valence": -0.2, "arousal": 0.6},
     "belief": {"vaccine-rumour": 0.3}}

:func:`parse_answer` turns whatever came back into a :class:`ParsedAnswer` or
a :class:`ParseFailure` naming the fault. It repairs what it can (fences,
prose, trailing commas, case, synonyms, out-of-range numbers), drops single
bad actions (e.g. a post id not in the agent's feed) rather than the whole
answer, and never raises. Answer text is only ever read as data.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from townsquare.behavior.llm.faults import Fault
from townsquare.behavior.llm.repair import (
    REASON_LIMIT,
    as_float,
    as_int,
    as_text,
    clip,
    extract_object,
    first,
)
from townsquare.core.actions import Action

TEXT_LIMIT = 1000


class ActionType(StrEnum):
    """Action names as the model writes them."""

    LIKE = "like"
    REPOST = "repost"
    QUOTE = "quote"
    COMMENT = "comment"
    POST = "post"
    FLAG = "flag"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    IDLE = "idle"

    @property
    def action(self) -> Action:
        return Action[self.name]

    @property
    def needs_post(self) -> bool:
        return self in (ActionType.LIKE, ActionType.REPOST, ActionType.QUOTE,
                        ActionType.COMMENT, ActionType.FLAG)

    @property
    def needs_text(self) -> bool:
        return self in (ActionType.POST, ActionType.QUOTE, ActionType.COMMENT)


_SYNONYMS = {
    "share": "repost", "reshare": "repost", "retweet": "repost", "boost": "repost",
    "reply": "comment", "respond": "comment", "quotetweet": "quote", "quotepost": "quote",
    "report": "flag", "favorite": "like", "favourite": "like", "heart": "like", "upvote": "like",
    "tweet": "post", "write": "post", "publish": "post", "createpost": "post",
    "subscribe": "follow", "unsubscribe": "unfollow", "none": "idle", "nothing": "idle",
    "skip": "idle", "noaction": "idle", "wait": "idle", "ignore": "idle", "scroll": "idle",
}


class ActionChoice(BaseModel):
    """One chosen action; ``post`` is a feed post id, ``target`` an agent id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ActionType
    post: int | None = None
    target: int | None = None
    text: str | None = None
    reason: str | None = None
    topic: str | None = None


class Emotion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    valence: Annotated[float, Field(ge=-1.0, le=1.0)] | None = None
    arousal: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class ParsedAnswer(BaseModel):
    """A usable answer. ``dropped`` counts actions that were invalid and left out."""

    model_config = ConfigDict(extra="forbid")

    actions: list[ActionChoice] = Field(default_factory=list)
    attitude: dict[str, Annotated[float, Field(ge=-1.0, le=1.0)]] = Field(default_factory=dict)
    emotion: Emotion | None = None
    belief: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(default_factory=dict)
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """Why an answer could not be used."""

    fault: Fault
    message: str


class Insight(BaseModel):
    """One reflection: a higher-level statement and how important it is (1-10)."""

    text: str
    importance: Annotated[float, Field(ge=1.0, le=10.0)] = 7.0


# -- JSON schemas sent with requests -------------------------------------------------------


def answer_schema(
    topics: list[str], max_actions: int = 3, posts: list[int] | None = None,
    text_chars: int = 280, reason_chars: int = 200, news_ids: list[str] | None = None,
    coarse: bool = False,
) -> dict[str, Any]:
    """JSON schema of the step answer (for ``response_format`` or a tool).

    Simple enough for grammar-constrained decoding (llama.cpp, vLLM's xgrammar),
    so even a small model can only write usable values: each kind of action is
    its own variant with exactly the fields it needs, action types are enums,
    ``post`` is an enum of the post ids in the agent's feed (``posts``; any
    integer if ``None``), numbers are bounded, texts have a maximum length and
    no object takes fields it does not name. ``coarse`` makes every number an
    enum of a few values (-1, -0.5, 0, 0.5, 1 and the like): grammar engines
    such as llama-cpp-python's ignore ``minimum``/``maximum``, and a small
    model then writes digits until its token limit.
    """

    def bounded(low: float, high: float) -> dict[str, Any]:
        if coarse:
            return {"type": "number", "enum": np.linspace(low, high, 5).round(2).tolist()}
        return {"type": "number", "minimum": low, "maximum": high}

    post: dict[str, Any] = {"type": "integer"}
    if posts:
        post = {"type": "integer", "enum": sorted(set(posts))}
    text = {"type": "string", "maxLength": text_chars}
    variants = [
        _variant(["like", "repost", "flag"], reason_chars, post=post),
        _variant(["quote", "comment"], reason_chars, post=post, text=text),
        _variant(["post"], reason_chars, text=text,
                 topic={"type": "string", "enum": list(topics)}),
        _variant(["follow", "unfollow"], reason_chars, target={"type": "integer", "minimum": 0}),
        _variant(["idle"], reason_chars),
    ]
    if posts is not None and not posts:  # an empty feed: nothing to react to
        variants = [v for v in variants if "post" not in v["properties"]]
    properties: dict[str, Any] = {
        "actions": {"type": "array", "maxItems": max_actions, "items": {"anyOf": variants}},
        "attitude": _closed({t: bounded(-1, 1) for t in topics}),
        "emotion": _closed({"valence": bounded(-1, 1), "arousal": bounded(0, 1)},
                           required=["valence", "arousal"]),
    }
    if news_ids is None:
        properties["belief"] = {"type": "object", "additionalProperties": bounded(0, 1)}
    elif news_ids:
        properties["belief"] = _closed({n: bounded(0, 1) for n in news_ids})
    return _closed(properties, required=["actions", "attitude", "emotion"])


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """An object schema with exactly ``properties`` (``required`` of them always present)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _variant(types: list[str], reason_chars: int, **fields: dict[str, Any]) -> dict[str, Any]:
    """One kind of action: its type names and the fields it needs, then a short reason."""
    properties = {"type": {"type": "string", "enum": types}, **fields,
                  "reason": {"type": "string", "maxLength": reason_chars}}
    return _closed(properties, required=list(properties))


INSIGHTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "insights": {
            "type": "array",
            "maxItems": 5,
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "importance": {"type": "integer", "minimum": 1, "maximum": 10},
                },
                "required": ["text", "importance"],
            },
        }
    },
    "required": ["insights"],
}


# -- parsing ------------------------------------------------------------------------------


def parse_answer(
    text: object,
    feed_post_ids: Collection[int],
    topics: list[str],
    *,
    main_topic: str | None = None,
    news_ids: Iterable[str] = (),
    n_agents: int | None = None,
    max_actions: int | None = None,
    truncated: bool = False,
) -> ParsedAnswer | ParseFailure:
    """Parse and repair one step answer; never raises on model output.

    Actions that reference posts outside ``feed_post_ids`` or agents outside
    ``[0, n_agents)``, lack required text, or repeat another are dropped and
    counted. A bare number for ``attitude`` sets ``main_topic`` (default: the
    first topic). ``truncated`` says the server stopped at its token limit.
    """
    try:
        data = extract_object(text, truncated=truncated)
        if isinstance(data, Fault):
            return ParseFailure(data, _FAULT_MESSAGES[data])
        return _answer_from(data, set(feed_post_ids), topics, main_topic, news_ids,
                            n_agents, max_actions)
    except Exception as exc:  # a parser bug must not stop a run; report it as a fault
        return ParseFailure(Fault.MALFORMED_JSON, f"unusable answer ({type(exc).__name__})")


def parse_insights(text: object, limit: int = 5) -> list[Insight] | ParseFailure:
    """Parse a reflection answer: ``{"insights": [{"text", "importance"}]}`` or a list."""
    data = extract_object(text)
    if isinstance(data, Fault):
        return ParseFailure(data, _FAULT_MESSAGES[data])
    items = first(data, ("insights", "reflections", "actions"))
    if isinstance(items, str | Mapping):
        items = [items]
    if not isinstance(items, list):
        return ParseFailure(Fault.MALFORMED_JSON, "no 'insights' list in the answer")
    out: list[Insight] = []
    for item in items:
        if isinstance(item, str):
            body, importance = as_text(item, TEXT_LIMIT), 7.0
        elif isinstance(item, Mapping):
            body = as_text(first(item, ("text", "insight", "statement")), TEXT_LIMIT)
            given = as_float(item.get("importance"))
            importance = 7.0 if given is None else min(10.0, max(1.0, given))
        else:
            continue
        if body:
            out.append(Insight(text=body, importance=importance))
        if len(out) >= limit:
            break
    if not out:
        return ParseFailure(Fault.MALFORMED_JSON, "the 'insights' list has no usable text")
    return out


_FAULT_MESSAGES = {
    Fault.EMPTY: "the answer was empty",
    Fault.TRUNCATED: "the answer was cut off before the JSON object was complete",
    Fault.REFUSAL: "the answer was a refusal, not a decision",
    Fault.MALFORMED_JSON: "the answer contains no valid JSON object",
    Fault.INVALID: "the answer's values have the wrong types",
}

_ANSWER_KEYS = ("actions", "action", "decisions", "attitude", "attitudes", "emotion",
                "emotions", "belief", "beliefs", "type")


def _answer_from(
    data: dict,
    feed: set[int],
    topics: list[str],
    main_topic: str | None,
    news_ids: Iterable[str],
    n_agents: int | None,
    max_actions: int | None,
) -> ParsedAnswer | ParseFailure:
    keys = {str(k).strip().lower(): v for k, v in data.items()}
    if not any(k in keys for k in _ANSWER_KEYS):
        return ParseFailure(Fault.MALFORMED_JSON, "the JSON object has none of the answer fields")
    raw = first(keys, ("actions", "action", "decisions"))
    if raw is None and "type" in keys:
        raw = [keys]  # the object itself is one action
    if isinstance(raw, Mapping | str):
        raw = [raw]
    if raw is not None and not isinstance(raw, list):
        return ParseFailure(Fault.INVALID, f"'actions' is {_kind(raw)}, not a list of actions")
    actions, dropped = _actions(raw or [], feed, n_agents, {t.lower(): t for t in topics})
    if raw and not actions:
        return ParseFailure(Fault.INVALID, f"none of the {len(raw)} actions can be used (each "
                            "needs a known type, a post id from the feed, and text to write)")
    wrong = _wrong_type(keys)
    if wrong:
        return ParseFailure(Fault.INVALID, wrong)
    if max_actions is not None and len(actions) > max_actions:
        dropped += len(actions) - max_actions
        actions = actions[:max_actions]
    topic_names = {t.lower(): t for t in topics}
    attitude = _attitude(first(keys, ("attitude", "attitudes")), topic_names,
                         main_topic or (topics[0] if topics else None))
    return ParsedAnswer(
        actions=actions,
        attitude=attitude,
        emotion=_emotion(first(keys, ("emotion", "emotions"))),
        belief=_belief(first(keys, ("belief", "beliefs")), {n.lower(): n for n in news_ids}),
        dropped=dropped,
    )


def _kind(value: object) -> str:
    return "a number" if isinstance(value, int | float) else f"a {type(value).__name__}"


def _wrong_type(keys: Mapping[str, Any]) -> str | None:
    """What is of the wrong type among attitude and emotion (``None`` if nothing)."""
    attitude = first(keys, ("attitude", "attitudes"))
    if attitude is not None and not isinstance(attitude, Mapping) and as_float(attitude) is None:
        return f"'attitude' is {_kind(attitude)}, not numbers per topic"
    emotion = first(keys, ("emotion", "emotions"))
    if emotion is not None and not isinstance(emotion, Mapping | list | tuple):
        return f"'emotion' is {_kind(emotion)}, not valence and arousal numbers"
    return None


def _actions(
    items: list, feed: set[int], n_agents: int | None, topics: dict[str, str]
) -> tuple[list[ActionChoice], int]:
    kept: list[ActionChoice] = []
    idle: list[ActionChoice] = []
    seen: set[tuple] = set()
    dropped = 0
    for item in items:
        choice = _action(item, feed, n_agents, topics)
        if choice is None:
            dropped += 1
            continue
        key = (choice.type, choice.post, choice.target, choice.text)
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        (idle if choice.type == ActionType.IDLE else kept).append(choice)
    return (kept if kept else idle[:1]), dropped


def _action(
    item: object, feed: set[int], n_agents: int | None, topics: dict[str, str]
) -> ActionChoice | None:
    if isinstance(item, str):
        item = {"type": item}
    if not isinstance(item, Mapping):
        return None
    fields = {str(k).strip().lower(): v for k, v in item.items()}
    kind = _action_type(first(fields, ("type", "action", "kind", "name")))
    if kind is None:
        return None
    post = as_int(first(fields, ("post", "post_id", "postid", "id")))
    target = as_int(first(fields, ("target", "target_id", "agent", "user", "author")))
    text = as_text(first(fields, ("text", "content", "message", "comment")), TEXT_LIMIT)
    reason = as_text(first(fields, ("reason", "why", "rationale")), REASON_LIMIT)
    topic_raw = as_text(fields.get("topic"), 100)
    topic = topics.get(topic_raw.lower()) if topic_raw else None
    if post is not None and post not in feed:
        if kind.needs_post:
            return None
        post = None
    if kind.needs_post and post is None:
        return None
    if kind.needs_text and not text:
        return None
    if kind in (ActionType.FOLLOW, ActionType.UNFOLLOW):
        if target is not None and (target < 0 or (n_agents is not None and target >= n_agents)):
            target = None
        if target is None and post is None:
            return None
    else:
        target = None
    if not kind.needs_text:
        text = None
    if kind != ActionType.POST:
        topic = None
    if kind == ActionType.POST:
        post = None
    return ActionChoice(type=kind, post=post, target=target, text=text, reason=reason,
                        topic=topic)


def _action_type(value: object) -> ActionType | None:
    if not isinstance(value, str):
        return None
    name = re.sub(r"[^a-z]", "", value.lower())
    name = _SYNONYMS.get(name, name)
    try:
        return ActionType(name)
    except ValueError:
        return None


def _attitude(value: object, topics: dict[str, str], main_topic: str | None) -> dict[str, float]:
    if isinstance(value, Mapping):
        out = {}
        for key, raw in value.items():
            topic = topics.get(str(key).strip().lower())
            number = as_float(raw)
            if topic is not None and number is not None:
                out[topic] = clip(number, -1.0, 1.0)
        return out
    number = as_float(value)
    if number is not None and main_topic is not None:
        return {main_topic: clip(number, -1.0, 1.0)}
    return {}


def _emotion(value: object) -> Emotion | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        value = {"valence": value[0], "arousal": value[1]}
    if not isinstance(value, Mapping):
        return None
    fields = {str(k).strip().lower(): v for k, v in value.items()}
    valence = as_float(fields.get("valence"))
    arousal = as_float(fields.get("arousal"))
    if valence is None and arousal is None:
        return None
    return Emotion(
        valence=None if valence is None else clip(valence, -1.0, 1.0),
        arousal=None if arousal is None else clip(arousal, 0.0, 1.0),
    )


def _belief(value: object, news: dict[str, str]) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    out = {}
    for key, raw in value.items():
        name = news.get(str(key).strip().lower())
        number = as_float(raw)
        if name is not None and number is not None:
            out[name] = clip(number, 0.0, 1.0)
    return out
