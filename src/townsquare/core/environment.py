"""The Environment contract the engine drives: observe -> (decide) -> apply -> measure.

The social platform is the first environment; markets, a commons or elections
are others on the same engine, behaviours and store. An environment whose
agents follow fixed rules (the classic diffusion models) returns ``None`` from
``observe``: there is nothing to decide, and ``apply`` advances its dynamics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from typing_extensions import TypeVar  # TypeVar defaults (PEP 696) before Python 3.13

from townsquare.core.behavior import Decision, Observation

Columns = dict[str, Any]


@dataclass
class StepRecord:
    """What one step produced, as table name -> columns, ready for the store."""

    tables: dict[str, Columns] = field(default_factory=dict)

    def add(self, table: str, columns: Columns) -> None:
        """Append rows to a table of this step.

        Columns are numpy arrays, lists (text), or ``None`` meaning NULL in
        every row (cheap for all-empty text columns).
        """
        current = self.tables.get(table)
        if current is None:
            self.tables[table] = dict(columns)
            return
        before, added = _length(current), _length(columns)
        for key, values in columns.items():
            old = current[key]
            if old is None and values is None:
                continue
            if isinstance(values, np.ndarray) and isinstance(old, np.ndarray):
                current[key] = np.concatenate([old, values])
            else:
                current[key] = _listed(old, before) + _listed(values, added)

    def rows(self, table: str) -> int:
        columns = self.tables.get(table)
        return len(next(iter(columns.values()))) if columns else 0


def _length(columns: Columns) -> int:
    return next(len(v) for v in columns.values() if v is not None)


def _listed(values: Any, rows: int) -> list:
    if values is None:
        return [None] * rows
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


ObservationOut = TypeVar("ObservationOut", covariant=True, default=Observation)
DecisionIn = TypeVar("DecisionIn", contravariant=True, default=Decision)


class Environment(Protocol[ObservationOut, DecisionIn]):
    """A world agents act in, advanced one step at a time by the engine.

    Plain ``Environment`` is the social platform's kind (:class:`Observation`
    out, :class:`Decision` in); a market, commons or election is an
    ``Environment[TheirObservation, TheirDecision]``.
    """

    n_agents: int

    def observe(self, step: int) -> ObservationOut | None:
        """Start a step: who is active and what they see (None: nothing to decide)."""
        ...

    def apply(self, step: int, decision: DecisionIn | None) -> StepRecord:
        """Apply the decided actions and the environment's own rules; report what happened."""
        ...

    def measure(self, step: int) -> dict[str, float]:
        """Cheap per-step aggregate measures recorded as metrics."""
        ...

    def summary(self) -> dict[str, float]:
        """Headline numbers for the end-of-run table."""
        ...

    def get_state(self) -> dict[str, Any]: ...

    def set_state(self, state: dict[str, Any]) -> None: ...
