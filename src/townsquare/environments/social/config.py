"""Settings of the social platform and its heuristic agent: ``[platform]``, ``[behavior]``
with ``model = "social"`` and ``[[news]]`` in a scenario."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from townsquare.scenario_types import (
    MAX_FEED_LENGTH,
    MAX_OUT_OF_NETWORK,
    PositiveInt,
    Probability,
    Recommender,
    Role,
    Section,
    Stance,
)


class FeedConfig(Section):
    """How each active agent's feed is built."""

    length: Annotated[int, Field(ge=1, le=MAX_FEED_LENGTH)] = Field(
        default=20, description="posts shown per active agent and step "
        f"(at most {MAX_FEED_LENGTH:,}: each active agent's feed is built every step)")
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


class ModerationConfig(Section):
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


class PlatformConfig(Section):
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


class SocialBehavior(Section):
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


class NewsItem(Section):
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
