"""Idiomatic Mesa 3 versions of independent cascade, linear threshold, SIR and voter, for
bench_classic.py.

Written the way the Mesa examples write a network model (``virus_on_network``):
one ``FixedAgent`` per node of a ``mesa.discrete_space.Network``, neighbours
read through ``self.cell.neighborhood.agents``, and the model's stdlib
``random`` for every draw. The synchronous models (cascade, SIR) use Mesa 3's
replacement for ``SimultaneousActivation``: ``agents.do("step")`` stages the
next state from the start-of-step states, then ``agents.do("advance")``
commits it. Linear threshold re-checks every inactive agent each step, as
NDlib's ``ThresholdModel`` does. The voter model is asynchronous like NDlib's, through
``agents.shuffle_do("step")`` (each agent once per sweep, in random order).

Each ``run_*`` function builds the model (not timed), then times only the steps
and returns ``(outcome, steps, wall seconds, CPU seconds)``.
"""

from __future__ import annotations

import time
from enum import IntEnum

import mesa
import networkx as nx
from mesa.discrete_space import FixedAgent, Network


class State(IntEnum):
    SUSCEPTIBLE = 0  # IC: inactive
    INFECTED = 1  # IC: active
    RECOVERED = 2


class _NetworkModel(mesa.Model):
    """A model with one agent of ``agent_class`` on each node of ``graph``."""

    def __init__(self, graph: nx.Graph, seed: int) -> None:
        super().__init__(seed=seed)
        self.grid = Network(graph, capacity=1, random=self.random)
        self.nodes = list(graph.nodes)

    def seed_infected(self, count: int) -> None:
        for node in self.random.sample(self.nodes, count):
            agent = self.grid[node].agents[0]
            agent.state = agent.next_state = State.INFECTED
            agent.fresh = True

    def share(self, *states: State) -> float:
        return sum(a.state in states for a in self.agents) / len(self.agents)


class CascadeAgent(FixedAgent):
    """Independent cascade: a newly active agent tries each inactive neighbour once."""

    def __init__(self, model: CascadeModel, cell: mesa.discrete_space.Cell, p: float) -> None:
        super().__init__(model)
        self.cell = cell
        self.p = p
        self.state = self.next_state = State.SUSCEPTIBLE
        self.fresh = False

    def step(self) -> None:
        if not self.fresh:
            return
        for other in self.cell.neighborhood.agents:
            if other.state is State.SUSCEPTIBLE and self.random.random() < self.p:
                other.next_state = State.INFECTED

    def advance(self) -> None:
        self.fresh = self.next_state is not self.state
        self.state = self.next_state


class CascadeModel(_NetworkModel):
    def __init__(self, graph: nx.Graph, p: float, seeds: int, seed: int) -> None:
        super().__init__(graph, seed)
        for node in self.nodes:
            CascadeAgent(self, self.grid[node], p)
        self.seed_infected(seeds)

    def step(self) -> None:
        self.agents.do("step")
        self.agents.do("advance")
        self.running = any(a.fresh for a in self.agents)


class ThresholdAgent(FixedAgent):
    """Linear threshold: an inactive agent activates once the share of its active
    neighbours reaches its threshold (and at least one is active)."""

    def __init__(
        self, model: ThresholdModel, cell: mesa.discrete_space.Cell, threshold: float
    ) -> None:
        super().__init__(model)
        self.cell = cell
        self.threshold = threshold
        self.state = self.next_state = State.SUSCEPTIBLE

    def step(self) -> None:
        if self.state is not State.SUSCEPTIBLE:
            return
        neighbours = list(self.cell.neighborhood.agents)
        active = sum(other.state is State.INFECTED for other in neighbours)
        if active and active / len(neighbours) >= self.threshold:
            self.next_state = State.INFECTED

    def advance(self) -> None:
        self.state = self.next_state


class ThresholdModel(_NetworkModel):
    def __init__(
        self, graph: nx.Graph, low: float, high: float, seeds: int, seed: int
    ) -> None:
        super().__init__(graph, seed)
        for node in self.nodes:
            ThresholdAgent(self, self.grid[node], self.random.uniform(low, high))
        self.seed_infected(seeds)

    def step(self) -> None:
        before = self.share(State.INFECTED)
        self.agents.do("step")
        self.agents.do("advance")
        self.running = self.share(State.INFECTED) > before


