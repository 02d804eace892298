"""The scenario: every knob of a simulation in one validated object.

A scenario is written in TOML (a built-in name or a path) and validated by
pydantic. Unknown keys and out-of-range values are errors that name the file,
the field, the line where it can be located, and what is wrong. The text of
the scenario as run is stored with every run so any run can be repeated.

This module only loads and validates: each section's model lives next to what
it configures, and the ``[behavior]`` and ``[environment]`` unions are read
from the registries (:mod:`townsquare.core.registry`), rebuilt when a new
model or environment registers.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Self

import tomli_w
from pydantic import Field, ValidationError, model_validator

import townsquare.environments.builtin  # noqa: F401  (the built-ins register themselves)
from townsquare.behavior.llm.config import LLMConfig
from townsquare.core.registry import CLASSIC_MODELS, ENVIRONMENTS
from townsquare.distributed.config import DistributedConfig
from townsquare.environments.contagion.config import rumour_spelling
from townsquare.environments.social.config import NewsItem, PlatformConfig, SocialBehavior
from townsquare.errors import ScenarioError
from townsquare.network.config import NetworkConfig
from townsquare.population.config import PopulationConfig
from townsquare.scenario_errors import describe_errors
from townsquare.scenario_files import (  # re-exported: part of this module's API
    builtin_descriptions,
    builtin_names,
    read_scenario_text,
)
from townsquare.scenario_types import PositiveInt, Probability, Recommender, Role, Section, Stance
from townsquare.schedules import Intervention, Survey

__all__ = ["Probability", "Recommender", "Role", "Scenario", "Stance", "builtin_descriptions",
           "builtin_names", "read_scenario_text"]


def _tagged_union(members: list[type], tag: str) -> Any:
    """``Annotated[A | B | ..., Field(discriminator=tag)]`` over registered models."""
    union: Any = members[0]
    for member in members[1:]:
        union = union | member
    return Annotated[union, Field(discriminator=tag)]


def behavior_union() -> Any:
    """``[behavior]``: the social agent or any registered classic model, by ``model``."""
    return _tagged_union([SocialBehavior, *(e.config for e in CLASSIC_MODELS.values())], "model")


def environment_union() -> Any:
    """``[environment]``: any registered environment, by ``kind`` (or none)."""
    configs = [e.config for e in ENVIRONMENTS.values()]
    return _tagged_union(configs, "kind") | None if configs else None


class SnapshotConfig(Section):
    """Per-step state snapshots (attitude, emotion, belief) kept in the store."""

    every: PositiveInt = Field(default=1, description="steps between snapshots")
    max_agents: Annotated[int, Field(ge=0)] = Field(
        default=5_000, description="agents sampled into snapshots (fixed sample across steps)"
    )


class Scenario(Section):
    """A complete, runnable simulation description."""

    name: str = Field(default="custom", description="scenario name, part of run ids")
    description: str = Field(default="", description="what the scenario studies")
    headline: list[str] = Field(
        default_factory=list,
        description="summary measures printed first (the study's headline result)",
    )
    seed: Annotated[int, Field(ge=0)] = Field(default=0, description="the run's one seed")
    steps: PositiveInt = Field(default=30, description="time steps to simulate")
    output_dir: Path = Field(default=Path("runs"), description="folder for run folders")
    store: Annotated[str, Field(pattern=r"^postgres(ql)?://")] | None = Field(
        default=None,
        description="where runs are stored: None = SQLite files under output_dir; "
        "a postgresql:// URL = that database",
    )
    checkpoint_every: Annotated[int, Field(ge=0)] = Field(
        default=10, description="steps between checkpoints for resume (0: only on a clean stop)"
    )
    population: PopulationConfig = Field(default_factory=PopulationConfig, description="agents")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="follow graph")
    platform: PlatformConfig = Field(default_factory=PlatformConfig, description="platform")
    behavior: Any = Field(  # the registered models' union: see _rebuild_unions
        default_factory=SocialBehavior, description="how agents decide (selected by model)"
    )
    news: list[NewsItem] = Field(default_factory=list, description="seeded stories")
    snapshots: SnapshotConfig = Field(
        default_factory=SnapshotConfig, description="per-step state snapshots"
    )
    interventions: list[Intervention] = Field(
        default_factory=list, description="scheduled interventions ([[interventions]] tables)"
    )
    surveys: list[Survey] = Field(
        default_factory=list, description="scheduled questionnaires ([[surveys]] tables)"
    )
    llm: LLMConfig | None = Field(
        default=None, description="language-model minds for some or all agents ([llm] table)"
    )
    environment: Any = Field(  # the registered environments' union: see _rebuild_unions
        default=None,
        description="a market, commons or election beside (or instead of) the feed "
        "([environment] table, selected by kind)",
    )
    distributed: DistributedConfig | None = Field(
        default=None,
        description="Ray cluster address and LLM sharding over Ray actors ([distributed] table)",
    )
    recorded_cascades: Path | None = Field(
        default=None,
        description="recorded cascades CSV (digital cloning, see townsquare.clone): the run's "
        "cascades of seeded news are compared with it and the KS distances join the summary",
    )

    @model_validator(mode="before")
    @classmethod
    def _old_rumour_spelling(cls, data: Any) -> Any:
        if isinstance(data, dict) and "behavior" in data:
            data = data | {"behavior": rumour_spelling(data["behavior"])}
        return data

    @model_validator(mode="after")
    def _news_topics_known(self) -> Self:
        topics = set(self.population.topics)
        ids: set[str] = set()
        for i, item in enumerate(self.news):
            if item.topic not in topics:
                raise ValueError(
                    f"news[{i}].topic '{item.topic}' is not one of population.topics "
                    f"{sorted(topics)}"
                )
            if item.id in ids:
                raise ValueError(f"news[{i}].id '{item.id}' is used twice")
            ids.add(item.id)
            if item.step >= self.steps:
                raise ValueError(f"news[{i}].step {item.step} is not before steps={self.steps}")
            size = self.population.size
            if self.population.source is None and item.authors and max(item.authors) >= size:
                raise ValueError(f"news[{i}].authors names agent {max(item.authors)}, but "
                                 f"population.size is {size}")
        self._check_references(topics, ids)
        return self

    def _check_references(self, topics: set[str], news: set[str]) -> None:
        """Interventions and surveys may only name topics and news items that exist."""
        for i, item in enumerate(self.interventions):
            named_news = [getattr(item, "news", None)]
            named_news += list(getattr(getattr(item, "content", None), "news", []) or [])
            named_news.append(getattr(getattr(item, "target", None), "sharers_of", None))
            for name in filter(None, named_news):
                if name not in news:
                    raise ValueError(f"interventions[{i}] names news item '{name}', "
                                     f"not one of {sorted(news)}")
            topic = getattr(item, "topic", None)
            if topic is not None and topic not in topics:
                raise ValueError(f"interventions[{i}].topic '{topic}' is not one of "
                                 f"population.topics {sorted(topics)}")
        for i, survey in enumerate(self.surveys):
            for question in survey.questions:
                if question.topic is not None and question.topic not in topics:
                    raise ValueError(f"surveys[{i}] question '{question.id}' asks about topic "
                                     f"'{question.topic}', not one of {sorted(topics)}")
                if question.news is not None and question.news not in news:
                    raise ValueError(f"surveys[{i}] question '{question.id}' asks about news "
                                     f"'{question.news}', not one of {sorted(news)}")

    # -- loading -----------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path: str | Path) -> Scenario:
        """Load a built-in scenario by name, or a TOML file by path."""
        text, source = read_scenario_text(name_or_path)
        scenario = cls.from_toml(text, source=source)
        if source.startswith("built-in"):  # data files ship beside the built-in TOML files
            scenario = scenario._resolve_paths(Path(str(resources.files("townsquare.scenarios"))))
        return scenario

    @classmethod
    def from_toml(cls, text: str, source: str = "<string>", *, stored: bool = False) -> Scenario:
        """Parse and validate TOML text; errors name ``source`` and the line.

        ``stored``: the text was written by townsquare with a run or sweep, so fields
        an older version wrote and this one retired are dropped instead of refused.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(source, [f"not valid TOML: {exc}"]) from None
        return cls.from_dict(data, source=source, text=text, stored=stored)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>", text: str = "", *,
                  stored: bool = False) -> Scenario:
        _retire_fields(data, source, stored)
        _refuse_huge_integers(data, source)
        try:
            scenario = cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(source, describe_errors(exc, text)) from None
        return scenario._resolve_paths(_source_folder(source))

    def _resolve_paths(self, base: Path | None) -> Scenario:
        """Make data-file paths relative to the scenario file, as a user would expect."""
        if base is None:
            return self
        if self.population.source is not None and not self.population.source.is_absolute():
            self.population.source = base / self.population.source
        if self.network.path is not None and not self.network.path.is_absolute():
            self.network.path = base / self.network.path
        if self.recorded_cascades is not None and not self.recorded_cascades.is_absolute():
            self.recorded_cascades = base / self.recorded_cascades
        return self

    def referenced_files(self) -> dict[str, Path]:
        """The data files the scenario reads, by field (persona file, network, cascades)."""
        fields = {"population.source": self.population.source, "network.path": self.network.path,
                  "recorded_cascades": self.recorded_cascades}
        return {field: path for field, path in fields.items() if path is not None}

    def check_files(self, source: str) -> None:
        """Raise ScenarioError naming every referenced data file that is not a readable file."""
        missing = [f"field '{field}': file not found: {path}"
                   for field, path in self.referenced_files().items() if not path.is_file()]
        if missing:
            raise ScenarioError(source, missing)

    def to_toml(self) -> str:
        """The scenario as TOML text (what is stored with a run)."""
        return dumps_toml(self.model_dump(mode="json", exclude_none=True))

    def with_overrides(self, assignments: dict[str, Any]) -> Scenario:
        """A copy with dotted-path fields replaced (``{"population.size": 1000}``)."""
        data = self.model_dump(mode="json", exclude_none=True)
        for dotted, value in assignments.items():
            node = data
            *parents, leaf = dotted.split(".")
            for key in parents:
                if not isinstance(node.get(key), dict):
                    node[key] = {}
                node = node[key]
            node[leaf] = value
        return Scenario.from_dict(data, source=f"{self.name} (overrides {sorted(assignments)})")


