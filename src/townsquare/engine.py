"""The step loop: build the world from a scenario, advance it, record every step.

The engine only orchestrates. It owns the random streams, asks the
environment for observations, asks the behaviour to decide, hands decisions
back to the environment, and passes what happened to the store. Everything
that can fail on bad input (persona files, edge lists) is loaded *before* the
run folder is created, so a bad input never leaves a half-written run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from townsquare import __version__
from townsquare.measure.summary import run_summary
from townsquare.rng import RandomStreams
from townsquare.run import Run
from townsquare.scenario import Scenario
from townsquare.store import RunWriter, new_run_id
from townsquare.world import make_world

StepCallback = Callable[[int, dict[str, float]], None]


class Simulation:
    """Run one scenario: ``Simulation(Scenario.load("default")).run()``."""

    def __init__(self, scenario: Scenario, run_dir: Path | None = None) -> None:
        self.scenario = scenario
        self.streams = RandomStreams(scenario.seed)
        self.world = make_world(scenario, self.streams)
        self.run_dir = run_dir or scenario.output_dir / new_run_id(scenario.name, scenario.seed)

    def run(self, on_step: StepCallback | None = None) -> Run:
        """Advance every step, record it, and return the finished :class:`Run`."""
        scenario, world = self.scenario, self.world
        writer = RunWriter.create(self.run_dir, self._meta())
        started = time.perf_counter()
        status = "failed"
        try:
            writer.write_agents(world.population_frame)
            writer.write_edges(*world.edges)
            for step in range(scenario.steps):
                metrics = self.step(step, writer)
                if on_step is not None:
                    on_step(step, metrics)
            status = "completed"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            summary = {"wall_seconds": round(time.perf_counter() - started, 3)}
            if status == "completed":
                writer.flush()
                summary |= run_summary(self.run_dir, world.environment)
            writer.close(status=status, summary=summary)
        return Run(self.run_dir)

    def step(self, step: int, writer: RunWriter) -> dict[str, float]:
        """One step: observe, decide, apply, measure, record."""
        env, behavior = self.world.environment, self.world.behavior
        observation = env.observe(step)
        decision = None
        if observation is not None and behavior is not None:
            decision = behavior.decide(observation, self.streams["behavior"])
        record = env.apply(step, decision)
        metrics = env.measure(step)
        if decision is not None and decision.fallbacks:
            metrics["fallbacks"] = float(decision.fallbacks)
        writer.write_step(step, metrics=metrics, **record.tables)
        return metrics

    def _meta(self) -> dict[str, object]:
        s = self.scenario
        return {
            "scenario_name": s.name,
            "scenario_toml": s.to_toml(),
            "version": __version__,
            "seed": s.seed,
            "steps": s.steps,
            "n_agents": self.world.environment.n_agents,
            "topics": list(s.population.topics),
            "news": [item.id for item in s.news],
        }
