"""Settings of the environments beside the social platform: ``[environment]`` in a scenario.

One table selects the environment by ``kind`` (a discriminated union, like
``[behavior] model``): a ``market`` (TwinMarket, StockAgent), a ``commons``
(GovSim, "Cooperate or Collapse") or an ``election`` (ElectionSim). Every
model forbids unknown keys, so a typo is an error naming the field.

Names that must exist elsewhere in the scenario (topics, news ids, party
names used in ``benchmark``) are checked when the world is built, with an
error naming the field.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from townsquare.scenario_types import Probability, Stance

Name = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
TraderKind = Literal["fundamentalist", "chartist", "noise"]
TRADER_KINDS: tuple[TraderKind, ...] = ("fundamentalist", "chartist", "noise")


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# -- market ---------------------------------------------------------------------------


class Asset(_Config):
    """One traded asset: its starting price, fundamental value and the topic it is talked about."""

    name: Name = Field(description="ticker, used in metric names (price_<name>)")
    topic: str | None = Field(
        default=None,
        description="population topic whose attitude is traders' sentiment about it "
        "(default: the first topic)",
    )
    price: Positive = Field(default=100.0, description="opening price")
    fundamental: Positive | None = Field(
        default=None, description="opening fundamental value (default: the opening price)"
    )
    fundamental_volatility: NonNegative = Field(
        default=0.005, description="standard deviation of the fundamental's log change per step"
    )


class FundamentalShock(_Config):
    """News that moves an asset's fundamental value at one step (earnings, a scandal)."""

    asset: Name = Field(description="name of the asset hit")
    step: Annotated[int, Field(ge=0)] = Field(description="step it happens")
    jump: Annotated[float, Field(ge=-3, le=3)] = Field(
        description="change of the log fundamental (-0.2: about 18% lower)"
    )
    text: str = Field(default="", description="headline LLM traders read from that step on")