# -- built-ins and sources ---------------------------------------------------------


def _source_folder(source: str) -> Path | None:
    """The folder of a scenario file, or None when ``source`` is only a label."""
    try:
        return Path(source).parent if Path(source).exists() else None
    except OSError:  # a label too long to be a path
        return None


RETIRED_FIELDS: dict[tuple[str, ...], str] = {
    ("behavior", "verify_skill"): "retired: judgement is signal detection now; set "
    "behavior.verifier_discernment (d') instead",
    ("environment", "norm_sustainability"): "retired: the commons norm is what agents say "
    "and hear, and the sustainable catch is known only from the observed stock; see "
    "environment.attention and environment.conformity",
}
"""Fields older versions wrote, and what replaced them."""


def _retire_fields(data: dict[str, Any], source: str, stored: bool) -> None:
    """Drop retired fields from a stored scenario; refuse them, saying why, in a user's."""
    problems = []
    for path, why in RETIRED_FIELDS.items():
        *parents, name = path
        table: Any = data
        for key in parents:
            table = table.get(key) if isinstance(table, dict) else None
        if isinstance(table, dict) and name in table:
            if stored:
                del table[name]
            else:
                problems.append(f"{'.'.join(path)}: {why}")
    if problems:
        raise ScenarioError(source, problems)