class SIRAgent(FixedAgent):
    """SIR as NDlib runs it: infect each susceptible neighbour w.p. beta, then recover."""

    def __init__(
        self, model: SIRModel, cell: mesa.discrete_space.Cell, beta: float, gamma: float
    ) -> None:
        super().__init__(model)
        self.cell = cell
        self.beta = beta
        self.gamma = gamma
        self.state = self.next_state = State.SUSCEPTIBLE

    def step(self) -> None:
        if self.state is not State.INFECTED:
            return
        for other in self.cell.neighborhood.agents:
            if other.state is State.SUSCEPTIBLE and self.random.random() < self.beta:
                other.next_state = State.INFECTED
        if self.random.random() < self.gamma:
            self.next_state = State.RECOVERED

    def advance(self) -> None:
        self.state = self.next_state


class SIRModel(_NetworkModel):
    def __init__(self, graph: nx.Graph, beta: float, gamma: float, seeds: int, seed: int) -> None:
        super().__init__(graph, seed)
        for node in self.nodes:
            SIRAgent(self, self.grid[node], beta, gamma)
        self.seed_infected(seeds)

    def step(self) -> None:
        self.agents.do("step")
        self.agents.do("advance")
        self.running = any(a.state is State.INFECTED for a in self.agents)


class VoterAgent(FixedAgent):
    """Voter: copy the opinion of a uniformly random neighbour."""

    def __init__(self, model: VoterModel, cell: mesa.discrete_space.Cell, opinion: int) -> None:
        super().__init__(model)
        self.cell = cell
        self.opinion = opinion

    def step(self) -> None:
        neighbours = list(self.cell.neighborhood.agents)
        if neighbours:
            self.opinion = self.random.choice(neighbours).opinion


class VoterModel(_NetworkModel):
    def __init__(self, graph: nx.Graph, initial_share: float, seed: int) -> None:
        super().__init__(graph, seed)
        ones = set(self.random.sample(self.nodes, round(initial_share * len(self.nodes))))
        for node in self.nodes:
            VoterAgent(self, self.grid[node], int(node in ones))

    def step(self) -> None:
        self.agents.shuffle_do("step")


def _timed(model: mesa.Model, max_steps: int) -> tuple[int, float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    steps = 0
    while model.running and steps < max_steps:
        model.step()
        steps += 1
    return steps, time.perf_counter() - start, time.process_time() - cpu


def run_cascade(
    graph: nx.Graph, p: float, seeds: int, max_steps: int, seed: int
) -> tuple[float, int, float, float]:
    """Independent cascade until no agent is newly active; outcome: share ever active."""
    model = CascadeModel(graph, p, seeds, seed)
    timing = _timed(model, max_steps)
    return model.share(State.INFECTED), *timing


def run_threshold(
    graph: nx.Graph, low: float, high: float, seeds: int, max_steps: int, seed: int
) -> tuple[float, int, float, float]:
    """Linear threshold until a step activates nobody; outcome: share ever active."""
    model = ThresholdModel(graph, low, high, seeds, seed)
    timing = _timed(model, max_steps)
    return model.share(State.INFECTED), *timing


def run_sir(
    graph: nx.Graph, beta: float, gamma: float, seeds: int, max_steps: int, seed: int
) -> tuple[float, int, float, float]:
    """SIR until nobody is infected; outcome: share ever infected (infected + recovered)."""
    model = SIRModel(graph, beta, gamma, seeds, seed)
    timing = _timed(model, max_steps)
    return model.share(State.INFECTED, State.RECOVERED), *timing


def run_voter(
    graph: nx.Graph, initial_share: float, sweeps: int, seed: int
) -> tuple[float, int, float, float]:
    """Asynchronous voter for ``sweeps`` sweeps; outcome: share holding opinion 1."""
    model = VoterModel(graph, initial_share, seed)
    timing = _timed(model, sweeps)
    return sum(a.opinion for a in model.agents) / len(model.agents), *timing
