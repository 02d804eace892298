"""Replicates and parameter sweeps: many runs of one scenario, resumable, one tidy table.

A sweep folder holds ``sweep.json`` (the plan: grid, replicates, seeds), one
ordinary run folder per (arm, replicate) named ``<arm>-r<replicate>``, and
``results.parquet``: one row per finished run with ``run_id``, ``arm``, a
``param_<name>`` column per swept parameter, ``replicate``, ``seed``, every
measure of ``Run.summary()`` and every metric of the last step as
``final_<metric>``. A run counts as done when its database says
``completed``; anything else found in its folder (a killed or failed run) is
deleted and run again, so rerunning an interrupted sweep only does what is
missing.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from townsquare.engine import Simulation
from townsquare.errors import UserError
from townsquare.experiments.executors import Executor, make_executor
from townsquare.experiments.grid import (
    RunTask,
    SweepPlan,
    column_name,
    read_manifest,
    write_manifest,
)
from townsquare.experiments.stats import measure_columns
from townsquare.scenario import Scenario
from townsquare.store import RUN_FILE, open_reader, run_ref
from townsquare.store.postgres import drop_postgres_run
from townsquare.store.postgres.layout import without_password

RESULTS = "results.parquet"
Progress = Callable[[int, int], None]
"""Called with (runs done, runs in the sweep) after each finished run."""


def run_task(task: RunTask) -> str:
    """Produce one run (in a worker process); returns its run id."""
    try:
        scenario = Scenario.from_toml(task.scenario_toml, source="sweep base scenario",
                                      stored=True)
        scenario = scenario.with_overrides(task.overrides)
        Simulation(scenario, run_dir=Path(task.run_dir)).run()
    except UserError as exc:  # re-raised as the plain base class: it always pickles
        raise UserError(f"sweep run {task.run_id}: {exc}") from None
    return task.run_id


def is_complete(run_dir: Path, store: str | None = None) -> bool:
    """Whether the run of ``run_dir`` (kept there, or in ``store``) says it completed."""
    if store is None and not (run_dir / RUN_FILE).is_file():
        return False
    try:
        with open_reader(run_ref(store, run_dir)) as reader:
            return reader.meta().get("status") == "completed"
    except (UserError, sqlite3.Error):  # not there (yet), or damaged
        return False


class Sweep:
    """A grid of scenario parameters times replicates, run in parallel and resumable.

    ``Sweep("default", {"platform.moderation.strategy": ["none", "fact_check"]},
    replicates=10).run()`` returns the results table (one row per run).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path,
        params: Mapping[str, Sequence[Any]],
        replicates: int = 1,
        workers: int | None = None,
        out: str | Path | None = None,
        seed: int | None = None,
        *,
        executor: Executor | None = None,
    ) -> None:
        base = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
        self.store = base.store  # with its password, if any: never written to the manifest
        if base.store is not None:
            base = base.model_copy(update={"store": without_password(base.store)})
        self.plan = SweepPlan(
            scenario_toml=base.to_toml(),
            params={str(k): list(v) for k, v in params.items()},
            replicates=int(replicates),
            base_seed=base.seed if seed is None else int(seed),
        )
        self.folder = Path(out) if out is not None else base.output_dir / f"sweep-{base.name}"
        self.executor = executor or make_executor("local", workers)

    def tasks(self) -> list[RunTask]:
        """The plan's tasks; with PostgreSQL, each carries the URL with its password (which
        the manifest omits) to its worker."""
        tasks = self.plan.tasks(self.folder)
        if self.store is None:
            return tasks
        return [replace(t, overrides=t.overrides | {"store": self.store}) for t in tasks]

    def pending(self) -> list[RunTask]:
        """Runs not yet completed (in the order they will be started)."""
        return [t for t in self.tasks() if not is_complete(Path(t.run_dir), self.store)]

    def run(self, progress: Progress | None = None, max_runs: int | None = None) -> pd.DataFrame:
        """Run what is missing (at most ``max_runs`` now) and return the results table.

        The table is also written to ``<folder>/results.parquet``.
        """
        self._prepare()
        todo = self.pending()
        total = len(self.tasks())
        done = total - len(todo)
        if max_runs is not None:
            todo = todo[: max(0, int(max_runs))]
        for task in todo:
            shutil.rmtree(task.run_dir, ignore_errors=True)  # a killed or failed attempt
            if self.store is not None:
                drop_postgres_run(self.store, task.run_id)
        for _ in self.executor.map(run_task, todo):
            done += 1
            if progress is not None:
                progress(done, total)
        return write_results(self.folder, self.store)

    def _prepare(self) -> None:
        """Check the arms, then create or check the manifest (resuming needs the same plan)."""
        self.plan.check_arms()
        if (self.folder / "sweep.json").is_file():
            found = read_manifest(self.folder)
            if not found.compatible(self.plan):
                raise UserError(
                    f"{self.folder} holds a different sweep (scenario, parameters or seed "
                    "differ); resume it with the same arguments or choose another --out"
                )
            if found.replicates > self.plan.replicates:
                raise UserError(
                    f"{self.folder} holds a sweep with {found.replicates} replicates; ask for "
                    f"at least as many (got {self.plan.replicates})"
                )
        elif self.folder.exists() and any(self.folder.iterdir()):
            raise UserError(f"{self.folder} exists and is not a sweep folder; choose another --out")
        write_manifest(self.folder, self.plan)


