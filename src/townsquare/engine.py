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

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from townsquare import __version__
from townsquare.behavior.llm.config import apply_env_overrides
from townsquare.behavior.llm.faults import redact
from townsquare.checkpoint import (
    CHECKPOINT_FILE,
    check_like,
    detached,
    load_checkpoint,
    remove_checkpoint,
    save_checkpoint,
)
from townsquare.core.metric import values
from townsquare.errors import RunStopped, StoreError, UserError
from townsquare.interview import interview_live
from townsquare.measure.summary import run_summary
from townsquare.phases import armed, reached
from townsquare.rng import RandomStreams
from townsquare.run import Run
from townsquare.scenario import Scenario
from townsquare.store import (  # the writer is chosen by scenario.store
    create_writer,
    new_run_id,
    open_reader,
    reopen_writer,
    resolve_run,
    run_ref,
)
from townsquare.store.postgres.layout import redact_url, scrub
from townsquare.store.protocols import RunStoreWriter
from townsquare.trust import check_stored_llm
from townsquare.world import make_world

StepCallback = Callable[[int, dict[str, float]], None]
PhaseCallback = Callable[[str], None]
"""Told the name of each slow stretch outside the steps (``"finishing: summary"``)."""


class RunInterrupted(RunStopped):
    """The run was stopped cleanly (Ctrl-C or SIGTERM) and can be resumed."""


