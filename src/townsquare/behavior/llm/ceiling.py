"""Stop a run whose minds keep failing, instead of letting the heuristic quietly stand in.

Every LLM decision that falls back to the heuristic is counted by fault kind.
:class:`FallbackCeiling` watches the share of fallbacks per step and over the
run; above ``llm.max_fallback_share`` (a step) or ``llm.max_run_fallback_share``
(the run so far) it says why, naming the dominant fault and the server's own
error text, and the engine stops the run after that step, checkpointed and
resumable (:class:`FallbackCeilingExceeded`).

Connection failures and timeouts are not counted here: they are an outage,
which the hybrid behaviour waits out (``llm.outage_wait_s``) and stops the
run for if the server stays away.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from townsquare.errors import RunStopped

EXIT_CEILING = 3  # the CLI's exit code for a run stopped by the ceiling
OUTAGE = frozenset({"connection", "timeout"})  # left to the outage policy


class FallbackCeilingExceeded(RunStopped):
    """Too many LLM decisions fell back; the run stopped (checkpointed, resumable)."""

    exit_code = EXIT_CEILING


class FallbackCeiling:
    """Per-step and per-run fallback shares against their ceilings.

    The run's count starts again after a stop, so a resumed run is judged by
    what happens once the cause is fixed.
    """

    def __init__(self, step_share: float, run_share: float) -> None:
        self.step_share = step_share
        self.run_share = run_share
        self.decisions = 0
        self.kinds: Counter[str] = Counter()  # the run's fallbacks by fault kind
        self.details: dict[str, str] = {}  # the latest error text per fault kind
        self.verdict: str | None = None  # why the run must stop, once a ceiling is passed

    @property
    def fallbacks(self) -> int:
        return int(sum(self.kinds.values()))

    def observe(self, step: int, decisions: int, fallbacks: Mapping[str, int],
                details: Mapping[str, str]) -> None:
        """Count a step's LLM decisions and fallbacks; note a verdict above a ceiling."""
        fallbacks = {kind: n for kind, n in fallbacks.items() if kind not in OUTAGE and n}
        failed = int(sum(fallbacks.values()))
        self.decisions += int(decisions)
        self.kinds.update(fallbacks)
        self.details.update({k: v for k, v in details.items() if k in fallbacks and v})
        if not decisions or self.verdict is not None:
            return
        share, run_share = failed / decisions, self.fallbacks / max(self.decisions, 1)
        if share > self.step_share:
            self.verdict = (f"{failed} of {decisions} LLM decisions in step {step} ({share:.0%}) "
                            f"fell back to the heuristic, above llm.max_fallback_share = "
                            f"{self.step_share:g}. {dominant_fault(fallbacks, details)}")
        elif run_share > self.run_share:
            self.verdict = (f"{self.fallbacks} of {self.decisions} LLM decisions so far "
                            f"({run_share:.0%}) fell back to the heuristic, above "
                            f"llm.max_run_fallback_share = {self.run_share:g}. "
                            f"{dominant_fault(self.kinds, self.details)}")

    def check(self) -> None:
        """Raise :class:`FallbackCeilingExceeded` if a ceiling was passed; count afresh."""
        verdict, self.verdict = self.verdict, None
        if verdict is not None:
            self.decisions = 0
            self.kinds.clear()
            raise FallbackCeilingExceeded(verdict)

    def get_state(self) -> dict[str, Any]:
        return {"decisions": self.decisions, "kinds": dict(self.kinds)}

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.decisions = int(state.get("decisions", 0))
        self.kinds = Counter({str(k): int(v) for k, v in state.get("kinds", {}).items()})


def dominant_fault(fallbacks: Mapping[str, int], details: Mapping[str, str]) -> str:
    """'Dominant fault: KIND (N of M): DETAIL' for the most frequent fault kind."""
    if not fallbacks:
        return ""
    kind, count = max(fallbacks.items(), key=lambda item: item[1])
    total = sum(fallbacks.values())
    detail = details.get(kind)
    said = f": {detail}" if detail else ""
    return f"Dominant fault: {kind} ({count} of {total}){said}."
