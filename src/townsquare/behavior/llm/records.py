"""Rows the LLM layer hands to the run database, the tables that hold them, step stats.

``LLM_TABLES`` maps table name to its DDL; the store registers them. Rows
are returned column-wise (``dict[str, list]``) in the order of the DDL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from townsquare.core.metric import Aggregation, Metric, MetricKind, Reduce, Summarised
from townsquare.core.registry import metric_kind, register_metric_kind

LLM_TABLES: dict[str, str] = {
    "memories": """
        CREATE TABLE IF NOT EXISTS memories (
            agent INTEGER NOT NULL,
            step INTEGER NOT NULL,
            kind TEXT NOT NULL,            -- observation | action | reflection
            importance REAL NOT NULL,      -- 1..10
            text TEXT NOT NULL
        )""",
    "llm_calls": """
        CREATE TABLE IF NOT EXISTS llm_calls (
            step INTEGER NOT NULL,
            agent INTEGER NOT NULL,        -- -1 when not tied to one agent
            model TEXT NOT NULL,
            purpose TEXT NOT NULL,         -- decide | repair | reflect | interview
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            latency_ms REAL NOT NULL,
            cache_hit INTEGER NOT NULL,
            attempts INTEGER NOT NULL,     -- HTTP attempts including retries (0 on a cache hit)
            fault TEXT,                    -- NULL on success, else a Fault kind
            fallback INTEGER NOT NULL,     -- 1 if the agent's decision fell back after this call
            cost REAL NOT NULL,
            request_hash TEXT NOT NULL
        )""",
}

MEMORY_COLUMNS = ("agent", "step", "kind", "importance", "text")


@dataclass(slots=True)
class CallRecord:
    """Accounting of one logical model call (retries folded in)."""

    step: int
    agent: int
    model: str
    purpose: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    cache_hit: bool = False
    attempts: int = 0
    fault: str | None = None
    fallback: bool = False
    cost: float = 0.0
    request_hash: str = ""


CALL_COLUMNS = tuple(f.name for f in fields(CallRecord))
_FLAGS = frozenset(f.name for f in fields(CallRecord) if f.type in ("bool", bool))  # stored 0/1


PURPOSE_ORDER = {"reflect": 0, "decide": 1, "repair": 2, "interview": 3}
"""Within a step and agent, calls are recorded in this order of purpose."""


def record_order(record: CallRecord) -> tuple[int, int, int]:
    """Sort key giving every backend (local, sharded) the same order of call records."""
    return record.step, PURPOSE_ORDER.get(record.purpose, 9), record.agent


def call_columns(records: list[CallRecord]) -> dict[str, list]:
    """Column-wise rows for the ``llm_calls`` table."""
    out: dict[str, list] = {}
    for name in CALL_COLUMNS:  # getattr, not asdict: asdict deep-copies every record
        column = [getattr(record, name) for record in records]
        out[name] = [int(value) for value in column] if name in _FLAGS else column
    return out


LLM_COUNTS = register_metric_kind(MetricKind(
    "llm_counts", prefixes=("llm_",), summary=(Summarised("{name}", Reduce.TOTAL),)))
"""Requests, tokens, cost, faults and fallbacks of a step: they add up, and a run totals them."""
LLM_LATENCY_MEDIAN = register_metric_kind(MetricKind(
    "llm_latency_median", names=("llm_latency_p50_ms",), aggregation=Aggregation.MAX,
    summary=(Summarised("{name}", Reduce.BUSY_MEDIAN),)))
"""A step's median call latency: a run keeps its median over the steps with calls."""
LLM_LATENCY_TAIL = register_metric_kind(MetricKind(
    "llm_latency_tail", names=("llm_latency_p95_ms",), aggregation=Aggregation.MAX))
"""A step's 95th percentile of call latency (drawn per step, not summed up)."""


def step_metrics(stats: Mapping[str, Any], keys: Iterable[str]) -> list[Metric]:
    """``llm_*`` metrics of one step's :func:`step_stats`: the ``keys`` asked for, then
    faults and fallbacks by kind, each of its registered kind."""
    named = [(f"llm_{key}", float(stats.get(key, 0))) for key in keys]
    named += [(f"llm_fault_{kind}", float(n)) for kind, n in stats["faults"].items()]
    named += [(f"llm_fallback_{kind}", float(n)) for kind, n in stats["fallbacks"].items()]
    return [(metric_kind(name) or LLM_COUNTS).metric(name, value) for name, value in named]


def step_stats(
    step: int,
    records: list[CallRecord] = (),  # type: ignore[assignment]
    fallbacks: Mapping[str, int] | None = None,
    dropped: int = 0,
    reflections: int = 0,
    embedding_faults: int = 0,
    *,
    decisions: int = 0,
    details: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Accounting of one step: requests, cache hits, tokens, cost, latency, faults, fallbacks.

    Latency percentiles are over calls that went to the network (cache hits
    excluded); ``fallbacks`` counts agents per fault kind, of ``decisions``
    LLM decisions; ``details`` holds one error text per fault kind.
    """
    fallbacks = dict(fallbacks or {})
    network = [r.latency_ms for r in records if not r.cache_hit]
    p50, p95 = np.percentile(network, [50, 95]).tolist() if network else (0.0, 0.0)
    return {
        "step": step,
        "requests": len(records),
        "cache_hits": sum(r.cache_hit for r in records),
        "http_attempts": sum(r.attempts for r in records),
        "prompt_tokens": sum(r.prompt_tokens for r in records),
        "completion_tokens": sum(r.completion_tokens for r in records),
        "cost": float(sum(r.cost for r in records)),
        "latency_p50_ms": float(p50),
        "latency_p95_ms": float(p95),
        "faults": dict(Counter(r.fault for r in records if r.fault)),
        "fallbacks": fallbacks,
        "fallback_total": int(sum(fallbacks.values())),
        "decisions": int(decisions),
        "fault_details": dict(details or {}),
        "dropped_actions": int(dropped),
        "reflections": int(reflections),
        "embedding_faults": int(embedding_faults),
    }
