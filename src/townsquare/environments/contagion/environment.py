"""The classic models as an environment on the same engine, store and measures.

Independent cascade, linear threshold, rumour/epidemic SIR, voter and
Deffuant agents follow their model's fixed rules, so ``observe`` returns
``None`` (nothing to decide) and ``apply`` advances the model one step. For the
contagion models every adoption is recorded as a repost of the post of the
agent who passed the item on, so the same cascade measures (size, depth,
structural virality) apply to them as to the social platform. Opinion models
record their opinions as attitude snapshots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from townsquare.core.actions import Action
from townsquare.core.behavior import Decision
from townsquare.core.environment import StepRecord
from townsquare.core.registry import CLASSIC_MODELS
from townsquare.environments.contagion.models import ClassicModel, ClassicState, Status, from_config
from townsquare.environments.social.content import ContentStore, Veracity
from townsquare.network.graph import FollowGraph
from townsquare.population.model import Population
from townsquare.rng import RandomStreams

if TYPE_CHECKING:
    from townsquare.scenario import Scenario

class ContagionEnvironment:
    """A classic diffusion or opinion model driven step by step by the engine."""

    def __init__(
        self,
        scenario: Scenario,
        population: Population,
        graph: FollowGraph,
        streams: RandomStreams,
    ) -> None:
        self.scenario = scenario
        self.kind = scenario.behavior.model
        entry = CLASSIC_MODELS[self.kind]
        self.statuses, self.adopted = entry.statuses, entry.adopted
        self.model: ClassicModel = from_config(scenario.behavior)
        self.graph = graph
        self.streams = streams
        self.n_agents = population.n
        self.state: ClassicState = self.model.initial(graph, streams["classic"])
        self.content = ContentStore()
        self.post_of = np.full(population.n, -1, np.int64)
        self._record = StepRecord()
        self._opinion_model = entry.adopted is None
        self._seeded = False
        self.snapshot_agents = np.sort(streams["snapshots"].choice(
            population.n, size=min(population.n, scenario.snapshots.max_agents), replace=False))

    def observe(self, step: int) -> None:
        self._record = StepRecord()
        if not self._seeded:
            self._seed_posts(step)
            self._seeded = True
        return None

    def _seed_posts(self, step: int) -> None:
        if self.adopted is None:
            return
        seeds = np.flatnonzero(self.state.status == self.adopted)
        news = self.scenario.news[0] if self.scenario.news else None
        veracity = Veracity.UNVERIFIED
        if news is not None:
            veracity = {"true": Veracity.TRUE, "false": Veracity.FALSE}.get(
                news.veracity, Veracity.UNVERIFIED)
        text: list[str | None] | None = [news.text] * len(seeds) if news is not None else None
        ids = self.content.add(
            seeds, np.full(len(seeds), Action.POST), np.full(len(seeds), -1),
            np.zeros(len(seeds)), np.zeros(len(seeds)), step, text=text,
            news=np.full(len(seeds), 0 if news else -1), veracity=np.full(len(seeds), veracity),
        )
        self.post_of[seeds] = ids
        self._record_posts(step, seeds, ids, Action.POST, np.full(len(seeds), -1))

    def apply(self, step: int, decision: Decision | None) -> StepRecord:
        transition = self.model.step(self.graph, self.state, step + 1, self.streams["classic"])
        if self.adopted is not None and len(transition):
            adopted = transition.became(self.adopted) & (transition.parent >= 0)
            agents, parents = transition.agents[adopted], transition.parent[adopted]
            parent_posts = self.post_of[parents]
            ids = self.content.add(
                agents, np.full(len(agents), Action.REPOST), parent_posts,
                np.zeros(len(agents)), np.zeros(len(agents)), step,
            )
            self.post_of[agents] = ids
            self._record_posts(step, agents, ids, Action.REPOST, parent_posts)
        if self._opinion_model and step % self.scenario.snapshots.every == 0:
            self._snapshot(step)
        return self._record

    def _record_posts(self, step: int, agents: np.ndarray, ids: np.ndarray, kind: Action,
                      parents: np.ndarray) -> None:
        c = self.content
        m = len(ids)
        self._record.add("posts", {
            "post_id": ids, "step": np.full(m, step), "author": agents,
            "kind": np.full(m, int(kind)), "parent": parents, "root": c.root[ids],
            "topic": c.topic[ids].astype(np.int64), "stance": np.zeros(m),
            "veracity": c.veracity[ids].astype(np.int64), "news": c.news[ids].astype(np.int64),
            "text": [c.text[i] for i in ids],
        })
        self._record.add("events", {
            "step": np.full(m, step), "agent": agents, "action": np.full(m, int(kind)),
            "post": np.where(kind == Action.POST, ids, parents), "target": np.full(m, -1),
            "reason": [None] * m,
        })

    def _snapshot(self, step: int) -> None:
        agents = self.snapshot_agents
        values = self._opinions()[agents]
        self._record.add("attitudes", {"step": np.full(len(agents), step), "agent": agents,
                                       "topic": np.zeros(len(agents), np.int64),
                                       "value": values})

    def _opinions(self) -> np.ndarray:
        if self.state.opinion is not None:
            return self.state.opinion.astype(np.float64)
        return 2.0 * self.state.status.astype(np.float64) - 1.0  # voter 0/1 -> -1/+1

    def measure(self, step: int) -> dict[str, float]:
        out: dict[str, float] = {}
        names = self.statuses
        if names:
            counts = np.bincount(self.state.status, minlength=len(names))
            for name, count in zip(names, counts, strict=False):
                out[name] = float(count)
        if self._opinion_model:
            x = self._opinions()
            out["opinion_mean"] = float(x.mean())
            out["opinion_var"] = float(x.var())
        out["settled"] = float(self.model.settled(self.graph, self.state))
        return out

    def summary(self) -> dict[str, float]:
        out = self.measure(-1)
        out.pop("settled", None)
        if not self._opinion_model:
            out["final_size"] = float((self.state.status != Status.INACTIVE).sum()) / self.n_agents
        return out

    def get_state(self) -> dict[str, Any]:
        return {"state": self.state.__dict__.copy(), "content": self.content.get_state(),
                "post_of": self.post_of, "seeded": self._seeded}

    def set_state(self, state: dict[str, Any]) -> None:
        self.state = ClassicState(**state["state"])
        self.content = ContentStore.from_state(state["content"])
        self.post_of = state["post_of"]
        self._seeded = state["seeded"]
