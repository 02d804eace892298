"""The social heuristic agent: vectorized engagement, belief, attitude, emotion, follows.

For every (active agent, feed post) pair at once:

* **Engagement** happens with probability
  ``engage_rate * exp(w_i (interest - 1) + w_s (2 alignment - 1) + w_p log(1 + proof)
  + w_e (arousal - 0.3) + w_a (post arousal - 0.3) + w_n novelty)
  * susceptibility factor``, reduced by a
  moderation label. ``interest`` is the agent's interest in the post's topic
  relative to uniform, ``alignment`` is ``1 - |attitude - stance| / 2``, and
  ``novelty`` is ``|stance - expectation| / 2``: how far the post lies from what
  the reader has seen on its topic (the platform moves expectations toward the
  stances read, so what is seen again stops being novel). Veracity does not enter.
* The **kind** of engagement follows the agent's role (FUSE): spreaders
  repost, commentators comment and quote, bystanders mostly like.
* **Judgement** is signal detection: a reader judges a news post false when
  ``d' [false] + label evidence + N(0, 1)`` passes a criterion that
  disagreement lowers; verifiers have a higher ``d'``, prebunking raises it.
  Readers flag news they judge false when they engage with it (verifiers
  whenever they see it), so true items draw flags too, and community notes
  can land on them.
* **Belief** in a news item grows with exposure (more for susceptible agents,
  less when labelled); judging it false, or a label, pushes it down.
* **Attitude** follows bounded confidence (Deffuant): posts within
  ``confidence`` of an agent's attitude pull it by ``convergence``; or, with
  ``attitude_rule = "biased_assimilation"``, Dandekar et al.'s rule, under which
  agreeing posts weigh more than disagreeing ones.
* **Emotion**: valence moves toward the authors' valence and arousal toward
  the arousal the posts were written in (contagion); both decay toward calm
  (arousal toward an archetype's resting arousal where one is set);
  disagreement raises arousal.
* **Prebunking** (inoculation) lowers belief gained from unproven items and
  raises discernment.
* **Follows**: an agent may follow the author of an aligned post it engaged
  with (homophily) or a popular account (sampled in proportion to followers);
  it may unfollow a followed author of a strongly disagreeable post.
* **Outrage and reports** (off by default, for community prototypes):
  ``outrage_weight`` adds ``w_o arousal max(0, 1 - 2 alignment)`` to the
  logit, and an agent in arousal >= 0.5 engaging with a post it disagrees
  with (alignment < 0.5) replies to it; with ``report_rate`` agents flag
  inflammatory posts they disagree with.
"""

from __future__ import annotations

import numpy as np

from townsquare.core.actions import Action, ActionBatch
from townsquare.core.behavior import BaseBehavior, Decision, Observation
from townsquare.environments.social.config import SocialBehavior
from townsquare.environments.social.content import Label, Veracity
from townsquare.environments.social.interventions import INFLAMMATORY_AROUSAL, INFLAMMATORY_STANCE
from townsquare.population.model import ROLES, Population
from townsquare.scenario_types import Role

# Rows: roles in ROLES order; columns: share of engagements that are
# like, repost, quote, comment (flags are decided separately). The role tables have
# no source: they encode FUSE's role descriptions (spreaders share, commentators
# comment, bystanders like) as numbers; sensitivity by overriding the roles' shares.
ROLE_MIX: dict[Role, tuple[float, float, float, float]] = {
    Role.SPREADER: (0.25, 0.55, 0.10, 0.10),
    Role.COMMENTATOR: (0.25, 0.10, 0.25, 0.40),
    Role.VERIFIER: (0.50, 0.15, 0.10, 0.25),
    Role.BYSTANDER: (0.80, 0.12, 0.03, 0.05),
}
ENGAGEMENT_KINDS = np.array([Action.LIKE, Action.REPOST, Action.QUOTE, Action.COMMENT], np.int8)
ROLE_POST_FACTOR = {Role.SPREADER: 2.0, Role.COMMENTATOR: 1.5, Role.VERIFIER: 1.0,
                    Role.BYSTANDER: 0.3}
ROLE_ENGAGE_FACTOR = {Role.SPREADER: 1.6, Role.COMMENTATOR: 1.3, Role.VERIFIER: 1.0,
                      Role.BYSTANDER: 0.6}