class Simulation:
    """Run one scenario: ``Simulation(Scenario.load("default")).run()``."""

    def __init__(self, scenario: Scenario, run_dir: Path | None = None) -> None:
        if scenario.llm is not None:  # record the endpoint actually used (never a key)
            scenario = scenario.model_copy(update={"llm": apply_env_overrides(scenario.llm)})
        self.scenario = scenario
        self.streams = RandomStreams(scenario.seed)
        self.world = make_world(scenario, self.streams)
        self.run_dir = run_dir or scenario.output_dir / new_run_id(scenario.name, scenario.seed)
        self.next_step = 0
        self._resuming = False
        self._initial_stored = False  # agents and edges committed (meta initial_tables)
        self._stop_requested = False
        self._saving: _BackgroundCheckpoint | None = None  # a periodic checkpoint being written

    @classmethod
    def resume(
        cls,
        run_ref: str | Path,
        runs_dir: str | Path = "runs",
        overrides: dict[str, Any] | None = None,
        *,
        trust_endpoint: bool = False,
    ) -> Simulation:
        """Rebuild a stopped or crashed run from its last checkpoint, ready to ``run()``.

        ``overrides`` change the stored scenario first — meant for limits such
        as ``{"llm.budget_cost": 20}``; anything that changes the dynamics makes
        the run differ from an uninterrupted one. The stored scenario is
        untrusted: an LLM run resumes only with ``trust_endpoint=True`` (the
        user confirms its endpoints and key variables), see :mod:`townsquare.trust`.
        """
        found = resolve_run(run_ref, runs_dir if _is_url(runs_dir) else Path(runs_dir))
        reader = open_reader(found)
        try:
            meta = reader.meta()
        finally:
            reader.close()
        if meta.get("status") == "completed":
            raise UserError(f"run {found.name} is already completed; nothing to resume")
        scenario = Scenario.from_toml(str(meta["scenario_toml"]), source=f"run {found.name}",
                                      stored=True)
        if isinstance(found, Path):  # a SQLite run: it stays in its file, whatever the
            run_dir = found             # stored scenario says (a planted store URL is ignored)
            scenario = scenario.model_copy(update={"store": None})
        else:  # a PostgreSQL run: the stored URL is redacted, the caller's is the real one
            scenario = scenario.model_copy(update={"store": found.url})
            run_dir = Path(str(meta.get("run_dir") or scenario.output_dir / found.name))
        if overrides:
            scenario = scenario.with_overrides(overrides)
        check_stored_llm(scenario.llm, run_dir, found.name, trust_endpoint=trust_endpoint,
                         overrides=overrides, distributed=scenario.distributed)
        sim = cls(scenario, run_dir=run_dir)
        sim._restore(meta)
        sim._resuming = True
        sim._initial_stored = bool(meta.get("initial_tables"))
        return sim

    def _state(self) -> dict[str, Any]:
        """Everything a checkpoint holds: random streams, environment, behaviour."""
        behavior = self.world.behavior
        return {
            "streams": self.streams.get_state(),
            "environment": self.world.environment.get_state(),
            "behavior": behavior.get_state() if behavior is not None else {},
        }

    def _restore(self, meta: dict[str, Any]) -> None:
        """Load the run's checkpoint, checked against this run's size before and after.

        The checkpoint is untrusted: arrays larger than the run could have made are
        refused before they are read, the state must have the structure of a fresh
        run's, its step must be one the store has committed, and any failure to
        restore is reported as a damaged checkpoint, never a traceback.
        """
        n, edges = self.world.environment.n_agents, len(self.world.edges[0])
        rows = 16 * (n + edges) * (self.scenario.steps + 1) + 2**20
        checkpoint = load_checkpoint(self.run_dir, max_elements=rows,
                                     max_json_bytes=256 * rows + 2**24)
        if checkpoint is None:
            return
        step, state = checkpoint
        where = self.run_dir / CHECKPOINT_FILE
        last = meta.get("last_step")
        if step >= self.scenario.steps or not isinstance(last, int) or step > last:
            raise StoreError(f"{where}: the checkpoint is damaged (step {step}, but the run "
                             f"has {self.scenario.steps} steps and stored up to {last})")
        if not isinstance(state, dict) or not {"streams", "environment"} <= set(state):
            raise StoreError(f"{where}: the checkpoint is damaged (no streams or environment)")
        # the environment's structure is fixed by the scenario; a behaviour's may differ
        # between backends (a local checkpoint resumes sharded), so set_state checks it
        check_like(self.world.environment.get_state(), state["environment"], self.run_dir, n,
                   "environment")
        try:
            self.streams.set_state(state["streams"])
            self.world.environment.set_state(state["environment"])
            if self.world.behavior is not None:
                self.world.behavior.set_state(state.get("behavior", {}))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError,
                OverflowError) as exc:
            raise StoreError(f"{where}: the checkpoint is damaged ({exc})") from None
        self.next_step = step + 1

    def run(self, on_step: StepCallback | None = None,
            on_phase: PhaseCallback | None = None) -> Run:
        """Advance every remaining step, record it, and return the finished :class:`Run`.

        ``on_step(step, metrics)`` is called after each step; ``on_phase(name)`` when
        a stretch outside the steps begins (a checkpoint, waiting for the store,
        the summary, closing the store), so a progress display never sits silent.
        """
        with self._stop_on_signals():  # also over the close: a signal there must not kill it
            self._run_steps(on_step, on_phase or (lambda name: None))
        return Run(run_ref(self.scenario.store, self.run_dir))

    def _run_steps(self, on_step: StepCallback | None, on_phase: PhaseCallback) -> None:
        scenario, world = self.scenario, self.world
        started = time.perf_counter()
        if self._resuming:
            last = self.next_step - 1 if self.next_step > 0 else None
            writer = reopen_writer(scenario.store, self.run_dir, after_step=last,
                                   reset_initial=not self._initial_stored)
            writer.set_meta(scenario_toml=scenario.to_toml())
        else:
            writer = create_writer(scenario.store, self.run_dir, self._meta())
        if not self._initial_stored:  # a fresh run, or one killed before these committed
            self._write_initial(writer)
        status = "failed"
        try:
            for step in range(self.next_step, scenario.steps):
                self._before_step(step, writer)
                metrics = self.step(step, writer)
                self.next_step = step + 1
                if on_step is not None:
                    on_step(step, metrics)
                self._after_step(step, writer)
                if step == 0 and armed("first_step"):
                    writer.flush()
                    reached("first_step")
                if self._stop_requested and step + 1 < scenario.steps:  # else just finish
                    self.checkpoint(writer, step)
                    status = "interrupted"
                    raise RunInterrupted(
                        f"run {self.run_dir.name} stopped after step {step}; continue with "
                        f"`{self.resume_command()}`")
                self._checkpoint_done(writer)
                if self._checkpoint_due(step):
                    on_phase(f"checkpoint after step {step}")
                    self.checkpoint(writer, step, background=not armed("checkpoint"))
                    reached("checkpoint")
            if armed("last_step"):
                writer.flush()
                reached("last_step")
            status = "completed"
        except RunStopped:
            status = "interrupted"
            raise
        except Exception as exc:  # recorded so the run's report can say why it failed
            _record_error(writer, self.next_step, exc, scenario)
            raise
        finally:
            summary: dict[str, Any] = {"wall_seconds": round(time.perf_counter() - started, 3)}
            if status == "completed" and self._saving is not None:
                on_phase("finishing: checkpoint")
            saving_failed = self._wait_for_checkpoint(writer, status)
            if saving_failed is not None:
                status = "failed"
            if status == "completed":
                on_phase("finishing: writing the last steps")
                writer.flush()
                on_phase("finishing: summary")
                summary |= run_summary(run_ref(scenario.store, self.run_dir), world.environment)
            on_phase(("finishing: " if status == "completed" else "") + "closing the store")
            writer.close(status=status, summary=summary if status == "completed" else None)
            if status == "completed":
                remove_checkpoint(self.run_dir)
            reached("close")
            if world.behavior is not None:
                world.behavior.close()
            if saving_failed is not None:
                raise saving_failed

    def _wait_for_checkpoint(self, writer: RunStoreWriter, status: str) -> Exception | None:
        """Wait for a background checkpoint as the run ends; the error that fails an
        otherwise completed run (recorded in its meta), else None."""
        try:
            self._checkpoint_done(writer, wait=True)
        except Exception as exc:
            if status == "completed":
                _record_error(writer, self.next_step, exc, self.scenario)
                return exc
        return None

    def _write_initial(self, writer: RunStoreWriter) -> None:
        """Personas and the initial follow graph, then the meta key saying both committed."""
        writer.write_agents(self.world.population_frame)
        if armed("agents"):
            writer.flush()
            reached("agents")
        writer.write_edges(*self.world.edges)
        if armed("edges"):
            writer.flush()
            reached("edges")
        writer.set_meta(initial_tables=True)

    def step(self, step: int, writer: RunStoreWriter) -> dict[str, float]:
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
        if behavior is not None:
            extra_tables, extra_metrics = behavior.step_report()
            tables |= extra_tables
            metrics |= values(extra_metrics)
        writer.write_step(step, metrics=metrics, **tables)
        return metrics

    def _before_step(self, step: int, writer: RunStoreWriter) -> None:
        """Let the behaviour refuse to start a step (budget spent, model server down).

        Nothing of ``step`` has happened yet, so the state after ``step - 1`` is
        checkpointed and the run stops; resuming retries ``step``.
        """
        if self.world.behavior is not None:
            self._behavior_may_stop(self.world.behavior.before_step, step, writer,
                                    done=step - 1, where=f"before step {step};")

    def resume_command(self) -> str:
        """The command that continues this run (a PostgreSQL run is named by URL#id)."""
        ref = str(self.run_dir)
        if self.scenario.store is not None:  # the URL without its password
            ref = f"'{redact_url(self.scenario.store)}#{self.run_dir.name}'"
        trust = " --trust-endpoint" if self.scenario.llm is not None else ""
        return f"townsquare resume {ref}{trust}"

    def _after_step(self, step: int, writer: RunStoreWriter) -> None:
        """Let the behaviour stop the run after a recorded step (too many fallbacks).

        ``step`` is fully recorded, so it is checkpointed and resuming continues
        with ``step + 1``.
        """
        if self.world.behavior is not None:
            self._behavior_may_stop(self.world.behavior.after_step, step, writer, done=step,
                                    where=f"after step {step} (checkpointed); fix the cause, "
                                    "then")

    def _behavior_may_stop(self, hook: Callable[[int], None], step: int,
                           writer: RunStoreWriter, *, done: int, where: str) -> None:
        """Call the behaviour's ``hook(step)``; if it stops the run, checkpoint the last
        step fully recorded (``done``) and say how to continue."""
        try:
            hook(step)
        except RunStopped as stop:
            if done >= 0:
                self.checkpoint(writer, done)
            raise type(stop)(f"{stop} Run {self.run_dir.name} stopped {where} continue with "
                             f"`{self.resume_command()}`") from None

    def interview(self, agent: int, question: str) -> str:
        """Ask an agent a question between steps (from ``on_step``), from the live state."""
        return interview_live(self, agent, question)

    def checkpoint(self, writer: RunStoreWriter, step: int, *, background: bool = False) -> None:
        """Save the state after ``step`` once the store holds every row up to it.

        With ``background`` (the periodic checkpoints) a copy of the state is written
        by a thread while the next steps run; it is waited for before the next
        checkpoint and before the run closes. A stop always saves at once.
        """
        writer.flush()
        self._checkpoint_done(writer, wait=True)
        if not background:
            save_checkpoint(self.run_dir, step, self._state())
            writer.set_meta(checkpoint_step=step)
            return
        self._saving = _BackgroundCheckpoint(self.run_dir, step, detached(self._state()))

    def _checkpoint_done(self, writer: RunStoreWriter, wait: bool = False) -> None:
        """Record a background checkpoint that has finished (or wait for it); its error
        is raised here."""
        saving = self._saving
        if saving is None or not (wait or saving.done()):
            return
        self._saving = None
        saving.join()
        writer.set_meta(checkpoint_step=saving.step)

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


