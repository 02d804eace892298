"""Mixed populations: some agents decided by a language model, the rest by the heuristic.

The LLM agents of a step are decided together (concurrently) and the others
in one vectorized heuristic call; the two decisions are merged over disjoint
agents, on the same platform, in the same step. The model's accounting (calls,
tokens, cost, latency, faults, fallbacks) and memories come back as per-step
tables and metrics for the store.

Before each step it refuses to start when a token or cost budget is spent,
and, after a step with connection failures, waits (exponential backoff) for
the endpoint to answer again; if it stays down past ``outage_wait_s`` the
run stops cleanly and can be resumed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from townsquare.behavior.llm.ceiling import FallbackCeiling
from townsquare.behavior.llm.config import LLMConfig
from townsquare.behavior.llm.faults import EndpointUnreachableError
from townsquare.behavior.llm.records import step_metrics
from townsquare.behavior.merge import merge
from townsquare.core.behavior import BaseBehavior, Behavior, Decision, Observation, Report
from townsquare.errors import RunStopped


class LanguageMinds(Protocol):
    """The LLM side of a hybrid: an LLMBehavior, or its Ray-sharded twin.

    (Issue #7: ``townsquare.distributed.sharded_llm.ShardedLLM``.)
    """

    @property
    def config(self) -> LLMConfig: ...

    def decide(self, obs: Observation, rng: np.random.Generator) -> Decision: ...
    def check_reachable(self) -> None: ...
    def last_step_stats(self) -> dict[str, Any]: ...
    def drain_records(self) -> dict[str, dict[str, list]]: ...
    def interview(self, agent: int, question: str) -> str: ...
    def get_state(self) -> dict[str, Any]: ...
    def set_state(self, state: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class HybridBehavior(BaseBehavior):
    """Routes each active agent to the LLM or the heuristic by a fixed assignment mask."""

    is_llm: np.ndarray  # always set: which agents the model drives

    def __init__(self, is_llm: np.ndarray, llm: LanguageMinds, heuristic: Behavior,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.is_llm = np.asarray(is_llm, bool)
        self.llm = llm
        self.heuristic = heuristic
        self.spent = {"tokens": 0.0, "cost": 0.0}
        self.ceiling = FallbackCeiling(llm.config.max_fallback_share,
                                       llm.config.max_run_fallback_share)
        self._sleep = sleep
        self._connection_faults = 0

    def before_step(self, step: int) -> None:
        """Stop cleanly when a budget is spent or the endpoint stays down (see module doc)."""
        config = self.llm.config
        config.check_budget(self.spent)
        if self._connection_faults:
            self._wait_for_endpoint(config.outage_wait_s)

    def _wait_for_endpoint(self, limit_s: float) -> None:
        """Probe with exponential backoff until the endpoint answers or ``limit_s`` passes."""
        waited, delay = 0.0, 0.5
        while True:
            try:
                self.llm.check_reachable()
                self._connection_faults = 0
                return
            except EndpointUnreachableError as exc:
                if waited >= limit_s:
                    raise RunStopped(f"the model endpoint stayed unreachable for "
                                     f"{waited:.0f} s ({exc}).") from None
                pause = min(delay, limit_s - waited)
                self._sleep(pause)
                waited += pause
                delay = min(delay * 2, 30.0)

    def decide(self, obs: Observation, rng: np.random.Generator) -> Decision:
        routed = self.is_llm[obs.feed.agents]
        llm_rows, rule_rows = np.flatnonzero(routed), np.flatnonzero(~routed)
        by_rules = self.heuristic.decide(obs.subset(rule_rows), rng)
        if len(llm_rows) == 0:
            return by_rules
        by_model = self.llm.decide(obs.subset(llm_rows), rng)
        return merge(obs, by_rules, by_model)

    def step_report(self) -> Report:
        """(tables, metrics) of the model's work in the last step."""
        stats = self.llm.last_step_stats()
        self.spent["tokens"] += stats["prompt_tokens"] + stats["completion_tokens"]
        self.spent["cost"] += stats["cost"]
        self._connection_faults = sum(stats["faults"].get(kind, 0)
                                      for kind in ("connection", "timeout"))
        self.ceiling.observe(int(stats["step"]), int(stats.get("decisions", 0)),
                             stats["fallbacks"], stats.get("fault_details", {}))
        metrics = step_metrics(stats, (
            "requests", "decisions", "cache_hits", "http_attempts", "prompt_tokens",
            "completion_tokens", "cost", "latency_p50_ms", "latency_p95_ms", "fallback_total",
            "reflections"))
        tables = {name: rows for name, rows in self.llm.drain_records().items()
                  if next(iter(rows.values()), None)}  # a table with rows
        return tables, metrics

    def after_step(self, step: int) -> None:
        """Stop (checkpointed after ``step``) when too many LLM decisions fell back."""
        self.ceiling.check()

    def interview(self, agent: int, question: str) -> str:
        return self.llm.interview(agent, question)

    def get_state(self) -> dict[str, Any]:
        return {"llm": self.llm.get_state(), "spent": dict(self.spent),
                "ceiling": self.ceiling.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.llm.set_state(state["llm"])
        self.spent = dict(state["spent"])
        self.ceiling.set_state(state.get("ceiling", {}))

    def close(self) -> None:
        self.llm.close()
