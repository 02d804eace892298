"""Runs a dashboard starts, pauses, stops and resumes: one worker subprocess per run.

A run started from the dashboard is a ``python -m townsquare.report.worker``
process (see :mod:`townsquare.report.worker`) writing into the dashboard's runs
folder, so the dashboard follows it like any other run. The controls use the
engine's own machinery: *stop* sends SIGTERM (the worker finishes the step,
checkpoints and marks the run ``interrupted``); *resume* of a stopped or
crashed run starts a worker that calls ``Simulation.resume`` (the checkpoint);
*pause* suspends the worker with SIGSTOP and *resume* of a paused run sends
SIGCONT, so a pause costs nothing and loses nothing. Requests are checked
before any process starts: a bad scenario or override is a :class:`UserError`
with the scenario's own message, and nothing is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from townsquare.errors import UserError
from townsquare.report.worker import RUN_LINE

UPLOADS = ".uploads"  # uploaded scenario files, inside the runs folder (not a run: no run.sqlite)
STOP_GRACE_S = 60.0  # a step of a large run can take a while; then SIGKILL at shutdown
# The parameters of the start form and the scenario fields they override.
FORM_FIELDS = {"agents": "population.size", "steps": "steps", "seed": "seed",
               "checkpoint_every": "checkpoint_every"}


@dataclass
class Worker:
    """One worker process and what the dashboard knows about it."""

    process: subprocess.Popen[str]
    trusted: bool  # started from this dashboard: its LLM endpoints came from the local user
    paused: bool = False
    error: str = ""
    log: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        code = self.process.poll()
        if code is None:
            return "paused" if self.paused else "running"
        return {0: "completed", 130: "stopped", -signal.SIGTERM: "stopped"}.get(code, "failed")


class RunManager:
    """Starts and controls worker processes for runs in ``runs_dir``."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._workers: dict[str, Worker] = {}
        self._lock = threading.Lock()

    # -- starting

    def start(self, scenario: str | None, toml: str | None,
              params: dict[str, Any]) -> str:
        """Start a run of a built-in scenario (``scenario``) or of an uploaded TOML text.

        ``params`` holds the form's fields (``agents``, ``steps``, ``seed``,
        ``checkpoint_every``) and ``set``: ``{"key.path": value}`` overrides.
        Returns the new run's id.
        """
        source = self._source(scenario, toml)
        overrides = overrides_from(params) | {"output_dir": str(self.runs_dir)}
        check_scenario(source, overrides)
        return self._spawn({"scenario": source, "overrides": overrides}, trusted=True)

    def resume(self, run_id: str, folder: Path) -> str:
        """Continue a paused worker (SIGCONT), or a stopped or crashed run from its checkpoint."""
        with self._lock:
            worker = self._workers.get(run_id)
        if worker is not None and worker.process.poll() is None:
            if worker.paused:
                os.kill(worker.process.pid, signal.SIGCONT)
                worker.paused = False
            return run_id
        trusted = worker is not None and worker.trusted
        return self._spawn({"resume": str(folder), "trust_endpoint": trusted}, trusted=trusted)

    def _source(self, scenario: str | None, toml: str | None) -> str:
        if toml:
            from townsquare.scenario import Scenario

            Scenario.from_toml(toml, source="the uploaded scenario")  # refuse before saving
            folder = self.runs_dir / UPLOADS
            folder.mkdir(exist_ok=True)
            path = folder / f"{hashlib.sha256(toml.encode()).hexdigest()[:16]}.toml"
            path.write_text(toml, encoding="utf-8")
            return str(path)
        if not scenario:
            raise UserError("choose a built-in scenario or upload a scenario file")
        from townsquare.scenario_files import builtin_names

        if scenario not in builtin_names():  # only built-in names: never a path from a form
            raise UserError(f"unknown scenario {scenario!r}; built-in scenarios: "
                            f"{', '.join(builtin_names())}")
        return scenario

    def _spawn(self, spec: dict[str, Any], *, trusted: bool) -> str:
        process = subprocess.Popen(
            [sys.executable, "-m", "townsquare.report.worker", json.dumps(spec)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=_child_env(), start_new_session=True)
        first = process.stdout.readline() if process.stdout else ""
        if not first.startswith(RUN_LINE):  # it failed before the run had a folder
            _, err = process.communicate()
            lines = (err or "").strip().splitlines()
            raise UserError(lines[-1].removeprefix("error: ") if lines else
                            f"the run could not start (exit code {process.returncode})")
        run_id = first[len(RUN_LINE):].strip()
        worker = Worker(process, trusted)
        for stream in (process.stdout, process.stderr):
            threading.Thread(target=_drain, args=(worker, stream), daemon=True).start()
        with self._lock:
            self._workers[run_id] = worker
        self._wait_for_store(run_id, worker)
        return run_id

    def _wait_for_store(self, run_id: str, worker: Worker) -> None:
        """Return once the run's database says it is running (so its page can be shown),
        or raise the worker's error if it ends first."""
        from townsquare.store import RUN_FILE, open_reader

        path = self.runs_dir / run_id
        while True:
            if (path / RUN_FILE).is_file():
                with contextlib.suppress(Exception), open_reader(path) as reader:
                    if reader.meta().get("status"):  # else not initialised yet: look again
                        return
            if worker.process.poll() is not None:
                if worker.process.returncode in (0, 130):
                    return
                worker.process.wait()
                time.sleep(0.2)  # let the drain threads read the error line
                raise UserError(worker.error or f"run {run_id} failed at start "
                                f"(exit code {worker.process.returncode})")
            time.sleep(0.05)

    # -- controlling

    def pause(self, run_id: str) -> None:
        worker = self._live(run_id, "pause")
        if not worker.paused:
            os.kill(worker.process.pid, signal.SIGSTOP)
            worker.paused = True

    def stop(self, run_id: str) -> None:
        """Ask the worker to stop after its current step (it checkpoints first)."""
        worker = self._live(run_id, "stop")
        worker.process.send_signal(signal.SIGTERM)
        if worker.paused:  # a suspended process handles the SIGTERM once continued
            os.kill(worker.process.pid, signal.SIGCONT)
            worker.paused = False

    def _live(self, run_id: str, verb: str) -> Worker:
        with self._lock:
            worker = self._workers.get(run_id)
        if worker is None or worker.process.poll() is not None:
            raise UserError(f"cannot {verb} run {run_id}: it is not running from this dashboard "
                            "(a run started elsewhere is stopped where it was started)")
        return worker

    def trusted(self, run_id: str) -> bool:
        """Whether this dashboard started the run (its scenario came from the local user)."""
        with self._lock:
            worker = self._workers.get(run_id)
        return worker is not None and worker.trusted

    def state(self, run_id: str) -> dict[str, Any] | None:
        """The worker's state (running, paused, completed, stopped, failed) and its error."""
        with self._lock:
            worker = self._workers.get(run_id)
        if worker is None:
            return None
        return {"state": worker.state, "error": worker.error}

    def shutdown(self) -> None:
        """Stop every worker cleanly (checkpointed, resumable), as when the dashboard exits."""
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            if worker.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.send_signal(signal.SIGTERM)
                    os.kill(worker.process.pid, signal.SIGCONT)
        for worker in workers:
            try:
                worker.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()


def overrides_from(params: dict[str, Any]) -> dict[str, Any]:
    """Scenario overrides from the start form: its number fields and ``set`` pairs."""
    overrides: dict[str, Any] = {}
    for name, key in FORM_FIELDS.items():
        value = params.get(name)
        if value is None or value == "":
            continue
        try:
            overrides[key] = int(value)
        except (TypeError, ValueError):
            raise UserError(f"{name} must be a whole number, not {value!r}") from None
    for key, value in _assignments(params.get("set")).items():
        if key in ("output_dir", "store"):
            raise UserError(f"{key} cannot be set from the dashboard: its runs go to its folder")
        overrides[key] = value
    return overrides


def _assignments(extra: Any) -> dict[str, Any]:
    """``set``: a mapping of fields to values, or text with one ``key.path = value`` per line
    (values read as TOML, as ``--set``)."""
    if not extra:
        return {}
    if isinstance(extra, dict):
        return {str(k): v for k, v in extra.items()}
    if not isinstance(extra, str):
        raise UserError("set must be lines of key.path = value")
    from townsquare.experiments.grid import parse_value

    out: dict[str, Any] = {}
    for number, line in enumerate(extra.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "=" not in line:
            raise UserError(f"other settings, line {number}: '{line.strip()}' is not of the "
                            "form key.path = value")
        key, raw = line.split("=", 1)
        out[key.strip()] = parse_value(raw.strip())
    return out


def check_scenario(source: str, overrides: dict[str, Any]) -> None:
    """Load the scenario with its overrides, so a mistake is reported before a process starts."""
    from townsquare.scenario import Scenario

    Scenario.load(source).with_overrides(overrides)


def _drain(worker: Worker, stream: Any) -> None:
    """Read one of the worker's pipes so it never blocks on a full pipe; keep the last
    lines, and the error line (``error: ...``) the worker prints when it fails."""
    if stream is None:
        return
    for raw in stream:
        line = raw.rstrip()
        worker.log.append(line)
        del worker.log[:-20]
        if line.startswith("error: "):
            worker.error = line.removeprefix("error: ")


def _child_env() -> dict[str, str]:
    """The dashboard's environment, with this package's source on the path (so a worktree
    or an uninstalled checkout runs its own code)."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env
