"""The scenario reference (docs/scenario-reference.md), generated from the pydantic models.

Generated so the documentation cannot drift from the code: a test regenerates
it and compares with the committed file.
"""

from __future__ import annotations

import typing
from types import UnionType
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from townsquare import schedules as sch
from townsquare.behavior.llm import config as llm
from townsquare.core.registry import CLASSIC_MODELS, ENVIRONMENTS, Registry
from townsquare.distributed.config import DistributedConfig
from townsquare.environments.social import config as social
from townsquare.network.config import NetworkConfig
from townsquare.population.config import BetaDist, PopulationConfig
from townsquare.scenario import Scenario, SnapshotConfig

Sections = list[tuple[str, type[BaseModel]]]


def sections() -> Sections:
    """Every section of a scenario, in reference order; registered models and environments
    (``[behavior] model``, ``[environment] kind``) included."""
    return [
        ("top level", Scenario),
        ("[population]", PopulationConfig),
        ("[population.activity], [population.susceptibility]", BetaDist),
        ("[network]", NetworkConfig),
        ("[platform]", social.PlatformConfig),
        ("[platform.feed]", social.FeedConfig),
        ("[platform.moderation]", social.ModerationConfig),
        ('[behavior] model = "social"', social.SocialBehavior),
        *((f'[behavior] model = "{e.name}"', e.config) for e in CLASSIC_MODELS.values()),
        ("[[news]] (one table per item)", social.NewsItem),
        ("[snapshots]", SnapshotConfig),
        *((f'[[interventions]] kind = "{get_args(cls.model_fields["kind"].annotation)[0]}"', cls)
          for cls in sch.INTERVENTION_KINDS),
        ("[interventions.when] (every intervention)", sch.Schedule),
        ("[interventions.target] (agents)", sch.AgentTarget),
        ("[interventions.content] (stories)", sch.ContentTarget),
        ("[[surveys]]", sch.Survey),
        ("[[surveys.questions]]", sch.Question),
        ("[llm]", llm.LLMConfig),
        ("[[llm.models]]", llm.ModelEndpoint),
        ("[llm.assign]", llm.AssignConfig),
        ("[llm.memory]", llm.MemoryConfig),
        ("[llm.local] (backend = \"local\")", llm.LocalModelConfig),
        ("[distributed]", DistributedConfig),
        *(section for e in ENVIRONMENTS.values()
          for section in ((f'[environment] kind = "{e.kind}"', e.config), *e.sections)),
    ]


SECTIONS = sections()
"""The built-in sections (a registered environment adds its own: call :func:`sections`)."""


def reference_markdown() -> str:
    """Markdown tables of every scenario field: type, default, constraints, meaning."""
    out = [
        "# Scenario reference",
        "",
        "Generated from `townsquare.scenario` by `townsquare.reference` (do not edit by hand;",
        "`tests/core/test_reference.py` fails when this page is out of date). Unknown keys",
        "are errors.",
    ]
    for title, model in sections():
        out += ["", f"## {title}", ""]
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            out += [doc[0], ""]
        out += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            out.append(f"| `{name}` | {_type(info)} | {_default(info)} | {_meaning(info)} |")
    return "\n".join(out) + "\n"


def _type(info: FieldInfo) -> str:
    text = _type_name(info.annotation)
    bounds = _bounds(info.metadata)
    return f"{text} ({bounds})" if bounds else text


def _bounds(metadata: list[Any]) -> str:
    return ", ".join(f"{label} {getattr(m, key)}" for m in metadata
                     for key, label in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))
                     if getattr(m, key, None) is not None)


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        inner, *meta = get_args(annotation)
        registries = [m for m in meta if isinstance(m, Registry)]
        if registries:  # a registered name: list what is registered
            return " \\| ".join(f'"{name}"' for name in registries[0])
        bounds = _bounds(meta)
        name = _type_name(inner)
        return f"{name} ({bounds})" if bounds else name
    if origin is typing.Literal:
        return " \\| ".join(f'"{a}"' for a in get_args(annotation))
    if origin in (typing.Union, UnionType):
        return " or ".join(_type_name(a) for a in get_args(annotation))
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in get_args(annotation))}]"
    if annotation is type(None):
        return "none"
    return getattr(annotation, "__name__", str(annotation)).replace("Config", "")


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            return "(section)"
        if isinstance(value, dict):
            value = {str(k): v for k, v in value.items()}
        return f"`{value}`"
    if info.is_required():
        return "required"
    return f"`{info.default}`"


def _meaning(info: FieldInfo) -> str:
    return (info.description or "").replace("|", "\\|")
