"""The scenario: every knob of a simulation in one validated object.

A scenario is written in TOML (a built-in name or a path) and validated by
pydantic. Unknown keys and out-of-range values are errors that name the file,
the field, the line where it can be located, and what is wrong. The text of
the scenario as run is stored with every run so any run can be repeated.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from townsquare.behavior.llm.config import LLMConfig
from townsquare.distributed.config import DistributedConfig  # issue #7: Ray
from townsquare.environments.config import ENVIRONMENT_KINDS, EnvironmentConfig  # issue #10
from townsquare.errors import ScenarioError
from townsquare.scenario_files import (  # re-exported: part of this module's API
    builtin_descriptions,
    builtin_names,
    read_scenario_text,
)
from townsquare.scenario_types import (
    MAX_OUT_OF_NETWORK,
    PositiveInt,
    Probability,
    Recommender,
    Role,
    Stance,
)
from townsquare.schedules import INTERVENTION_KINDS, Intervention, Survey

__all__ = ["Probability", "Recommender", "Role", "Scenario", "Stance", "builtin_descriptions",
           "builtin_names", "read_scenario_text"]


class _Config(BaseModel):
    """Base for all scenario sections: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class BetaDist(_Config):
    """A Beta(a, b) distribution for a quantity in [0, 1]."""

    a: Annotated[float, Field(gt=0)] = Field(default=2.0, description="first shape parameter")
    b: Annotated[float, Field(gt=0)] = Field(default=5.0, description="second shape parameter")

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)


class Archetype(_Config):
    """A kind of community member (Social Simulacra): a share of agents with one persona."""

    name: str = Field(min_length=1, description="short name, stored per agent")
    share: Annotated[float, Field(gt=0)] = Field(description="weight (normalised over archetypes)")
    description: str = Field(default="", description="persona text given to LLM agents")
    leaning: Stance = Field(default=0.0, description="centre of the members' leaning")
    leaning_spread: Annotated[float, Field(gt=0, le=2)] = Field(
        default=0.15, description="standard deviation of leaning around the centre"
    )
    activity: BetaDist | None = Field(
        default=None, description="activity distribution (default: population.activity)"
    )
    susceptibility: BetaDist | None = Field(
        default=None, description="susceptibility distribution (default: population's)"
    )
    role: Role | None = Field(default=None, description="fixed role (default: population.roles)")
    arousal: BetaDist | None = Field(
        default=None,
        description="resting arousal (temperament): the members start there and relax back "
        "to it (default: start from Beta(2, 6), relax to 0.2)",
    )


class PopulationConfig(_Config):
    """Who the agents are: sampled from distributions or loaded from a file."""

    size: PositiveInt = Field(default=10_000, description="number of agents")
    source: Path | None = Field(
        default=None,
        description="CSV or Parquet file of personas (columns: docs/personas.md); overrides "
        "sampling",
    )
    topics: list[str] = Field(
        default_factory=lambda: ["politics", "health", "science", "entertainment"],
        min_length=1,
        description="topics agents hold attitudes and interests about",
    )
    age_groups: dict[str, Probability] = Field(
        default_factory=lambda: {"18-29": 0.22, "30-49": 0.34, "50-64": 0.26, "65+": 0.18},
        description="age group -> weight (normalised)",
    )
    leaning_polarization: Probability = Field(
        default=0.3, description="0 = unimodal centred leaning, 1 = two opposed camps"
    )
    leaning_spread: Annotated[float, Field(gt=0, le=2)] = Field(
        default=0.35, description="standard deviation of leaning around each camp"
    )
    activity: BetaDist = Field(
        default_factory=lambda: BetaDist(a=1.5, b=8.0),
        description="chance an agent is active in a step, Beta-distributed",
    )
    susceptibility: BetaDist = Field(
        default_factory=lambda: BetaDist(a=2.0, b=4.0),
        description="1 - skepticism: how easily shared items are believed",
    )
    interest_concentration: Annotated[float, Field(gt=0)] = Field(
        default=0.6, description="Dirichlet concentration of interests over topics"
    )
    roles: dict[Role, Probability] = Field(
        default_factory=lambda: {
            Role.SPREADER: 0.1,
            Role.COMMENTATOR: 0.2,
            Role.VERIFIER: 0.1,
            Role.BYSTANDER: 0.6,
        },
        description="FUSE role -> weight (normalised)",
    )
    community: str = Field(
        default="", description="what the community is for and its rules (for LLM agents)"
    )
    archetypes: list[Archetype] = Field(
        default_factory=list,
        description="member kinds; when given, each agent is drawn from one (Social Simulacra)",
    )

    @model_validator(mode="after")
    def _weights_sum_positive(self) -> Self:
        for name in ("age_groups", "roles"):
            weights = getattr(self, name)
            if not weights or sum(weights.values()) <= 0:
                raise ValueError(f"{name} needs at least one positive weight")
        names = [a.name for a in self.archetypes]
        if len(set(names)) < len(names):
            raise ValueError(f"archetype names must be unique, got {names}")
        return self


