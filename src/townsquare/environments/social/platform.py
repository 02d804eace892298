"""The social platform as an Environment: activation, seeded news, feeds, actions, moderation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from townsquare.arrays import contains_sorted, first_occurrence, insert_sorted
from townsquare.core.actions import Action, ActionBatch
from townsquare.core.behavior import Decision, Feed, Observation
from townsquare.core.environment import StepRecord
from townsquare.environments.social.config import SocialBehavior
from townsquare.environments.social.content import ContentStore, Label, Veracity, is_share
from townsquare.environments.social.feeds import build_feeds
from townsquare.environments.social.interventions import (
    INFLAMMATORY_AROUSAL,
    INFLAMMATORY_STANCE,
    InterventionSchedule,
)
from townsquare.environments.social.moderation import LabelRecord, Moderator, apply_label
from townsquare.environments.social.retelling import RetellingLog
from townsquare.errors import UserError
from townsquare.measure.network_stats import friendship_paradox
from townsquare.measure.opinion import attitude_summary
from townsquare.measure.surveys import SurveyContext, SurveySchedule
from townsquare.network.graph import FollowGraph
from townsquare.population.model import ROLES, AgentState, Population
from townsquare.rng import RandomStreams

if TYPE_CHECKING:
    from townsquare.scenario import Scenario

VERACITY_CODES = {"unverified": Veracity.UNVERIFIED, "true": Veracity.TRUE, "false": Veracity.FALSE}
# An uncivil reply: a comment written in high arousal by someone far from the parent's stance.
UNCIVIL_AROUSAL = 0.6
UNCIVIL_DISAGREEMENT = 1.0


class SocialPlatform:
    """Posts, feeds and follows of one simulated platform (see DESIGN.md data flow)."""

    def __init__(
        self,
        scenario: Scenario,
        population: Population,
        graph: FollowGraph,
        streams: RandomStreams,
    ) -> None:
        self.scenario = scenario
        self.population = population
        self.graph = graph
        self.streams = streams
        self.n_agents = population.n
        self.content = ContentStore()
        news = scenario.news
        self.news_veracity = np.array([VERACITY_CODES[i.veracity] for i in news], np.int8)
        self.news_step = np.array([i.step for i in news], np.int64)
        self.state = AgentState.initial(population, len(news), streams["state"])
        self.moderator = Moderator(
            scenario.platform.moderation, self.news_veracity, self.news_step, streams["moderation"]
        )
        self.topic_index = {t: i for i, t in enumerate(population.topics)}
        behavior = scenario.behavior
        self.habituation = behavior.habituation if isinstance(behavior, SocialBehavior) else 0.0
        self.news_index = {item.id: k for k, item in enumerate(news)}
        self.feed_config = scenario.platform.feed
        self.interventions = InterventionSchedule(scenario.interventions)
        self.surveys = SurveySchedule(
            scenario.surveys, SurveyContext(population, self.topic_index, self.news_index),
            streams["surveys"],
        )
        self._labels = LabelRecord()
        self._shared = np.empty(0, np.int64)  # sorted keys agent * n + root already shared
        self._exposed = np.zeros((len(news), population.n), bool)
        self._sharers = np.zeros((len(news), population.n), bool)
        self._feed_lengths = np.empty(0, np.int64)
        self._pending = StepRecord()
        retold = np.array([item.retold for item in news], bool)
        self.retelling = RetellingLog(retold, [i.text for i in news]) if retold.any() else None
        self._exposed_inflammatory = np.zeros(population.n, bool)
        self._replies = np.zeros(2, np.int64)  # comments so far, uncivil ones among them
        self._step_replies = np.zeros(2, np.int64)  # the same, this step
        self._feed: Feed | None = None  # the step's feeds, read in observe, used in apply
        sample_size = min(population.n, scenario.snapshots.max_agents)
        self.snapshot_agents = np.sort(
            streams["snapshots"].choice(population.n, size=sample_size, replace=False)
        )

    # -- observe -----------------------------------------------------------------------

    def observe(self, step: int) -> Observation:
        self._pending = StepRecord()
        self._step_replies = np.zeros(2, np.int64)
        self._labels = LabelRecord()
        self._seed_news(step)
        rng = self.streams["activation"]
        active = np.flatnonzero(
            (rng.random(self.n_agents) < self.population.activity) & ~self.state.suspended
        )
        feed = build_feeds(
            self.feed_config, self.graph, active, self.content, self.population,
            step, self.streams["feeds"], hidden_authors=self.state.suspended,
        )
        self._record_exposures(step, feed.posts, feed.agents[feed.owner])
        self._feed_lengths = np.diff(feed.indptr)
        self._feed = feed
        return Observation(step, feed, self.content, self.population, self.state, self.graph)

    def _seed_news(self, step: int) -> None:
        due = [(k, item) for k, item in enumerate(self.scenario.news) if item.step == step]
        rng = self.streams["seeding"]
        for k, item in due:
            pool = np.arange(self.n_agents)
            if item.seeder_role is not None:
                pool = np.flatnonzero(self.population.role == ROLES.index(item.seeder_role))
                pool = pool if len(pool) else np.arange(self.n_agents)
            if item.authors:
                seeders = np.asarray(item.authors, np.int64)
                if seeders.max() >= self.n_agents:
                    raise UserError(f"news item '{item.id}' names author {seeders.max()}, but "
                                    f"there are only {self.n_agents} agents")
            else:
                seeders = rng.choice(pool, size=min(item.seeders, len(pool)), replace=False)
            batch = ActionBatch.build(
                seeders, Action.POST, topic=self.topic_index[item.topic], stance=item.stance,
                text=[item.text] * len(seeders), news=k,
            )
            self._apply_actions(step, batch, veracity=int(self.news_veracity[k]),
                                arousal=item.arousal)

    def _record_exposures(self, step: int, posts: np.ndarray, viewers: np.ndarray) -> None:
        if len(posts) == 0:
            return
        self.content.count("exposures", posts)
        unique, counts = np.unique(posts, return_counts=True)
        self._pending.add("exposures", {"step": np.full(len(unique), step), "post": unique,
                                        "count": counts})
        news = self.content.news[posts]
        carries = news >= 0
        self._exposed[news[carries], viewers[carries]] = True
        self._exposed_inflammatory[viewers[self._inflammatory(posts)]] = True

    def _inflammatory(self, posts: np.ndarray) -> np.ndarray:
        """Posts that are, or share, a post written in high arousal with an extreme stance."""
        c = self.content

        def hot(p: np.ndarray) -> np.ndarray:
            return (c.arousal[p] >= INFLAMMATORY_AROUSAL) & (
                np.abs(c.stance[p]) >= INFLAMMATORY_STANCE)

        return hot(posts) | hot(c.root[posts])

    # -- apply -------------------------------------------------------------------------

    def apply(self, step: int, decision: Decision | None) -> StepRecord:
        record = self._pending
        if decision is not None:
            self._update_state(decision)
            self._apply_actions(step, decision.actions)
        if self._feed is not None:  # what the agents read this step is no longer new to them
            feed, c = self._feed, self.content
            self.state.habituate(feed.agents[feed.owner], c.topic[feed.posts].astype(np.int64),
                                 c.stance[feed.posts].astype(np.float64), self.habituation)
        labels = self.moderator.moderate(self.content, step)
        fired = self.interventions.apply(step, self, self.streams["interventions"])
        if fired["name"]:
            record.add("interventions", fired)
        for extra in (labels, self._labels):
            if extra.post:
                record.add("labels", extra.columns(step))
        answers = self.surveys.conduct(step, self.state)
        if answers["agent"]:
            record.add("surveys", answers)
        if step % self.scenario.snapshots.every == 0:
            self._snapshot(step, record)
        return record

    def _apply_actions(
        self, step: int, actions: ActionBatch, veracity: int | None = None,
        arousal: float | None = None,
    ) -> None:
        actions = self._drop_repeat_shares(self._drop_suspended(actions))
        kind = actions.action
        creates = np.isin(kind, [Action.POST, Action.REPOST, Action.QUOTE, Action.COMMENT])
        event_post = actions.post.copy()
        if creates.any():
            made = actions.select(creates)
            ver = None if veracity is None else np.full(len(made), veracity, np.int8)
            if self.retelling is not None:
                made = self.retelling.rewrite(made, self.content, self.population.role,
                                              self.streams["retelling"])
            tone = self.state.arousal[made.agent] if arousal is None else np.full(len(made),
                                                                                 arousal)
            ids = self.content.add(
                made.agent, made.action, made.post, made.topic, made.stance, step,
                text=made.text, news=made.news, veracity=ver, arousal=tone,
            )
            if self.retelling is not None:
                self.retelling.record(ids, self.content)
            self._count_replies(ids)
            self.moderator.labelled_new_posts(self.content, ids)
            originals = made.action == Action.POST
            event_post[np.flatnonzero(creates)[originals]] = ids[originals]
            self._record_posts(ids, step)
            self._count_engagement(made, ids)
        self._count_simple(actions)
        self._apply_follows(actions)
        self._pending.add("events", {
            "step": np.full(len(actions), step), "agent": actions.agent,
            "action": actions.action.astype(np.int64), "post": event_post,
            "target": actions.target,
            "reason": actions.reason if actions.reason is not None else None,
        })

    def _drop_suspended(self, actions: ActionBatch) -> ActionBatch:
        if not self.state.suspended.any():
            return actions
        return actions.select(~self.state.suspended[actions.agent])

    def _drop_repeat_shares(self, actions: ActionBatch) -> ActionBatch:
        """An agent reposts or quotes one story at most once."""
        share = is_share(actions.action)
        if not share.any():
            return actions
        n = np.int64(self.n_agents)
        keys = actions.agent[share] * n + self.content.root[actions.post[share]]
        repeat = contains_sorted(self._shared, keys)
        dup = ~first_occurrence(keys)
        drop = np.zeros(len(actions), bool)
        drop[np.flatnonzero(share)] = repeat | dup
        self._shared = insert_sorted(self._shared, keys[~(repeat | dup)])
        return actions.select(~drop) if drop.any() else actions

    def _record_posts(self, ids: np.ndarray, step: int) -> None:
        c = self.content
        self._pending.add("posts", {
            "post_id": ids, "step": np.full(len(ids), step), "author": c.author[ids],
            "kind": c.kind[ids].astype(np.int64), "parent": c.parent[ids], "root": c.root[ids],
            "topic": c.topic[ids].astype(np.int64), "stance": c.stance[ids].astype(np.float64),
            "veracity": c.veracity[ids].astype(np.int64), "news": c.news[ids].astype(np.int64),
            "text": _texts(c.text, ids),
        })
        news = c.news[ids]
        sharing = (news >= 0) & is_share(c.kind[ids]) | ((news >= 0) & (c.kind[ids] == Action.POST))
        self._sharers[news[sharing], c.author[ids][sharing]] = True

    def _count_engagement(self, made: ActionBatch, ids: np.ndarray) -> None:
        parents = made.post
        has_parent = parents >= 0
        for kind, column in ((Action.REPOST, "shares"), (Action.QUOTE, "shares"),
                             (Action.COMMENT, "comments")):
            hit = has_parent & (made.action == kind)
            self._count_on_post_and_root(column, parents[hit])

    def _count_simple(self, actions: ActionBatch) -> None:
        for kind, column in ((Action.LIKE, "likes"), (Action.FLAG, "flags")):
            hit = (actions.action == kind) & (actions.post >= 0)
            self._count_on_post_and_root(column, actions.post[hit])

    def _count_on_post_and_root(self, column: str, posts: np.ndarray) -> None:
        self.content.count(column, posts)
        roots = self.content.root[posts]
        self.content.count(column, roots[roots != posts])

    def _apply_follows(self, actions: ActionBatch) -> None:
        follow = actions.action == Action.FOLLOW
        if follow.any():
            self.graph.follow(actions.agent[follow], actions.target[follow])
        unfollow = actions.action == Action.UNFOLLOW
        if unfollow.any():
            self.graph.unfollow(actions.agent[unfollow], actions.target[unfollow])

    def _update_state(self, decision: Decision) -> None:
        who, s = decision.updated, self.state
        if len(who) == 0:
            return
        for name in ("attitude", "valence", "arousal", "belief"):
            values = getattr(decision, name)
            if values is not None:
                getattr(s, name)[who] = values

    def _snapshot(self, step: int, record: StepRecord) -> None:
        agents, s = self.snapshot_agents, self.state
        m = len(agents)
        record.add("state", {"step": np.full(m, step), "agent": agents,
                             "valence": s.valence[agents].astype(np.float64),
                             "arousal": s.arousal[agents].astype(np.float64)})
        t = s.attitude.shape[1]
        record.add("attitudes", {
            "step": np.full(m * t, step), "agent": np.repeat(agents, t),
            "topic": np.tile(np.arange(t), m),
            "value": s.attitude[agents].astype(np.float64).ravel(),
        })
        k = s.belief.shape[1]
        if k:
            record.add("beliefs", {
                "step": np.full(m * k, step), "agent": np.repeat(agents, k),
                "news": np.tile(np.arange(k), m),
                "value": s.belief[agents].astype(np.float64).ravel(),
            })

    # -- used by interventions --------------------------------------------------------

    def sharers(self, news_id: str) -> np.ndarray:
        """Mask of agents who posted or shared a news item so far."""
        return self._sharers[self.news_index[news_id]]

    def label_stories(self, roots: np.ndarray, label: Label, source: str, step: int) -> int:
        """Label stories (recorded in this step's labels); returns how many changed."""
        return len(apply_label(self.content, roots, label, source or label.name.lower(),
                               self._labels))

    def inject(self, step: int, batch: ActionBatch, veracity: int | None) -> None:
        """Post on behalf of an intervention (recorded as ordinary events and posts)."""
        self._apply_actions(step, batch, veracity=veracity)

    # -- measure -----------------------------------------------------------------------

    def measure(self, step: int) -> dict[str, float]:
        s, record = self.state, self._pending
        events = record.tables.get("events", {})
        actions = np.asarray(events.get("action", []), dtype=np.int64)
        counts = np.bincount(actions, minlength=len(Action))
        mean_att = s.attitude.mean(axis=1)
        out: dict[str, float] = {
            "active": float(len(self._feed_lengths)),
            "feed_length_mean": float(self._feed_lengths.mean()) if len(self._feed_lengths)
            else 0.0,
            "exposures": float(np.sum(record.tables.get("exposures", {}).get("count", []))),
            "posts_total": float(len(self.content)),
            "follow_edges": float(self.graph.num_edges),
            "attitude_mean": float(mean_att.mean()),
            "attitude_var": float(mean_att.var()),
            "valence_mean": float(s.valence.mean()),
            "arousal_mean": float(s.arousal.mean()),
            "moderation_fact_checks": float(self.moderator.cost["fact_checks"]),
            "moderation_notes": float(self.moderator.cost["community_notes"]),
            "labels_on_false": float(self.moderator.verdicts["on_false"]),
            "labels_on_true": float(self.moderator.verdicts["on_true"]),
            "suspended": float(s.suspended.sum()),
            "reach_inflammatory": float(self._exposed_inflammatory.sum()),
        } | self._reply_metrics(record)
        if self.retelling is not None:
            out |= self.retelling.metrics([item.id for item in self.scenario.news])
        for name, cost in self.interventions.cost.items():
            out[f"cost_{name}"] = cost
        for action in Action:
            if action != Action.IDLE:
                out[f"n_{action.label}"] = float(counts[action])
        for k, item in enumerate(self.scenario.news):
            out[f"belief_{item.id}"] = float(s.belief[:, k].mean())
            out[f"believers_{item.id}"] = float((s.belief[:, k] > 0.5).mean())
            out[f"reach_{item.id}"] = float(self._exposed[k].sum())
            out[f"sharers_{item.id}"] = float(self._sharers[k].sum())
        for code, name in ((Veracity.FALSE, "false"), (Veracity.TRUE, "true")):
            items = self.news_veracity == code
            out[f"reach_{name}"] = float(self._exposed[items].any(axis=0).sum()) if items.any() \
                else 0.0
            out[f"sharers_{name}"] = float(self._sharers[items].any(axis=0).sum()) if items.any() \
                else 0.0
        return out

    def _count_replies(self, ids: np.ndarray) -> None:
        """Count new comments and the uncivil ones (see UNCIVIL_*); flag those if asked."""
        c = self.content
        comment = ids[(c.kind[ids] == Action.COMMENT) & (c.parent[ids] >= 0)]
        if len(comment) == 0:
            return
        topic = np.maximum(c.topic[comment].astype(np.int64), 0)
        gap = np.abs(self.state.attitude[c.author[comment], topic] - c.stance[c.parent[comment]])
        uncivil = (c.arousal[comment] >= UNCIVIL_AROUSAL) & (gap >= UNCIVIL_DISAGREEMENT)
        counts = np.array([len(comment), int(uncivil.sum())])
        self._step_replies += counts
        self._replies += counts
        if self.scenario.platform.moderation.flag_uncivil:
            c.count("flags", comment[uncivil])

    def _reply_metrics(self, record: StepRecord) -> dict[str, float]:
        """Comments and uncivil comments this step, and inflammatory posts made."""
        ids = np.asarray(record.tables.get("posts", {}).get("post_id", []), np.int64)
        replies, uncivil = self._step_replies
        return {
            "inflammatory_posts": float(self._inflammatory(ids).sum()),
            "uncivil_replies": float(uncivil),
            "uncivil_share": float(uncivil / replies) if replies else 0.0,
        }

    def summary(self) -> dict[str, float]:
        """Final-state measures: polarization, emotion, the friendship paradox."""
        attitudes = attitude_summary(self.state.attitude.mean(axis=1))
        src, dst = self.graph.edges()
        paradox = friendship_paradox(src, dst, self.n_agents, directed=True)
        return {
            "attitude_variance": attitudes["variance"],
            "bimodality": attitudes["bimodality_coefficient"],
            "polarization_esteban_ray": attitudes["esteban_ray"],
            "valence_mean": float(self.state.valence.mean()),
            "arousal_mean": float(self.state.arousal.mean()),
            "follow_edges": float(self.graph.num_edges),
            "friendship_paradox_share": float(paradox["fraction_paradox"]),
            "moderation_cost": float(sum(self.moderator.cost.values())),
            **self._moderation_accuracy(),
            "intervention_cost": self.interventions.total_cost,
            "uncivil_share": float(self._replies[1] / max(self._replies[0], 1)),
        }

    def _moderation_accuracy(self) -> dict[str, float]:
        """Labels on true and false stories; precision is NaN before any label on news."""
        verdicts = self.moderator.verdicts
        scored = verdicts["on_true"] + verdicts["on_false"]
        c = self.content  # a root post's flags count every flag in its cascade
        is_root = c.root == np.arange(len(c))
        flags, veracity = c.flags[is_root], c.veracity[is_root]
        return {"labels_on_false": float(verdicts["on_false"]),
                "labels_on_true": float(verdicts["on_true"]),
                "label_precision": verdicts["on_false"] / scored if scored else float("nan"),
                # false items whose fact check was due, left unlabelled (unrated or missed)
                "fact_check_misses": float(verdicts.get("missed_false", 0))
                if self.moderator.fact_checks else float("nan"),
                # agents' own mistakes: flags on true items feed community notes
                "flags_on_true": float(flags[veracity == Veracity.TRUE].sum()),
                "flags_on_false": float(flags[veracity == Veracity.FALSE].sum())}

    # -- checkpoints ---------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {
            "content": self.content.get_state(),
            "graph": self.graph.get_state(),
            "agents": self.state.get_state(),
            "moderator": self.moderator.get_state(),
            "interventions": self.interventions.get_state(),
            "surveys": self.surveys.get_state(),
            "feed_config": self.feed_config.model_dump(),
            "shared": self._shared,
            "exposed": self._exposed,
            "sharers": self._sharers,
            "exposed_inflammatory": self._exposed_inflammatory,
            "replies": self._replies,
            "retelling": self.retelling.get_state() if self.retelling is not None else {},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.content = ContentStore.from_state(state["content"])
        self.graph = FollowGraph.from_state(state["graph"])
        self.state = AgentState.from_state(state["agents"])
        self.moderator.set_state(state["moderator"])
        self.interventions.set_state(state["interventions"])
        self.surveys.set_state(state["surveys"])
        self.feed_config = type(self.feed_config).model_validate(state["feed_config"])
        self._shared = state["shared"]
        self._exposed = state["exposed"]
        self._sharers = state["sharers"]
        self._exposed_inflammatory = state["exposed_inflammatory"]
        self._replies = state["replies"]
        if self.retelling is not None:
            self.retelling.set_state(state["retelling"])


def _texts(texts: list[str | None], ids: np.ndarray) -> list[str | None] | None:
    """Texts of posts for the store, or None (one NULL for all) when none has text."""
    picked = [texts[i] for i in ids]
    return picked if any(t is not None for t in picked) else None
