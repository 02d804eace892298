"""Settings of the market: ``[environment]`` with ``kind = "market"`` in a scenario."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from townsquare.scenario_types import Name, NonNegative, Positive, Probability, Section

TraderKind = Literal["fundamentalist", "chartist", "noise"]
TRADER_KINDS: tuple[TraderKind, ...] = ("fundamentalist", "chartist", "noise")


class Asset(Section):
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


class FundamentalShock(Section):
    """News that moves an asset's fundamental value at one step (earnings, a scandal)."""

    asset: Name = Field(description="name of the asset hit")
    step: Annotated[int, Field(ge=0)] = Field(description="step it happens")
    jump: Annotated[float, Field(ge=-3, le=3)] = Field(
        description="change of the log fundamental (-0.2: about 18% lower)"
    )
    text: str = Field(default="", description="headline LLM traders read from that step on")


class MarketConfig(Section):
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