INT64 = 2**63
"""Every integer of a scenario is stored and computed on as a 64-bit integer."""


def _refuse_huge_integers(data: Any, source: str, path: str = "") -> None:
    """Name every integer that does not fit 64 bits (TOML allows them; numpy does not)."""
    problems: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{where}.{key}" if where else str(key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")
        elif isinstance(node, int) and not isinstance(node, bool) and not -INT64 <= node < INT64:
            problems.append(f"field '{where}': integer {node} does not fit in 64 bits")

    walk(data, path)
    if problems:
        raise ScenarioError(source, problems)


# -- TOML writing (tomllib only reads) -----------------------------------------------


def dumps_toml(data: dict[str, Any]) -> str:
    """Serialise nested dicts/lists of scalars to TOML with tomli-w.

    A real writer, not a hand-written one: every control character in a string is
    escaped, so the scenario stored with a run always parses back.
    """
    return tomli_w.dumps(data)


def _rebuild_unions() -> None:
    """Re-derive the ``[behavior]`` and ``[environment]`` unions from the registries."""
    Scenario.model_fields["behavior"].annotation = behavior_union()
    Scenario.model_fields["environment"].annotation = environment_union()
    Scenario.model_rebuild(force=True)


_rebuild_unions()
CLASSIC_MODELS.watch(_rebuild_unions)
ENVIRONMENTS.watch(_rebuild_unions)