NetworkKind = Literal[
    "barabasi_albert",
    "holme_kim",
    "watts_strogatz",
    "stochastic_block",
    "erdos_renyi",
    "complete",
    "edgelist",
    "graphml",
]


class NetworkConfig(_Config):
    """The initial follow graph: a generator with its parameters, or a file."""

    kind: NetworkKind = Field(default="holme_kim", description="generator, or a file format")
    m: PositiveInt = Field(default=5, description="edges per new node (BA, Holme-Kim)")
    p: Probability = Field(
        default=0.3, description="triad probability (Holme-Kim), rewiring (WS), edge prob (ER)"
    )
    k: PositiveInt = Field(default=10, description="ring neighbours (Watts-Strogatz)")
    mean_degree: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Erdős–Rényi mean degree; overrides p when set"
    )
    blocks: PositiveInt = Field(default=2, description="blocks by leaning (SBM)")
    homophily: Probability = Field(
        default=0.8, description="share of SBM edges inside an agent's own leaning block"
    )
    reciprocity: Probability = Field(
        default=0.5,
        description="chance an undirected generated tie becomes a mutual follow (else one way)",
    )
    path: Path | None = Field(default=None, description="edge list or GraphML file")
    directed: bool = Field(default=True, description="edge list rows are follower -> followee")

    @model_validator(mode="after")
    def _file_kinds_need_path(self) -> Self:
        if self.kind in ("edgelist", "graphml") and self.path is None:
            raise ValueError(f"network kind '{self.kind}' needs a 'path'")
        return self


class FeedConfig(_Config):
    """How each active agent's feed is built."""

    length: PositiveInt = Field(default=20, description="posts shown per active agent and step")
    window: PositiveInt = Field(default=6, description="steps a post stays eligible for feeds")
    mix: dict[Recommender, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: dict[Recommender, float]({"chronological": 1.0}),
        description="weights of recommenders blended into one ranking score",
    )
    out_of_network: Annotated[int, Field(ge=0, le=MAX_OUT_OF_NETWORK)] = Field(
        default=0, description="extra candidates per feed from outside the followed accounts "
        f"(at most {MAX_OUT_OF_NETWORK:,}: each active agent draws this many every step)"
    )

    @model_validator(mode="after")
    def _mix_nonzero(self) -> Self:
        if sum(self.mix.values()) <= 0:
            raise ValueError("feed.mix needs at least one positive weight")
        return self


ModerationStrategy = Literal["none", "fact_check", "community_notes", "hybrid"]