class _BackgroundCheckpoint:
    """One checkpoint written by a thread (file I/O and CRCs release the GIL)."""

    def __init__(self, run_dir: Path, step: int, state: dict[str, Any]) -> None:
        self.step = step
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._save, args=(run_dir, state),
                                        name="townsquare-checkpoint", daemon=True)
        self._thread.start()

    def _save(self, run_dir: Path, state: dict[str, Any]) -> None:
        try:
            save_checkpoint(run_dir, self.step, state)
        except BaseException as exc:  # raised in the simulation's thread by join
            self._error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _is_url(value: str | Path) -> bool:
    return isinstance(value, str) and "://" in value


def _record_error(writer: Any, step: int, exc: BaseException, scenario: Scenario) -> None:
    """Keep a failed run's error in its meta (``error``, ``error_step``), best effort.

    API keys (from the variables ``llm.models[].api_key_env`` name) and the store
    URL's password are removed first: secrets never reach the store.
    """
    message = f"{type(exc).__name__}: {exc}".strip()
    for model in scenario.llm.models if scenario.llm is not None else []:
        if model.api_key_env:
            message = redact(message, os.environ.get(model.api_key_env))
    if scenario.store:
        message = scrub(message, scenario.store)
    try:
        writer.set_meta(error=message[:2000], error_step=step)
    except Exception:  # the writer itself may be what failed
        return