class MarketConfig(_Config):
    """Traders with cash and shares meet in a call auction each step (TwinMarket, StockAgent).

    Heuristic traders are fundamentalists, chartists or noise traders
    (Lux & Marchesi 1999; Chiarella et al. 2009); their sentiment is their
    attitude on the asset's topic on the social platform they also use.
    """

    kind: Literal["market"] = Field(description="selects this environment")
    assets: list[Asset] = Field(
        default_factory=lambda: [Asset(name="ACME")], min_length=1, description="traded assets"
    )
    traders: dict[TraderKind, NonNegative] = Field(
        default_factory=lambda: dict[TraderKind, float](
            {"fundamentalist": 0.4, "chartist": 0.3, "noise": 0.3}
        ),
        description="trader kind -> weight (normalised) of heuristic traders",
    )
    trade_rate: Probability = Field(
        default=0.5, description="chance a trader sends orders in a step"
    )
    initial_cash: Positive = Field(default=10_000.0, description="median starting cash")
    initial_shares: NonNegative = Field(
        default=100.0, description="median starting shares of each asset"
    )
    endowment_spread: NonNegative = Field(
        default=0.5, description="log-normal sigma of starting cash and shares across traders"
    )
    fundamentalist_strength: NonNegative = Field(
        default=0.5, description="expected log return per unit of log(fundamental / price)"
    )
    chartist_strength: NonNegative = Field(
        default=1.5, description="expected log return per unit of the recent mean log return"
    )
    value_anchor: NonNegative = Field(
        default=0.3,
        description="weight chartists and noise traders also give the fundamentalist's "
        "expectation (mixed strategies, Chiarella et al. 2009): what ends a bubble",
    )
    chartist_window: Annotated[int, Field(ge=1)] = Field(
        default=5, description="steps over which chartists measure the trend"
    )
    noise_sd: NonNegative = Field(
        default=0.03, description="standard deviation of noise traders' expected log return"
    )
    belief_noise: NonNegative = Field(
        default=0.01, description="idiosyncratic noise in every trader's expected log return"
    )
    sentiment_weight: NonNegative = Field(
        default=0.05, description="expected log return per unit of attitude on the asset's topic"
    )
    return_feedback: NonNegative = Field(
        default=0.0,
        description="attitudes on an asset's topic move by this times its log return each "
        "step (prices feed back into what people think and post)",
    )
    price_limit: Annotated[float, Field(ge=0, lt=1)] = Field(
        default=0.1,
        description="limit prices are kept within this share of the last price, so a step's "
        "return is bounded (the ±10% daily limit of the A-share market TwinMarket models; "
        "0: no limit)",
    )
    order_fraction: Probability = Field(
        default=0.2, description="largest share of cash (buy) or shares (sell) one order commits"
    )
    return_scale: Positive = Field(
        default=0.05, description="expected |log return| at which an order commits order_fraction"
    )
    shocks: list[FundamentalShock] = Field(
        default_factory=list, description="scheduled fundamental news ([[environment.shocks]])"
    )
    bubble_threshold: Positive = Field(
        default=0.25,
        description="|log(price / fundamental)| above which a step counts as a bubble or crash",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [a.name for a in self.assets]
        if len(set(names)) < len(names):
            raise ValueError(f"asset names must be unique, got {names}")
        for i, shock in enumerate(self.shocks):
            if shock.asset not in names:
                raise ValueError(f"shocks[{i}].asset '{shock.asset}' is not one of {names}")
        if sum(self.traders.values()) <= 0:
            raise ValueError("traders needs at least one positive weight")
        return self


# -- commons ----------------------------------------------------------------------------


class Beta(_Config):
    """A Beta(a, b) distribution for a per-agent trait in [0, 1]."""

    a: Positive = Field(default=2.0, description="first shape parameter")
    b: Positive = Field(default=5.0, description="second shape parameter")


class CommonsConfig(_Config):
    """A shared renewable resource harvested each step (GovSim, "Cooperate or Collapse").

    The stock regrows logistically; the sustainable catch leaves half the
    capacity (the maximum-yield stock), which is GovSim's threshold. Agents
    announce proposed catches in a discussion round, move toward the norm they
    hear, then harvest; nobody is told the sustainable catch (see
    :mod:`townsquare.environments.harvesters`). The society collapses when the stock falls below
    ``collapse_level`` of capacity.
    """

    kind: Literal["commons"] = Field(description="selects this environment")
    capacity: Positive = Field(default=1000.0, description="carrying capacity K (e.g. tons)")
    initial_stock: Annotated[float, Field(gt=0, le=1)] = Field(
        default=1.0, description="starting stock as a share of capacity"
    )
    growth_rate: Annotated[float, Field(gt=0, le=3)] = Field(
        default=1.0, description="logistic growth rate r: stock x regrows by r x (1 - x / K)"
    )
    collapse_level: Annotated[float, Field(ge=0, lt=0.5)] = Field(
        default=0.05, description="share of capacity below which the resource has collapsed"
    )
    greed: Beta = Field(
        default_factory=Beta,
        description="how far each agent's intended catch goes beyond its sustainable share, "
        "toward its per-capita share of the whole stock (0: sustainable, 1: all of it)",
    )
    conformity: Probability = Field(
        default=0.5,
        description="how far an uninformed agent moves from its intention toward the norm (the "
        "mean proposal it hears), and its chance per warning heard to learn the replacement "
        "catch (no source; sensitivity in docs/scenarios.md)",
    )
    attention: Probability = Field(
        default=0.1,
        description="chance per round that an agent who sees the stock fall works out the "
        "replacement catch (what grew back after the last catch) and proposes at most that "
        "(no source; sensitivity in docs/scenarios.md)",
    )
    discussion: Literal["all", "followees"] = Field(
        default="all",
        description="whose announcements an agent hears: everyone's (a town hall) or only "
        "the accounts it follows",
    )
    tell_sustainable: bool = Field(
        default=True,
        description="LLM agents are told the sustainable share (GovSim's universalization hint)",
    )
    messages_shown: Annotated[int, Field(ge=0)] = Field(
        default=10, description="last round's discussion messages shown to an LLM agent"
    )


# -- election ---------------------------------------------------------------------------


class Party(_Config):
    """A party or candidate and its position on the election's topic."""

    name: Name = Field(description="name, used in metric names (vote_share_<name>)")
    position: Stance = Field(description="position on the topic, -1 to 1")
    description: str = Field(default="", description="what it stands for (for LLM voters)")


class Poll(_Config):
    """An opinion poll: a vote-intention survey of a sample at scheduled steps."""

    id: Name = Field(default="poll", description="survey id in the surveys table")
    steps: list[Annotated[int, Field(ge=0)]] = Field(min_length=1, description="when it runs")
    sample: Annotated[int, Field(ge=1)] = Field(default=500, description="respondents")
    panel: bool = Field(default=False, description="ask the same agents at every wave")
    stratify_by: Literal["role", "age_group", "leaning"] | None = Field(
        default=None, description="sample proportionally within these groups"
    )


class ElectionConfig(_Config):
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


EnvironmentConfig = Annotated[
    MarketConfig | CommonsConfig | ElectionConfig, Field(discriminator="kind")
]
ENVIRONMENT_KINDS = ("market", "commons", "election")
"""Tags of the union (pydantic puts them in error paths; users never write them there)."""