class ModerationConfig(_Config):
    """Content moderation (MOSAIC's strategies)."""

    strategy: ModerationStrategy = Field(default="none", description="MOSAIC strategy")
    fact_check_delay: Annotated[int, Field(ge=0)] = Field(
        default=2, description="steps before a checked false item is labelled"
    )
    fact_check_coverage: Probability = Field(
        default=0.7, description="share of news items, true or false, third-party checkers rate"
    )
    fact_check_sensitivity: Probability = Field(
        default=0.9, description="chance a rated false item is labelled (no source; "
        "sensitivity in docs/scenarios.md)"
    )
    fact_check_false_positive: Probability = Field(
        default=0.05, description="chance a rated true item is labelled anyway (no source; "
        "sensitivity in docs/scenarios.md)"
    )
    match_false_positive: Probability = Field(
        default=0.05, description="chance the platform's claim matching ties an original or "
        "quote of another story on a labelled item's topic to the rating, times stance "
        "similarity 1 - |difference|/2 (no published rate; sensitivity in docs/scenarios.md)"
    )
    note_threshold: PositiveInt = Field(
        default=5, description="flags on a root post before a community note is attached"
    )
    label_effect: Probability = Field(
        default=0.6, description="relative drop in resharing of a labelled post"
    )
    remove_labelled: bool = Field(
        default=False, description="hide labelled stories from feeds instead of labelling"
    )
    flag_uncivil: bool = Field(
        default=False,
        description="a civility filter flags every uncivil reply (high arousal, strong "
        "disagreement with the parent), so suspensions by flags received can act on them",
    )


ActionName = Literal["post", "repost", "quote", "comment", "like", "flag", "follow", "unfollow"]


class PlatformConfig(_Config):
    """The platform: feeds, moderation and which actions exist."""

    feed: FeedConfig = Field(default_factory=FeedConfig, description="feed construction")
    moderation: ModerationConfig = Field(
        default_factory=ModerationConfig, description="moderation strategy"
    )
    actions: list[ActionName] = Field(
        default_factory=lambda: list[ActionName]([
            "post", "repost", "quote", "comment", "like", "flag", "follow", "unfollow"
        ]),
        description="actions agents may take (others are never taken)",
    )


