"""Settings of the election: ``[environment]`` with ``kind = "election"`` in a scenario."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from townsquare.scenario_types import Name, NonNegative, Positive, Probability, Section, Stance


class Party(Section):
    """A party or candidate and its position on the election's topic."""

    name: Name = Field(description="name, used in metric names (vote_share_<name>)")
    position: Stance = Field(description="position on the topic, -1 to 1")
    description: str = Field(default="", description="what it stands for (for LLM voters)")


class Poll(Section):
    """An opinion poll: a vote-intention survey of a sample at scheduled steps."""

    id: Name = Field(default="poll", description="survey id in the surveys table")
    steps: list[Annotated[int, Field(ge=0)]] = Field(min_length=1, description="when it runs")
    sample: Annotated[int, Field(ge=1)] = Field(default=500, description="respondents")
    panel: bool = Field(default=False, description="ask the same agents at every wave")
    stratify_by: Literal["role", "age_group", "leaning"] | None = Field(
        default=None, description="sample proportionally within these groups"
    )


class ElectionConfig(Section):
    """Vote intentions formed on the social platform, polled, and cast on election day.

    An agent's utility for a party falls with the squared distance between
    its attitude on ``topic`` and the party's position, rises with party
    identification and with belief in the party's campaign items, plus a
    fixed personal taste (Gumbel: a multinomial logit across the population).
    """

    kind: Literal["election"] = Field(description="selects this environment")
    topic: str = Field(default="politics", description="population topic the parties compete on")
    parties: list[Party] = Field(
        default_factory=lambda: [Party(name="left", position=-0.4),
                                 Party(name="right", position=0.4)],
        min_length=2, description="parties or candidates ([[environment.parties]])",
    )
    proximity_weight: NonNegative = Field(
        default=4.0, description="utility lost per unit of squared distance to a party"
    )
    partisanship: Probability = Field(
        default=0.5, description="share of agents identifying with the party nearest their leaning"
    )
    party_id_weight: NonNegative = Field(
        default=1.0, description="utility of the party one identifies with"
    )
    campaigns: dict[str, Name] = Field(
        default_factory=dict, description="news item id -> party whose campaign message it is"
    )
    campaign_weight: NonNegative = Field(
        default=1.5, description="utility per unit of belief in one of a party's campaign items"
    )
    taste_scale: Positive = Field(
        default=0.5, description="scale of each agent's fixed Gumbel taste for each party"
    )
    polls: list[Poll] = Field(
        default_factory=list, description="opinion polls ([[environment.polls]])"
    )
    election_step: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="step of the vote (default: the last step)"
    )
    benchmark: dict[Name, Probability] = Field(
        default_factory=dict,
        description="party -> expected vote share (e.g. the real result), for vote_error_*",
    )

    @model_validator(mode="after")
    def _names_known(self) -> Self:
        names = [p.name for p in self.parties]
        if len(set(names)) < len(names):
            raise ValueError(f"party names must be unique, got {names}")
        for where, used in (("campaigns", self.campaigns.values()),
                            ("benchmark", self.benchmark.keys())):
            unknown = sorted(set(used) - set(names))
            if unknown:
                raise ValueError(f"{where} names unknown part{'ies' if len(unknown) > 1 else 'y'} "
                                 f"{unknown}; the parties are {names}")
        ids = [p.id for p in self.polls]
        if len(set(ids)) < len(ids):
            raise ValueError(f"poll ids must be unique, got {ids}")
        return self
