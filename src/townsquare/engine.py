"""The step loop: build the world from a scenario, advance it, record every step.

The engine only orchestrates. It owns the random streams, asks the
environment for observations, asks the behaviour to decide, hands decisions
back to the environment, and passes what happened to the store. Everything
that can fail on bad input (persona files, edge lists) is loaded *before* the
run folder is created, so a bad input never leaves a half-written run.

Every ``checkpoint_every`` steps, and when the run is stopped with Ctrl-C or
SIGTERM, the whole state (environment, behaviour, random streams) is saved
after the store has committed that step. :meth:`Simulation.resume` drops any
rows written after the checkpoint and continues, so a run killed at any moment
ends with the same event log as one that was never interrupted.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from townsquare import __version__
from townsquare.checkpoint import load_checkpoint, save_checkpoint
from townsquare.errors import RunStopped, UserError
from townsquare.measure.summary import run_summary
from townsquare.rng import RandomStreams
from townsquare.run import Run
from townsquare.scenario import Scenario
from townsquare.store import (  # the writer is chosen by scenario.store
    RunWriter,
    create_writer,
    new_run_id,
    open_reader,
    reopen_writer,
    resolve_run,
    run_ref,
)
from townsquare.store.backend import AnyWriter
from townsquare.world import make_world

StepCallback = Callable[[int, dict[str, float]], None]


class RunInterrupted(RunStopped):
    """The run was stopped cleanly (Ctrl-C or SIGTERM) and can be resumed."""


class Simulation:
    """Run one scenario: ``Simulation(Scenario.load("default")).run()``."""

    def __init__(self, scenario: Scenario, run_dir: Path | None = None) -> None:
        if scenario.llm is not None:  # record the endpoint actually used (never a key)
            from townsquare.behavior.llm.config import apply_env_overrides

            scenario = scenario.model_copy(update={"llm": apply_env_overrides(scenario.llm)})
        self.scenario = scenario
        self.streams = RandomStreams(scenario.seed)
        self.world = make_world(scenario, self.streams)
        self.run_dir = run_dir or scenario.output_dir / new_run_id(scenario.name, scenario.seed)
        self.next_step = 0
        self._resuming = False
        self._stop_requested = False

    @classmethod
    def resume(
        cls,
        run_ref: str | Path,
        runs_dir: str | Path = "runs",
        overrides: dict[str, Any] | None = None,
    ) -> Simulation:
        """Rebuild a stopped or crashed run from its last checkpoint, ready to ``run()``.

        ``overrides`` change the stored scenario first — meant for limits such
        as ``{"llm.budget_cost": 20}``; anything that changes the dynamics makes
        the run differ from an uninterrupted one.
        """
        found = resolve_run(run_ref, runs_dir if _is_url(runs_dir) else Path(runs_dir))
        reader = open_reader(found)
        try:
            meta = reader.meta()
        finally:
            reader.close()
        if meta.get("status") == "completed":
            raise UserError(f"run {found.name} is already completed; nothing to resume")
        scenario = Scenario.from_toml(str(meta["scenario_toml"]), source=f"run {found.name}")
        if isinstance(found, Path):
            run_dir = found
        else:  # a PostgreSQL run: the stored URL is redacted, the caller's is the real one
            scenario = scenario.model_copy(update={"store": found.url})
            run_dir = Path(str(meta.get("run_dir") or scenario.output_dir / found.name))
        if overrides:
            scenario = scenario.with_overrides(overrides)
        sim = cls(scenario, run_dir=run_dir)
        checkpoint = load_checkpoint(run_dir)
        if checkpoint is not None:
            step, state = checkpoint
            sim.streams.set_state(state["streams"])
            sim.world.environment.set_state(state["environment"])
            if sim.world.behavior is not None and hasattr(sim.world.behavior, "set_state"):
                sim.world.behavior.set_state(state["behavior"])
            sim.next_step = step + 1
        sim._resuming = True
        return sim

    def run(self, on_step: StepCallback | None = None) -> Run:
        """Advance every remaining step, record it, and return the finished :class:`Run`."""
        scenario, world = self.scenario, self.world
        started = time.perf_counter()
        if self._resuming:
            last = self.next_step - 1 if self.next_step > 0 else None
            writer = reopen_writer(scenario.store, self.run_dir, after_step=last)
            writer.set_meta(scenario_toml=scenario.to_toml())
        else:
            writer = create_writer(scenario.store, self.run_dir, self._meta())
            writer.write_agents(world.population_frame)
            writer.write_edges(*world.edges)
        status = "failed"
        try:
            with self._stop_on_signals():
                for step in range(self.next_step, scenario.steps):
                    self._before_step(step, writer)
                    metrics = self.step(step, writer)
                    self.next_step = step + 1
                    if on_step is not None:
                        on_step(step, metrics)
                    self._after_step(step, writer)
                    if self._stop_requested:
                        self.checkpoint(writer, step)
                        status = "interrupted"
                        raise RunInterrupted(
                            f"run {self.run_dir.name} stopped after step {step}; continue with "
                            f"`townsquare resume {self.run_dir}`")
                    if self._checkpoint_due(step):
                        self.checkpoint(writer, step)
            status = "completed"
        except RunStopped:
            status = "interrupted"
            raise
        finally:
            summary: dict[str, Any] = {"wall_seconds": round(time.perf_counter() - started, 3)}
            if status == "completed":
                writer.flush()
                summary |= run_summary(run_ref(scenario.store, self.run_dir), world.environment)
            writer.close(status=status, summary=summary if status == "completed" else None)
            if hasattr(world.behavior, "close"):
                world.behavior.close()
        return Run(run_ref(scenario.store, self.run_dir))

    def step(self, step: int, writer: RunWriter) -> dict[str, float]:
        """One step: observe, decide, apply, measure, record."""
        env, behavior = self.world.environment, self.world.behavior
        observation = env.observe(step)
        decision = None
        if observation is not None and behavior is not None:
            decision = behavior.decide(observation, self.streams["behavior"])
        record = env.apply(step, decision)
        metrics = env.measure(step)
        if decision is not None:
            metrics["fallbacks"] = float(decision.fallbacks)
        tables = dict(record.tables)
        if hasattr(behavior, "step_report"):
            extra_tables, extra_metrics = behavior.step_report()
            tables |= extra_tables
            metrics |= extra_metrics
        writer.write_step(step, metrics=metrics, **tables)
        return metrics

    def _before_step(self, step: int, writer: RunWriter) -> None:
        """Let the behaviour refuse to start a step (budget spent, model server down).

        Nothing of ``step`` has happened yet, so the state after ``step - 1`` is
        checkpointed and the run stops; resuming retries ``step``.
        """
        ready = getattr(self.world.behavior, "before_step", None)
        if ready is None:
            return
        try:
            ready(step)
        except RunStopped as stop:
            if step > 0:
                self.checkpoint(writer, step - 1)
            raise type(stop)(f"{stop} Run {self.run_dir.name} stopped before step {step}; "
                             f"continue with `townsquare resume {self.run_dir}`") from None

    def _after_step(self, step: int, writer: AnyWriter) -> None:
        """Let the behaviour stop the run after a recorded step (too many fallbacks).

        ``step`` is fully recorded, so it is checkpointed and resuming continues
        with ``step + 1``.
        """
        done = getattr(self.world.behavior, "after_step", None)
        if done is None:
            return
        try:
            done(step)
        except RunStopped as stop:
            self.checkpoint(writer, step)
            raise type(stop)(f"{stop} Run {self.run_dir.name} stopped after step {step} "
                             f"(checkpointed); fix the cause, then continue with "
                             f"`townsquare resume {self.run_dir}`") from None

    def interview(self, agent: int, question: str) -> str:
        """Ask an agent a question between steps (from ``on_step``), from the live state."""
        from townsquare.interview import interview_live

        return interview_live(self, agent, question)

    def checkpoint(self, writer: RunWriter, step: int) -> None:
        """Save the state after ``step`` once the store holds every row up to it."""
        writer.flush()
        behavior = self.world.behavior
        state = {
            "streams": self.streams.get_state(),
            "environment": self.world.environment.get_state(),
            "behavior": behavior.get_state() if hasattr(behavior, "get_state") else {},
        }
        save_checkpoint(self.run_dir, step, state)
        writer.set_meta(checkpoint_step=step)

    def _checkpoint_due(self, step: int) -> bool:
        every = self.scenario.checkpoint_every
        return every > 0 and (step + 1) % every == 0 and step + 1 < self.scenario.steps

    @contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """Ctrl-C and SIGTERM finish the current step, checkpoint, then stop."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum: int, frame: object) -> None:
            self._stop_requested = True

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT,
                                                                      signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

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


def _is_url(value: str | Path) -> bool:
    return isinstance(value, str) and "://" in value