class SocialBehavior(_Config):
    """The rich heuristic agent: engagement, beliefs, attitudes, emotions, follows."""

    model: Literal["social"] = Field(default="social", description="selects this behaviour")
    post_rate: Probability = Field(default=0.2, description="chance an active agent posts")
    engage_rate: Probability = Field(
        default=0.08, description="base chance of engaging with one feed item"
    )
    interest_weight: Annotated[float, Field(ge=0)] = Field(
        default=1.0, description="engagement weight of interest in the post's topic"
    )
    stance_weight: Annotated[float, Field(ge=0)] = Field(
        default=1.5, description="engagement weight of agreement with the post's stance"
    )
    social_proof_weight: Annotated[float, Field(ge=0)] = Field(
        default=0.5, description="engagement weight of log(1 + followed accounts sharing it)"
    )
    emotion_weight: Annotated[float, Field(ge=0)] = Field(
        default=0.5, description="engagement weight of the agent's arousal"
    )
    arousal_appeal: Annotated[float, Field(ge=0)] = Field(
        default=1.0,
        description="engagement weight of the arousal a post is written in: alarming content "
        "is shared more (Berger & Milkman 2012; Brady et al. 2017); the magnitude has no "
        "source (sensitivity in docs/scenarios.md)",
    )
    novelty_weight: Annotated[float, Field(ge=0)] = Field(
        default=0.5,
        description="engagement weight of a post's novelty to the reader: how far its stance "
        "lies from what the reader has seen on the topic (true or false alike; Vosoughi, Roy "
        "& Aral 2018 attribute false news's reach to novelty)",
    )
    habituation: Probability = Field(
        default=0.2,
        description="step of a reader's expectation toward the stances seen on a topic, so "
        "what is seen again stops being novel (no source; sensitivity in docs/scenarios.md)",
    )
    attitude_rule: Literal["bounded_confidence", "biased_assimilation"] = Field(
        default="bounded_confidence",
        description="how posts move attitudes: bounded confidence (Deffuant et al. 2000: "
        "posts within `confidence` pull) or biased assimilation (Dandekar, Goel & Lee 2013: "
        "agreeing posts weigh more, by `assimilation_bias`)",
    )
    confidence: Annotated[float, Field(ge=0, le=2)] = Field(
        default=0.4, description="bounded-confidence threshold for attitude change"
    )
    convergence: Probability = Field(default=0.1, description="attitude step toward a post")
    assimilation_bias: Annotated[float, Field(ge=0)] = Field(
        default=1.0,
        description="biased assimilation's b: 0 weighs every post alike (DeGroot averaging); "
        "with b > 0 agreeing posts count more, so homophilous exposure can polarize; with "
        "b > 1 even balanced exposure does (Dandekar et al. 2013)",
    )
    self_weight: Annotated[float, Field(gt=0)] = Field(
        default=5.0,
        description="biased assimilation: weight of one's own attitude against the posts "
        "read in a step (no source; sensitivity in docs/scenarios.md)",
    )
    belief_gain: Probability = Field(default=0.25, description="belief gained per exposure")
    discernment: Annotated[float, Field(ge=0)] = Field(
        default=1.0,
        description="d' of an ordinary agent telling false items from true ones (signal "
        "detection; lay headline ratings give d' near 1: Pennycook & Rand 2019, Batailler et "
        "al. 2022)",
    )
    verifier_discernment: Annotated[float, Field(ge=0)] = Field(
        default=2.5, description="d' of a verifier (no source; sensitivity in docs/scenarios.md)"
    )
    doubt_threshold: float = Field(
        default=1.5,
        description="criterion on the z scale above which an agent judges an item false: "
        "1.5 makes 7% of neutral true items look false (no source; sensitivity in docs)",
    )
    partisan_doubt: Annotated[float, Field(ge=0)] = Field(
        default=0.5,
        description="how much disagreement with an item lowers the criterion, so people doubt "
        "what they disagree with (a criterion shift, not a loss of d': Batailler et al. 2022)",
    )
    label_evidence: Annotated[float, Field(ge=0)] = Field(
        default=1.0,
        description="evidence of falsity a moderation label adds, on the z scale (no source; "
        "sensitivity in docs)",
    )
    implied_truth: Annotated[float, Field(ge=0)] = Field(
        default=0.0,
        description="raise of the doubt criterion on an unlabelled post, times the share of "
        "labelled posts in the reader's feed: labels make the rest look vetted (the implied "
        "truth effect, Pennycook, Bear, Collins & Rand 2020); off by default, its size has "
        "no source (sweep in docs/scenarios.md)",
    )
    inoculation_discernment: Annotated[float, Field(ge=0)] = Field(
        default=1.0,
        description="d' added by full prebunking (inoculation raises discernment: Roozenbeek "
        "& van der Linden 2019)",
    )
    emotion_contagion: Probability = Field(
        default=0.15, description="pull of valence/arousal toward the authors seen"
    )
    emotion_decay: Probability = Field(default=0.05, description="relaxation toward calm")
    follow_rate: Probability = Field(default=0.01, description="chance to follow someone new")
    unfollow_rate: Probability = Field(
        default=0.01, description="chance to unfollow the author of a disagreeable post"
    )
    popularity_weight: Annotated[float, Field(ge=0)] = Field(
        default=1.0, description="weight of followers count when choosing whom to follow"
    )
    outrage_weight: Annotated[float, Field(ge=0)] = Field(
        default=0.0,
        description="extra engagement with strongly disagreeable posts, times arousal "
        "(trolling); such engagements by aroused agents are replies",
    )
    report_rate: Probability = Field(
        default=0.0, description="chance of flagging an inflammatory post one disagrees with"
    )
    arousal_reference: Probability = Field(
        default=0.3,
        description=(
            "arousal at which the reader's and the post's arousal add nothing to "
            "engagement (no source; test it with bench/knockouts.py)"
        ),
    )
    susceptibility_floor: Annotated[float, Field(ge=0)] = Field(
        default=0.5,
        description=(
            "engagement factor of the least susceptible reader (the factor is this plus "
            "susceptibility) (no source; test it with bench/knockouts.py)"
        ),
    )
    max_engage_probability: Probability = Field(
        default=0.95,
        description=(
            "ceiling on the chance of engaging with one post (no source; sensitivity: "
            "bench/knockouts.py)"
        ),
    )
    outrage_arousal: Probability = Field(
        default=0.5,
        description=(
            "arousal from which an engaged reader who disagrees replies (with "
            "outrage_weight) (no source; test it with bench/knockouts.py)"
        ),
    )
    post_stance_noise: Annotated[float, Field(ge=0)] = Field(
        default=0.1,
        description=(
            "SD of an original post's stance around its author's attitude (no source; "
            "sensitivity: bench/knockouts.py)"
        ),
    )
    follow_alignment: Probability = Field(
        default=0.7,
        description=(
            "agreement above which engaging with a post may lead to following its author "
            "(no source; test it with bench/knockouts.py)"
        ),
    )
    follow_original_author: bool = Field(
        default=False,
        description=(
            "a homophily follow of a repost goes to the original author rather than the "
            "reposter (whom the reader already follows when feeds show only followees): "
            "new ties through retweets, Weng et al. 2013, 'The role of information "
            "diffusion in the evolution of social networks', KDD"
        ),
    )
    follow_engaged_factor: Annotated[float, Field(ge=0)] = Field(
        default=10.0,
        description=(
            "follow_rate multiplier for following the author of an agreeable post engaged "
            "with (no source; test it with bench/knockouts.py)"
        ),
    )
    unfollow_alignment: Probability = Field(
        default=0.3,
        description=(
            "agreement below which a followed author's post may lead to an unfollow (no "
            "source; sensitivity: bench/knockouts.py)"
        ),
    )
    unfollow_clash_factor: Annotated[float, Field(ge=0)] = Field(
        default=5.0,
        description=(
            "unfollow_rate multiplier for such a post (no source; sensitivity: "
            "bench/knockouts.py)"
        ),
    )
    clash_alignment: Probability = Field(
        default=0.4,
        description=(
            "agreement below which a post read counts as a clash for emotions (no source; "
            "sensitivity: bench/knockouts.py)"
        ),
    )
    clash_arousal: Annotated[float, Field(ge=0)] = Field(
        default=0.1,
        description=(
            "arousal added per step by a feed made only of clashes (no source; "
            "sensitivity: bench/knockouts.py)"
        ),
    )
    clash_valence: Annotated[float, Field(ge=0)] = Field(
        default=0.05,
        description=(
            "valence lost per step by a feed made only of clashes (no source; "
            "sensitivity: bench/knockouts.py)"
        ),
    )
    resting_valence: Stance = Field(
        default=0.1,
        description=(
            "valence emotions relax toward (no source; test it with bench/knockouts.py)"
        ),
    )
    resting_arousal: Probability = Field(
        default=0.2,
        description=(
            "arousal emotions relax toward (an archetype's temperament overrides it) (no "
            "source; sensitivity: bench/knockouts.py)"
        ),
    )
    label_belief_factor: Probability = Field(
        default=0.3,
        description=(
            "share of the usual belief gain a labelled post still gives (no source; "
            "sensitivity: bench/knockouts.py)"
        ),
    )
    doubt_belief_drop: Probability = Field(
        default=0.5,
        description=(
            "share of belief lost when a reader doubts a post carrying the item (no "
            "source; sensitivity: bench/knockouts.py)"
        ),
    )


