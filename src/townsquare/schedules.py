"""Scheduled things in a scenario: interventions and surveys (their configuration only).

Every intervention and survey has a :class:`Schedule` (start, frequency,
end), a target selection and, for interventions, a cost per unit so that
cost and effect can be compared. The logic lives in
``townsquare.environments.social.interventions`` and ``townsquare.measure.surveys``.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from townsquare.scenario_types import (
    MAX_OUT_OF_NETWORK,
    Probability,
    Recommender,
    Role,
    Stance,
)


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Schedule(_Config):
    """When something happens: at ``start``, then every ``every`` steps until ``until``."""

    start: Annotated[int, Field(ge=0)] = Field(default=0, description="first step")
    every: Annotated[int, Field(ge=0)] = Field(default=0, description="period; 0 = only once")
    until: Annotated[int, Field(ge=0)] | None = Field(default=None, description="last step")

    def due(self, step: int) -> bool:
        if step < self.start or (self.until is not None and step > self.until):
            return False
        return step == self.start if self.every == 0 else (step - self.start) % self.every == 0


class AgentTarget(_Config):
    """Which agents: filters combined with AND, then a random share of those left."""

    role: Role | None = Field(default=None, description="only agents of this role")
    leaning_min: Stance = Field(default=-1.0, description="lowest political leaning")
    leaning_max: Stance = Field(default=1.0, description="highest political leaning")
    agents: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list, description="explicit agent ids (empty: everyone)"
    )
    sharers_of: str | None = Field(
        default=None, description="only agents who shared this news item (by id)"
    )
    min_flags_received: Annotated[int, Field(ge=0)] = Field(
        default=0, description="only agents whose posts drew at least this many flags"
    )
    top: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="keep the most-followed N of the selected agents"
    )
    share: Probability = Field(default=1.0, description="random share of the selected agents")


class ContentTarget(_Config):
    """Which stories: news items by id, by veracity, flagged or inflammatory posts."""

    news: list[str] = Field(default_factory=list, description="news item ids")
    veracity: Literal["true", "false", "unverified"] | None = Field(
        default=None, description="all news items of this veracity"
    )
    min_flags: Annotated[int, Field(ge=0)] = Field(
        default=0, description="stories flagged at least this often (0: no flag condition)"
    )
    inflammatory: bool = Field(
        default=False, description="posts written in high arousal with an extreme stance"
    )


class _Intervention(_Config):
    name: str = Field(default="", description="label in metrics (default: the kind)")
    when: Schedule = Field(default_factory=Schedule, description="when it is applied")
    cost: Annotated[float, Field(ge=0)] = Field(default=1.0, description="cost per unit")


class LabelIntervention(_Intervention):
    """Attach a fact-check label or a community note to matching stories (unit: story)."""

    kind: Literal["label"] = Field(description="selects this intervention")
    content: ContentTarget = Field(default_factory=ContentTarget, description="stories")
    note: bool = Field(default=False, description="a community note instead of a fact check")


class RemoveIntervention(_Intervention):
    """Remove matching stories from every feed (unit: story)."""

    kind: Literal["remove"] = Field(description="selects this intervention")
    content: ContentTarget = Field(default_factory=ContentTarget, description="stories")


class DownrankIntervention(_Intervention):
    """Multiply matching stories' feed scores by ``factor`` (unit: story)."""

    kind: Literal["downrank"] = Field(description="selects this intervention")
    content: ContentTarget = Field(default_factory=ContentTarget, description="stories")
    factor: Probability = Field(default=0.2, description="score multiplier, 0 hides")


class SuspendIntervention(_Intervention):
    """Suspend matching accounts: they stop acting and their posts leave feeds (unit: agent)."""

    kind: Literal["suspend"] = Field(description="selects this intervention")
    target: AgentTarget = Field(default_factory=AgentTarget, description="accounts")


class PrebunkIntervention(_Intervention):
    """Inoculate a group against misinformation: less belief gain from false items (unit: agent)."""

    kind: Literal["prebunk"] = Field(description="selects this intervention")
    target: AgentTarget = Field(default_factory=AgentTarget, description="who is reached")
    strength: Probability = Field(default=0.5, description="share of belief gain removed")


class DebunkIntervention(_Intervention):
    """An official correction of one news item reaches a group (unit: agent reached)."""

    kind: Literal["debunk"] = Field(description="selects this intervention")
    news: str = Field(description="id of the news item corrected")
    target: AgentTarget = Field(default_factory=AgentTarget, description="who sees it")
    strength: Probability = Field(default=0.5, description="share of belief removed if seen")
    memory: Probability = Field(
        default=0.0,
        description="lasting skepticism left in those reached (FPS long-term memory): later "
        "belief gain from unproven items shrinks by this share, as after prebunking",
    )


