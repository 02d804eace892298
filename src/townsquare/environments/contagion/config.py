"""Settings of the classic models: ``[behavior]`` with ``model`` one of them."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from townsquare.scenario_types import PositiveInt, Probability, Section


class IndependentCascade(Section):
    """Kempe et al. (2003): each newly active agent gets one chance per follower."""

    model: Literal["independent_cascade"] = Field(description="selects this model")
    p: Probability = Field(default=0.1, description="chance each attempt on a follower succeeds")
    seeds: PositiveInt = Field(default=10, description="agents active/informed at the start")


class LinearThreshold(Section):
    """Granovetter (1978): adopt when the active share of followees passes a threshold."""

    model: Literal["linear_threshold"] = Field(description="selects this model")
    threshold_low: Probability = Field(default=0.0, description="thresholds are uniform from")
    threshold_high: Probability = Field(default=1.0, description="thresholds are uniform to")
    seeds: PositiveInt = Field(default=10, description="agents active/informed at the start")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.threshold_low > self.threshold_high:
            raise ValueError("threshold_low must not exceed threshold_high")
        return self


class SIREpidemic(Section):
    """The SIR epidemic (Kermack–McKendrick on a network), as NDlib's and EoN's SIR.

    Each spreader (infected) tells every follower with chance ``beta`` per step and
    stops (recovers) with chance ``gamma`` per step. The rumour model with stiflers
    is ``model = "maki_thompson"``.
    """

    model: Literal["sir"] = Field(description="selects this model")
    beta: Probability = Field(
        default=0.1, description="chance a spreader tells each follower per step (infection)"
    )
    gamma: Probability = Field(
        default=0.1, description="chance a spreader stops each step (recovery)"
    )
    seeds: PositiveInt = Field(default=10, description="agents active/informed at the start")

    @model_validator(mode="before")
    @classmethod
    def _no_rumour_fields(cls, data: Any) -> Any:
        """Refuse what only the rumour model means, rather than silently run the epidemic."""
        if isinstance(data, dict):
            data = dict(data)
            if data.get("mechanism") == "epidemic":
                data.pop("mechanism")  # the old spelling of this model
            if "stifle" in data or "mechanism" in data:
                raise ValueError(
                    'model = "sir" is the SIR epidemic; \'stifle\' and mechanism = '
                    '"maki_thompson" belong to the Maki–Thompson rumour model: write '
                    'model = "maki_thompson" to run it, or drop them for the epidemic')
        return data


class MakiThompson(Section):
    """Maki–Thompson rumour: ignorants, spreaders and stiflers.

    Each spreader calls one random follower per step: an ignorant is told with chance
    ``beta``; a spreader who calls someone who already knows stops with chance
    ``stifle`` (a stifler), and stops on its own with chance ``gamma``.
    """

    model: Literal["maki_thompson"] = Field(description="selects this model")
    beta: Probability = Field(default=1.0, description="chance a called ignorant is told")
    gamma: Probability = Field(
        default=0.0, description="chance a spreader stops on its own each step (forgets)"
    )
    stifle: Probability = Field(
        default=1.0, description="chance a spreader who calls someone who knows stops"
    )
    seeds: PositiveInt = Field(default=10, description="agents active/informed at the start")


def rumour_spelling(behavior: Any) -> Any:
    """Runs stored before the rename said ``model = "sir", mechanism = "maki_thompson"``.

    That spelling is explicit, so it still means the rumour model (old runs stay
    readable and resumable); only ``sir`` without a mechanism changed meaning.
    """
    if isinstance(behavior, dict) and behavior.get("model") == "sir" \
            and behavior.get("mechanism") == "maki_thompson":
        behavior = {k: v for k, v in behavior.items() if k != "mechanism"}
        behavior["model"] = "maki_thompson"
    return behavior


class Voter(Section):
    """Voter model: active agents copy the opinion of a random followee."""

    model: Literal["voter"] = Field(description="selects this model")
    initial_share: Probability = Field(default=0.5, description="share starting with opinion 1")
    activity: Probability = Field(
        default=1.0, description="chance an agent updates each step (1: all, synchronously)"
    )


class Deffuant(Section):
    """Deffuant bounded confidence on continuous attitudes in [-1, 1]."""

    model: Literal["deffuant"] = Field(description="selects this model")
    epsilon: Annotated[float, Field(ge=0, le=2)] = Field(
        default=0.3, description="confidence bound: pairs closer than this interact"
    )
    mu: Annotated[float, Field(ge=0, le=0.5)] = Field(
        default=0.3, description="share of the gap each partner moves"
    )
    activity: Probability = Field(
        default=1.0, description="chance an agent seeks an interaction each step"
    )