class IndependentCascade(_Config):
    """Kempe et al. (2003): each newly active agent gets one chance per follower."""

    model: Literal["independent_cascade"] = Field(description="selects this model")
    p: Probability = Field(default=0.1, description="chance each attempt on a follower succeeds")
    seeds: PositiveInt = Field(default=10, description="agents active/informed at the start")


class LinearThreshold(_Config):
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


class SIREpidemic(_Config):
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


class MakiThompson(_Config):
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


class Voter(_Config):
    """Voter model: active agents copy the opinion of a random followee."""

    model: Literal["voter"] = Field(description="selects this model")
    initial_share: Probability = Field(default=0.5, description="share starting with opinion 1")
    activity: Probability = Field(
        default=1.0, description="chance an agent updates each step (1: all, synchronously)"
    )


class Deffuant(_Config):
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


BehaviorConfig = Annotated[
    SocialBehavior | IndependentCascade | LinearThreshold | SIREpidemic | MakiThompson | Voter
    | Deffuant,
    Field(discriminator="model"),
]


class NewsItem(_Config):
    """A seeded story: who posts it first, when, and whether it is true."""

    id: str = Field(min_length=1, description="short name used in metrics (reach_<id>)")
    topic: str = Field(description="one of population.topics")
    stance: Stance = Field(default=0.0, description="position on the topic, -1 to 1")
    veracity: Literal["true", "false", "unverified"] = Field(
        default="unverified", description="ground truth, used by fact checkers and measures"
    )
    text: str = Field(default="", description="the story as first posted")
    step: Annotated[int, Field(ge=0)] = Field(default=0, description="step it is first posted")
    seeders: PositiveInt = Field(default=5, description="agents who post it at its step")
    seeder_role: Role | None = Field(default=None, description="draw seeders from this role")
    authors: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list,
        description="explicit seeding agents, one post each (e.g. recorded posters); "
        "overrides seeders and seeder_role",
    )
    arousal: Probability | None = Field(
        default=None, description="emotional arousal it is written in (default: the seeder's)"
    )
    retold: bool = Field(
        default=False,
        description="quotes and comments retell its text, edited by role (FUSE; "
        "deviation_<id> metrics)",
    )