class SocialHeuristic(BaseBehavior):
    """Vectorized rule-based agents (see module docstring)."""

    def __init__(
        self,
        params: SocialBehavior,
        enabled: set[Action] | None = None,
        label_effect: float = 0.6,
    ) -> None:
        self.params = params
        self.label_effect = label_effect
        self.enabled = enabled if enabled is not None else set(Action)
        self._role_cdf = np.cumsum(np.array([ROLE_MIX[r] for r in ROLES]), axis=1)
        self._role_post = np.array([ROLE_POST_FACTOR[r] for r in ROLES])
        self._role_engage = np.array([ROLE_ENGAGE_FACTOR[r] for r in ROLES])

    def decide(self, obs: Observation, rng: np.random.Generator) -> Decision:
        p = self.params
        feed, content, pop, state = obs.feed, obs.content, obs.population, obs.state
        agents = feed.agents
        owner = feed.owner
        who = agents[owner]
        post = feed.posts
        topic = content.topic[post].astype(np.int64)
        has_topic = topic >= 0
        topic_idx = np.where(has_topic, topic, 0)
        stance = content.stance[post]
        false_item = content.veracity[post] == Veracity.FALSE
        label = np.maximum(content.label[post], content.label[content.root[post]])
        labelled = label != Label.NONE

        n_topics = len(pop.topics)
        interest = pop.interests[who, topic_idx] * n_topics
        attitude = state.attitude[who, topic_idx]
        alignment = 1.0 - np.abs(attitude - stance) / 2.0
        role = pop.role[who]
        suscept = pop.susceptibility[who]

        # novelty: how far the post lies from what the reader has seen on its topic
        novelty = np.where(has_topic, np.abs(stance - state.expectation[who, topic_idx]) / 2, 0.0)
        logit = (
            p.interest_weight * (interest - 1.0)
            + p.stance_weight * (2.0 * alignment - 1.0)
            + p.social_proof_weight * np.log1p(feed.social_proof)
            + p.emotion_weight * (state.arousal[who] - p.arousal_reference)
            + p.arousal_appeal * (content.arousal[post] - p.arousal_reference)
            + p.novelty_weight * novelty
        )
        if p.outrage_weight:
            logit += p.outrage_weight * state.arousal[who] * np.maximum(0.0, 1 - 2 * alignment)
        prob = (p.engage_rate * np.exp(logit) * self._role_engage[role]
                * (p.susceptibility_floor + suscept))
        prob = np.where(labelled, prob * (1.0 - self.label_effect), prob)
        engaged = rng.random(len(post)) < np.clip(prob, 0.0, p.max_engage_probability)

        verifier = role == ROLES.index(Role.VERIFIER)
        # the implied truth effect: where a feed labels some posts, the rest look vetted
        vetted = (_group_mean(owner, labelled.astype(np.float64), len(agents))[owner]
                  * ~labelled if p.implied_truth else 0.0)
        judged_false = self._judge(false_item, labelled, alignment, verifier,
                                   state.inoculation[who], vetted, rng)
        checkable = content.news[post] >= 0  # a news item: a claim one can judge
        flags = judged_false & checkable & (engaged | verifier)
        if p.report_rate:
            inflammatory = (content.arousal[post] >= INFLAMMATORY_AROUSAL) & (
                np.abs(stance) >= INFLAMMATORY_STANCE)
            flags |= inflammatory & (alignment < 0.5) & (rng.random(len(post)) < p.report_rate)
        engaged &= ~flags

        kind = self._engagement_kind(role[engaged], rng)
        if p.outrage_weight:
            angry = (state.arousal[who[engaged]] >= p.outrage_arousal) & (alignment[engaged] < 0.5)
            kind[angry] = Action.COMMENT
        batches = [
            ActionBatch.build(who[engaged], kind, post=post[engaged], topic=topic[engaged],
                              stance=stance[engaged]),
            ActionBatch.build(who[flags], Action.FLAG, post=post[flags], topic=topic[flags]),
            self._original_posts(obs, rng),
            self._follows(obs, who, post, engaged, alignment, rng),
        ]
        actions = self._only_enabled(ActionBatch.concat(batches))
        attitude_new = self._attitudes(obs, owner, topic_idx, has_topic, stance)
        valence, arousal = self._emotions(obs, owner, alignment)
        belief = self._beliefs(obs, owner, post, alignment, labelled, judged_false)
        return Decision(actions, updated=agents, attitude=attitude_new, valence=valence,
                        arousal=arousal, belief=belief)

    # -- pieces ----------------------------------------------------------------------

    def _judge(
        self,
        false_item: np.ndarray,
        labelled: np.ndarray,
        alignment: np.ndarray,
        verifier: np.ndarray,
        inoculation: np.ndarray,
        vetted: np.ndarray | float,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Which (reader, post) pairs the reader judges false: a signal-detection rule.

        The evidence of falsity is ``d' [false] + label + noise``, with ``d'`` the
        reader's discernment (verifiers': higher; prebunking adds to it) and unit
        normal noise; the reader judges the post false when the evidence passes the
        criterion, which disagreement lowers. True items are judged false too, at
        the rate the criterion and the partisan shift give: judgement can err.
        ``vetted`` (the share of labelled posts in the reader's feed, on unlabelled
        posts) raises the criterion by ``implied_truth`` times itself.
        """
        p = self.params
        d_prime = np.where(verifier, p.verifier_discernment, p.discernment)
        d_prime = d_prime + p.inoculation_discernment * inoculation
        evidence = (d_prime * false_item + p.label_evidence * labelled
                    + rng.standard_normal(len(false_item)))
        criterion = (p.doubt_threshold - p.partisan_doubt * (1.0 - 2.0 * alignment)
                     + p.implied_truth * vetted)
        return evidence > criterion

    def _engagement_kind(self, role: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        u = rng.random(len(role))
        column = (u[:, None] > self._role_cdf[role]).sum(axis=1)
        return ENGAGEMENT_KINDS[np.minimum(column, len(ENGAGEMENT_KINDS) - 1)]

    def _original_posts(self, obs: Observation, rng: np.random.Generator) -> ActionBatch:
        agents, pop = obs.feed.agents, obs.population
        rate = self.params.post_rate * self._role_post[pop.role[agents]]
        posting = agents[rng.random(len(agents)) < rate]
        if len(posting) == 0:
            return ActionBatch.empty()
        cdf = np.cumsum(pop.interests[posting], axis=1)
        u = rng.random(len(posting)) * cdf[:, -1]
        topic = np.minimum((u[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)
        stance = np.clip(
            obs.state.attitude[posting, topic]
            + rng.normal(0, self.params.post_stance_noise, len(posting)), -1, 1
        )
        return ActionBatch.build(posting, Action.POST, topic=topic, stance=stance)

    def _follows(
        self,
        obs: Observation,
        who: np.ndarray,
        post: np.ndarray,
        engaged: np.ndarray,
        alignment: np.ndarray,
        rng: np.random.Generator,
    ) -> ActionBatch:
        p, graph, content = self.params, obs.graph, obs.content
        author = content.author[post]
        target = author
        if p.follow_original_author:  # a repost's original author, new to the reader
            repost = content.kind[post] == Action.REPOST
            target = np.where(repost, content.author[content.root[post]], author)
        # homophily: follow the author of an aligned post you engaged with
        take = engaged & (alignment > p.follow_alignment) & (
            rng.random(len(post)) < p.follow_rate * p.follow_engaged_factor)
        follow_src, follow_dst = who[take], target[take]
        # popularity: pick accounts in proportion to their followers (a random edge's head)
        agents = obs.feed.agents
        n_pop = rng.binomial(len(agents), min(1.0, p.follow_rate * p.popularity_weight))
        if n_pop and graph.num_edges:
            src = rng.choice(agents, size=n_pop, replace=False)
            dst = graph.sample_followees(n_pop, rng)
            follow_src = np.concatenate([follow_src, src])
            follow_dst = np.concatenate([follow_dst, dst])
        keep = follow_src != follow_dst
        follows = ActionBatch.build(follow_src[keep], Action.FOLLOW, target=follow_dst[keep])
        # unfollow: a strongly disagreeable post from someone you follow
        clash = (alignment < p.unfollow_alignment) & (
            rng.random(len(post)) < p.unfollow_rate * p.unfollow_clash_factor)
        clash &= graph.has_edges(who, author) if clash.any() else clash
        unfollows = ActionBatch.build(who[clash], Action.UNFOLLOW, target=author[clash])
        return ActionBatch.concat([follows, unfollows])

    def _only_enabled(self, actions: ActionBatch) -> ActionBatch:
        if len(self.enabled) == len(Action):
            return actions
        allowed = np.array(sorted(int(a) for a in self.enabled), np.int8)
        return actions.select(np.isin(actions.action, allowed))

    def _attitudes(
        self,
        obs: Observation,
        owner: np.ndarray,
        topic: np.ndarray,
        has_topic: np.ndarray,
        stance: np.ndarray,
    ) -> np.ndarray:
        p, agents = self.params, obs.feed.agents
        current = obs.state.attitude[agents].astype(np.float64)
        if p.attitude_rule == "biased_assimilation":
            updated = biased_assimilation(current, owner[has_topic], topic[has_topic],
                                          stance[has_topic], p.assimilation_bias, p.self_weight)
            return updated.astype(np.float32)
        n_topics = current.shape[1]
        gap = stance - current[owner, topic]
        close = has_topic & (np.abs(gap) < p.confidence)
        cell = owner[close] * n_topics + topic[close]
        pull = np.bincount(cell, weights=gap[close], minlength=current.size)
        count = np.bincount(cell, minlength=current.size)
        mean_pull = np.divide(pull, count, out=np.zeros(current.size), where=count > 0)
        updated = current + p.convergence * mean_pull.reshape(current.shape)
        return np.clip(updated, -1, 1).astype(np.float32)

    def _emotions(
        self, obs: Observation, owner: np.ndarray, alignment: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        p, agents, state = self.params, obs.feed.agents, obs.state
        author = obs.content.author[obs.feed.posts]
        n = len(agents)
        seen = np.bincount(owner, minlength=n)
        mean_val = _group_mean(owner, state.valence[author], n)
        mean_aro = _group_mean(owner, obs.content.arousal[obs.feed.posts], n)
        clash = _group_mean(owner, (alignment < p.clash_alignment).astype(np.float64), n)
        has = seen > 0
        valence = state.valence[agents].astype(np.float64)
        arousal = state.arousal[agents].astype(np.float64)
        valence[has] += p.emotion_contagion * (mean_val[has] - valence[has])
        arousal[has] += (p.emotion_contagion * (mean_aro[has] - arousal[has])
                         + p.clash_arousal * clash[has])
        valence -= p.clash_valence * clash
        valence += p.emotion_decay * (p.resting_valence - valence)
        resting = _resting_arousal(obs.population, agents, p.resting_arousal)
        arousal += p.emotion_decay * (resting - arousal)
        return np.clip(valence, -1, 1).astype(np.float32), np.clip(arousal, 0, 1).astype(
            np.float32
        )

    def _beliefs(
        self,
        obs: Observation,
        owner: np.ndarray,
        post: np.ndarray,
        alignment: np.ndarray,
        labelled: np.ndarray,
        judged_false: np.ndarray,
    ) -> np.ndarray:
        p, agents = self.params, obs.feed.agents
        belief = obs.state.belief[agents].astype(np.float64)
        if belief.shape[1] == 0:
            return belief.astype(np.float32)
        news = obs.content.news[post].astype(np.int64)
        carries = news >= 0
        suscept = obs.population.susceptibility[agents[owner]]
        gain = p.belief_gain * suscept * alignment * np.where(labelled, p.label_belief_factor,
                                                              1.0)
        unproven = obs.content.veracity[post] != Veracity.TRUE
        gain *= np.where(unproven, 1.0 - obs.state.inoculation[agents[owner]], 1.0)
        doubt = judged_false | labelled
        cell = owner[carries] * belief.shape[1] + news[carries]
        up = np.bincount(cell, weights=(gain * ~doubt)[carries], minlength=belief.size)
        down = np.bincount(cell, weights=(p.doubt_belief_drop * doubt)[carries],
                           minlength=belief.size)
        up = np.minimum(up.reshape(belief.shape), 1.0)
        down = np.minimum(down.reshape(belief.shape), 1.0)
        belief = belief + up * (1.0 - belief)
        belief = belief * (1.0 - down)
        return np.clip(belief, 0, 1).astype(np.float32)


def biased_assimilation(
    attitude: np.ndarray,
    reader: np.ndarray,
    topic: np.ndarray,
    stance: np.ndarray,
    bias: float,
    self_weight: float,
) -> np.ndarray:
    """Dandekar, Goel & Lee (2013) biased assimilation, on attitudes in [-1, 1].

    With ``p`` the reader's attitude and ``q`` each post's stance mapped to [0, 1],
    ``s`` the sum of ``q`` and ``d`` the count of posts a reader saw on a topic:
    ``p' = (w p + p^b s) / (w + p^b s + (1 - p)^b (d - s))``. Agreeing evidence
    is weighed by ``p^b`` and disagreeing by ``(1 - p)^b``; ``b = 0`` is plain
    averaging (DeGroot); with ``b > 0`` agreeing evidence counts more, so
    homophilous exposure can polarize; with ``b > 1`` even balanced exposure
    pushes readers outward.
    """
    rows, n_topics = attitude.shape
    p = (attitude.reshape(-1) + 1.0) / 2.0
    cell = reader * n_topics + topic
    s = np.bincount(cell, weights=(stance + 1.0) / 2.0, minlength=p.size)
    d = np.bincount(cell, minlength=p.size).astype(np.float64)
    agree, disagree = p**bias * s, (1.0 - p) ** bias * (d - s)
    moved = (self_weight * p + agree) / (self_weight + agree + disagree)
    p = np.where(d > 0, moved, p)
    return np.clip(2.0 * p - 1.0, -1.0, 1.0).reshape(rows, n_topics)


def _resting_arousal(population: Population, agents: np.ndarray,
                     default: float) -> np.ndarray | float:
    """Arousal agents relax toward: ``default``, or their archetype's temperament where set."""
    base = population.arousal_baseline
    if base is None:
        return default
    return np.where(np.isnan(base[agents]), default, base[agents])


def _group_mean(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    total = np.bincount(group, weights=values, minlength=n).astype(np.float64)
    count = np.bincount(group, minlength=n)
    return np.divide(total, count, out=np.zeros(n), where=count > 0)
