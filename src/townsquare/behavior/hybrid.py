"""Mixed populations: some agents decided by a language model, the rest by the heuristic.

The LLM agents of a step are decided together (concurrently) and the others
in one vectorized heuristic call; the two decisions are merged over disjoint
agents, on the same platform, in the same step. The model's accounting (calls,
tokens, cost, latency, faults, fallbacks) and memories come back as per-step
tables and metrics for the store.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from townsquare.behavior.base import Behavior, Decision, Observation
from townsquare.behavior.llm.assemble import merge
from townsquare.behavior.llm.behavior import LLMBehavior


class HybridBehavior:
    """Routes each active agent to the LLM or the heuristic by a fixed assignment mask."""

    def __init__(self, is_llm: np.ndarray, llm: LLMBehavior, heuristic: Behavior) -> None:
        self.is_llm = np.asarray(is_llm, bool)
        self.llm = llm
        self.heuristic = heuristic

    def decide(self, obs: Observation, rng: np.random.Generator) -> Decision:
        routed = self.is_llm[obs.feed.agents]
        llm_rows, rule_rows = np.flatnonzero(routed), np.flatnonzero(~routed)
        by_rules = self.heuristic.decide(obs.subset(rule_rows), rng)
        if len(llm_rows) == 0:
            return by_rules
        by_model = self.llm.decide(obs.subset(llm_rows), rng)
        return merge(obs, by_rules, by_model)

    def step_report(self) -> tuple[dict[str, dict[str, list]], dict[str, float]]:
        """(tables, metrics) of the model's work in the last step."""
        stats = self.llm.last_step_stats()
        metrics = {f"llm_{key}": float(stats[key]) for key in (
            "requests", "cache_hits", "http_attempts", "prompt_tokens", "completion_tokens",
            "cost", "latency_p50_ms", "latency_p95_ms", "fallback_total", "reflections")}
        for kind, count in stats["faults"].items():
            metrics[f"llm_fault_{kind}"] = float(count)
        for kind, count in stats["fallbacks"].items():
            metrics[f"llm_fallback_{kind}"] = float(count)
        tables = {name: rows for name, rows in self.llm.drain_records().items()
                  if rows and next(iter(rows.values()), None)}
        return tables, metrics

    def interview(self, agent: int, question: str) -> str:
        return self.llm.interview(agent, question)

    def get_state(self) -> dict[str, Any]:
        return {"llm": self.llm.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.llm.set_state(state["llm"])

    def close(self) -> None:
        self.llm.close()