class SnapshotConfig(_Config):
    """Per-step state snapshots (attitude, emotion, belief) kept in the store."""

    every: PositiveInt = Field(default=1, description="steps between snapshots")
    max_agents: Annotated[int, Field(ge=0)] = Field(
        default=5_000, description="agents sampled into snapshots (fixed sample across steps)"
    )


class Scenario(_Config):
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
    behavior: BehaviorConfig = Field(
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
    environment: EnvironmentConfig | None = Field(  # issue #10: townsquare.environments
        default=None,
        description="a market, commons or election beside (or instead of) the feed "
        "([environment] table, selected by kind)",
    )
    distributed: DistributedConfig | None = Field(  # issue #7: townsquare.distributed
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
        try:
            scenario = cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(source, _describe_errors(exc, text)) from None
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


def _describe_errors(exc: ValidationError, text: str) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "tagged-union"))]
        # pydantic puts the discriminator value in the path of union members; drop it
        loc = [p for p in loc if p not in _UNION_TAGS]
        field = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc).lstrip(".")
        field = field or "(top level)"
        line = _locate(text, loc)
        where = f"line {line}, " if line else ""
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif "input" in err and err["type"] not in ("missing",) and loc:
            message = f"{message} (got {err['input']!r})"
        problems.append(f"{where}field '{field}': {message}")
    return problems


# pydantic puts the tag of a discriminated-union member in error paths; users never write it
_UNION_TAGS = {
    "social", "independent_cascade", "linear_threshold", "sir", "maki_thompson", "voter",
    "deffuant",
    *(get_args(cls.model_fields["kind"].annotation)[0] for cls in INTERVENTION_KINDS),
    *ENVIRONMENT_KINDS,  # issue #10
}


def _locate(text: str, loc: list[str]) -> int | None:
    """Best-effort line number of a dotted field in TOML text."""
    if not text or not loc:
        return None
    lines = text.splitlines()
    keys = [k for k in loc if not k.isdigit()]
    if not keys:
        return None
    leaf = keys[-1]
    section = ".".join(keys[:-1])
    in_section = section == ""
    key_pattern = re.compile(rf"^\s*[\"']?{re.escape(leaf)}[\"']?\s*=")
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
    for number, line in enumerate(lines, start=1):
        match = header.match(line)
        if match:
            name = match.group(1)
            in_section = name == section or (section == "" and False)
            if name == ".".join(keys):
                return number
            continue
        if in_section and key_pattern.match(line):
            return number
        dotted = re.compile(rf"^\s*{re.escape('.'.join(keys))}\s*=")
        if dotted.match(line):
            return number
    for number, line in enumerate(lines, start=1):  # fall back: first mention of the key
        if key_pattern.match(line):
            return number
    return None


# -- TOML writing (tomllib only reads) -----------------------------------------------


def dumps_toml(data: dict[str, Any]) -> str:
    """Serialise nested dicts/lists of scalars to TOML with tomli-w.

    A real writer, not a hand-written one: every control character in a string is
    escaped, so the scenario stored with a run always parses back (issue #20).
    """
    return tomli_w.dumps(data)