def collect_results(folder: str | Path, store: str | None = None) -> pd.DataFrame:
    """The results table of a sweep folder: one row per completed run, in grid order.

    Runs kept in PostgreSQL are read from the manifest's URL, or ``store`` if given.
    """
    folder = Path(folder)
    plan = read_manifest(folder)
    store = store or plan.scenario.store
    rows = []
    for task in plan.tasks(folder):
        run_dir = Path(task.run_dir)
        if not is_complete(run_dir, store):
            continue
        with open_reader(run_ref(store, run_dir)) as reader:
            summary = reader.meta().get("summary") or {}
            metrics = reader.metrics(wide=True)
        row: dict[str, Any] = {"run_id": task.run_id, "arm": task.arm}
        row |= {column_name(k): _cell(v) for k, v in plan.arms[task.arm].params.items()}
        row |= {"replicate": task.replicate, "seed": task.seed}
        if isinstance(summary, dict):
            row |= {k: v for k, v in summary.items() if isinstance(v, int | float)}
        if len(metrics):
            row |= {f"final_{k}": float(v) for k, v in metrics.iloc[-1].items()}
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        columns = ["run_id", "arm", *map(column_name, plan.params), "replicate", "seed"]
        return pd.DataFrame(columns=columns)
    for name in map(column_name, plan.params):
        kinds = {type(v) for v in frame[name]}
        if len(kinds) > 1 and not kinds <= {int, float}:  # e.g. "none" and 0.5: store text
            frame[name] = frame[name].map(str)
    return frame.sort_values(["arm", "replicate"], ignore_index=True)


def write_results(folder: str | Path, store: str | None = None) -> pd.DataFrame:
    """Collect the results table and write it to ``<folder>/results.parquet``."""
    frame = collect_results(folder, store)
    frame.to_parquet(Path(folder) / RESULTS, index=False)
    return frame


def load_results(folder: str | Path) -> pd.DataFrame:
    """The results table of a sweep folder (rebuilt from the runs if missing or stale)."""
    folder = Path(folder)
    read_manifest(folder)  # a clear error if this is not a sweep folder
    path = folder / RESULTS
    if read_manifest(folder).scenario.store is not None:  # no local files to date the runs
        return write_results(folder)
    runs = [p / RUN_FILE for p in folder.iterdir() if (p / RUN_FILE).is_file()]
    newest = max((p.stat().st_mtime for p in runs), default=0.0)
    if path.is_file() and path.stat().st_mtime >= newest:
        return pd.read_parquet(path)
    return write_results(folder)


def short_labels(folder: str | Path) -> dict[str, str]:
    """Column -> short label for display: a swept parameter's last path component."""
    params = list(read_manifest(Path(folder)).params)
    last = [p.rsplit(".", 1)[-1] for p in params]
    labels = last if len(set(last)) == len(last) else params
    return {column_name(p): label for p, label in zip(params, labels, strict=True)}


def default_measures(folder: str | Path, results: pd.DataFrame, count: int = 4) -> list[str]:
    """The scenario's headline measures found in the results, else the first few measures."""
    available = measure_columns(results)
    headline = [m for m in read_manifest(Path(folder)).scenario.headline if m in available]
    return headline or [m for m in available if m != "wall_seconds"][:count]


def _cell(value: Any) -> Any:
    """Parquet needs one type per column: lists and tables are stored as their text."""
    return value if isinstance(value, str | int | float | bool) else repr(value)
