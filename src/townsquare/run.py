"""A finished (or running) simulation, read back from its run database as DataFrames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from townsquare.core.actions import Action
from townsquare.digest import run_digest
from townsquare.errors import StoreError
from townsquare.interview import interview_run
from townsquare.measure.cascades import cascade_table
from townsquare.scenario import Scenario
from townsquare.store import PostgresRun, open_reader, resolve_run

ACTION_LABELS = [a.label for a in Action]


class Run:
    """Read access to one run: ``Run.open("latest").events()``."""

    def __init__(self, path: str | Path | PostgresRun) -> None:
        self.reader = open_reader(path)  # SQLite run folder or file, or a PostgreSQL run
        self.path = self.reader.run_dir

    @classmethod
    def open(cls, ref: str | Path, runs_dir: str | Path = "runs") -> Run:
        """Open a run by folder, database path, id under ``runs_dir``, or ``latest``."""
        return cls(resolve_run(ref, runs_dir))  # runs_dir may be a postgresql:// URL

    @property
    def id(self) -> str:
        return self.path.name

    def meta(self) -> dict[str, Any]:
        return self.reader.meta()

    def summary(self) -> dict[str, Any]:
        """Headline measures computed at the end of the run."""
        summary = self.meta().get("summary") or {}
        return dict(summary) if isinstance(summary, dict) else {}

    def scenario(self) -> Scenario:
        """The scenario exactly as it was run."""
        text = self.meta().get("scenario_toml")
        if not isinstance(text, str):
            raise StoreError(f"run {self.id} is damaged: its meta has no scenario_toml text")
        return Scenario.from_toml(text, source=f"run {self.id}", stored=True)

    def events(self) -> pd.DataFrame:
        """One row per action: step, agent, action (name), post, target, reason."""
        frame = self.reader.events()
        frame["action"] = self._actions(frame["action"], "events.action")
        return frame

    def posts(self) -> pd.DataFrame:
        frame = self.reader.posts()
        frame["kind"] = self._actions(frame["kind"], "posts.kind")
        return frame

    def _actions(self, codes: pd.Series, column: str) -> pd.Categorical:
        """Action codes as names; a code no action has is a damaged run (StoreError)."""
        values = codes.to_numpy(dtype="float64", na_value=np.nan)  # int64, or Int64 with NULLs
        bad = ~np.isfinite(values) | (values < 0) | (values >= len(ACTION_LABELS))
        if bad.any():
            raise StoreError(f"run {self.id} is damaged: {column} holds "
                             f"{codes.tolist()[int(bad.argmax())]!r}, not an action code")
        return pd.Categorical.from_codes(values.astype(int), ACTION_LABELS)

    def agents(self) -> pd.DataFrame:
        return self.reader.agents()

    def edges(self) -> pd.DataFrame:
        return self.reader.edges()

    def metrics(self) -> pd.DataFrame:
        """One row per step, one column per recorded metric."""
        return self.reader.metrics(wide=True)

    def attitudes(self) -> pd.DataFrame:
        return self.reader.attitudes()

    def beliefs(self) -> pd.DataFrame:
        return self.reader.beliefs()

    def emotions(self) -> pd.DataFrame:
        return self.reader.state()

    def labels(self) -> pd.DataFrame:
        return self.reader.labels()

    def survey_answers(self) -> pd.DataFrame:
        """One row per answer: step, survey, question, agent, value, answer."""
        return self.reader.query("SELECT * FROM surveys ORDER BY step, survey, question, agent")

    def interventions(self) -> pd.DataFrame:
        """One row per firing of a scheduled intervention, with units and cost."""
        return self.reader.query("SELECT * FROM interventions ORDER BY step")

    def cascades(self) -> pd.DataFrame:
        """One row per cascade (root post): size, depth, breadth, structural virality."""
        return cascade_table(self.reader.posts())

    def digest(self) -> str:
        """SHA-256 of every output table: equal for runs that simulated the same thing."""
        return run_digest(self.reader)

    def interview(self, agent: int, question: str, *, trust_endpoint: bool = False) -> str:
        """Ask one agent a question: in character (LLM agents) or from its state.

        An LLM agent's answer calls the endpoint stored with the run, so it needs
        ``trust_endpoint=True`` (see :mod:`townsquare.trust`).
        """
        return interview_run(self, agent, question, trust_endpoint=trust_endpoint)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"
