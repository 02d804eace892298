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

from townsquare import scenario as s
from townsquare import schedules as sch
from townsquare.behavior.llm import config as llm
from townsquare.distributed import config as dist  # issue #7
from townsquare.environments.market import config as env

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("top level", s.Scenario),
    ("[population]", s.PopulationConfig),
    ("[population.activity], [population.susceptibility]", s.BetaDist),
    ("[network]", s.NetworkConfig),
    ("[platform]", s.PlatformConfig),
    ("[platform.feed]", s.FeedConfig),
    ("[platform.moderation]", s.ModerationConfig),
    ('[behavior] model = "social"', s.SocialBehavior),
    ('[behavior] model = "independent_cascade"', s.IndependentCascade),
    ('[behavior] model = "linear_threshold"', s.LinearThreshold),
    ('[behavior] model = "sir"', s.SIREpidemic),
    ('[behavior] model = "maki_thompson"', s.MakiThompson),
    ('[behavior] model = "voter"', s.Voter),
    ('[behavior] model = "deffuant"', s.Deffuant),
    ("[[news]] (one table per item)", s.NewsItem),
    ("[snapshots]", s.SnapshotConfig),
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
    ("[distributed]", dist.DistributedConfig),  # issue #7: Ray
    # issue #10: environments beside the feed (townsquare.environments)
    ('[environment] kind = "market"', env.MarketConfig),
    ("[[environment.assets]]", env.Asset),
    ("[[environment.shocks]]", env.FundamentalShock),
    ('[environment] kind = "commons"', env.CommonsConfig),
    ("[environment.greed]", env.Beta),
    ('[environment] kind = "election"', env.ElectionConfig),
    ("[[environment.parties]]", env.Party),
    ("[[environment.polls]]", env.Poll),
]


def reference_markdown() -> str:
    """Markdown tables of every scenario field: type, default, constraints, meaning."""
    out = [
        "# Scenario reference",
        "",
        "Generated from `townsquare.scenario` by `townsquare.reference` (do not edit by hand;",
        "`tests/core/test_reference.py` fails when this page is out of date). Unknown keys",
        "are errors.",
    ]
    for title, model in SECTIONS:
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