class FeedChangeIntervention(_Intervention):
    """Switch the feed algorithm from this step on (unit: application)."""

    kind: Literal["feed_change"] = Field(description="selects this intervention")
    mix: dict[Recommender, Annotated[float, Field(ge=0)]] | None = Field(
        default=None, description="new recommender weights"
    )
    length: Annotated[int, Field(ge=1)] | None = Field(default=None, description="new length")
    out_of_network: Annotated[int, Field(ge=0, le=MAX_OUT_OF_NETWORK)] | None = Field(
        default=None, description="new out-of-network candidates per feed"
    )


class InjectPostIntervention(_Intervention):
    """Post a message from one account (an official source or a bot) (unit: post)."""

    kind: Literal["inject_post"] = Field(description="selects this intervention")
    text: str = Field(default="", description="the post's text")
    topic: str = Field(description="one of population.topics")
    stance: Stance = Field(default=0.0, description="position on the topic")
    news: str | None = Field(default=None, description="news item id the post carries")
    author: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="posting agent (default: the most-followed agent)"
    )


class ShockIntervention(_Intervention):
    """An external event: emotions and attitudes jump in a group (unit: application)."""

    kind: Literal["shock"] = Field(description="selects this intervention")
    target: AgentTarget = Field(default_factory=AgentTarget, description="who is affected")
    valence: Annotated[float, Field(ge=-2, le=2)] = Field(default=-0.3, description="added")
    arousal: Annotated[float, Field(ge=-1, le=1)] = Field(default=0.4, description="added")
    topic: str | None = Field(default=None, description="topic whose attitude shifts")
    attitude_shift: Annotated[float, Field(ge=-2, le=2)] = Field(
        default=0.0, description="added to the attitude on ``topic``"
    )


Intervention = Annotated[
    LabelIntervention
    | RemoveIntervention
    | DownrankIntervention
    | SuspendIntervention
    | PrebunkIntervention
    | DebunkIntervention
    | FeedChangeIntervention
    | InjectPostIntervention
    | ShockIntervention,
    Field(discriminator="kind"),
]

INTERVENTION_KINDS = (
    LabelIntervention, RemoveIntervention, DownrankIntervention, SuspendIntervention,
    PrebunkIntervention, DebunkIntervention, FeedChangeIntervention, InjectPostIntervention,
    ShockIntervention,
)

QuestionKind = Literal["likert", "choice", "numeric", "text"]
Measured = Literal["attitude", "belief", "valence", "arousal"]


class Question(_Config):
    """One survey question, answered from the measured state (heuristic agents) or by a model."""

    id: str = Field(min_length=1, description="short name in results")
    text: str = Field(description="the question as asked")
    kind: QuestionKind = Field(default="likert", description="answer format")
    measures: Measured = Field(default="attitude", description="state the answer reflects")
    topic: str | None = Field(default=None, description="topic (for attitude)")
    news: str | None = Field(default=None, description="news item id (for belief)")
    scale: Annotated[int, Field(ge=2, le=11)] = Field(default=5, description="Likert points")
    options: list[str] = Field(
        default_factory=list, description="choices, ordered from the low to the high end"
    )
    noise: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.1, description="response noise of heuristic answers (state units)"
    )

    @model_validator(mode="after")
    def _fits_kind(self) -> Self:
        if self.kind == "choice" and len(self.options) < 2:
            raise ValueError(f"question '{self.id}': a choice question needs 2+ options")
        if self.measures == "attitude" and self.topic is None:
            raise ValueError(f"question '{self.id}': an attitude question needs a topic")
        if self.measures == "belief" and self.news is None:
            raise ValueError(f"question '{self.id}': a belief question needs a news id")
        return self


class Survey(_Config):
    """A questionnaire given at scheduled steps to all agents or a sample."""

    id: str = Field(min_length=1, description="short name in results")
    steps: list[Annotated[int, Field(ge=0)]] = Field(min_length=1, description="when it runs")
    sample: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="agents asked (None: everyone)"
    )
    panel: bool = Field(default=True, description="ask the same sampled agents every time")
    stratify_by: Literal["role", "age_group", "leaning"] | None = Field(
        default=None, description="sample proportionally within these groups"
    )
    questions: list[Question] = Field(min_length=1, description="the questionnaire")
