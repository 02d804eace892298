"""Ask a batch of agents one structured question each, through the project's LLM layer.

The market, commons and election environments each need one kind of
answer per agent (an order, a catch, a vote). :class:`LLMAsker` sends those
requests concurrently with exactly the machinery the social LLM agents use
— :func:`~townsquare.behavior.llm.client.structured_request` (the answer
schema as ``response_format`` or a forced tool), the wrapper stack of
:func:`~townsquare.behavior.llm.wrappers.build_stack` (concurrency, rate
limit, retries, the :class:`~townsquare.behavior.llm.cache.ResponseCache`,
accounting), the tolerant JSON extraction of
:mod:`~townsquare.behavior.llm.repair`, one repair re-ask of an unusable
answer, request seeds from (run seed, step, agent, purpose) so a cached rerun
replays exactly, and the ``llm_calls`` records and ``llm_*`` metrics.
Each environment adds only its prompt, schema and parser (a :class:`Question`).
Agents whose request fails get ``None``; the caller falls back to its
heuristic and the fallback is counted by fault kind.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from townsquare.behavior.llm.ceiling import FallbackCeiling
from townsquare.behavior.llm.client import CallTag, ChatRequest, derive_seed, structured_request
from townsquare.behavior.llm.config import LLMConfig, model_for_agents
from townsquare.behavior.llm.faults import REPAIR_HINTS, Fault, LLMFault
from townsquare.behavior.llm.http import HttpTransport
from townsquare.behavior.llm.messages import messages, repair_messages
from townsquare.behavior.llm.records import CallRecord, call_columns, step_metrics, step_stats
from townsquare.behavior.llm.repair import extract_object
from townsquare.behavior.llm.session import LLMSession
from townsquare.behavior.llm.wrappers import Accounting
from townsquare.core.behavior import BaseBehavior, Report
from townsquare.population.model import Population

T = TypeVar("T")

_STAT_METRICS = ("requests", "decisions", "cache_hits", "http_attempts", "prompt_tokens",
                 "completion_tokens", "cost", "latency_p50_ms", "latency_p95_ms",
                 "fallback_total")


@dataclass(frozen=True)
class Question(Generic[T]):
    """One kind of answer: the schema sent with the request and the parser of the JSON object.

    ``parse`` gets the object found in the answer and returns the value, or a
    string saying what is wrong with it (shown to the model in the re-ask).
    """

    name: str  # schema name sent with the request
    schema: dict[str, Any]
    parse: Callable[[Mapping[str, Any]], T | str]
    purpose: str  # recorded in llm_calls.purpose (trade, harvest, vote)


@dataclass(frozen=True)
class Prompt:
    """One agent's request: the stable system prefix and this step's user message."""

    agent: int
    system: str
    user: str


@dataclass(slots=True)
class _Outcome:
    value: Any
    fault: Fault | None
    record: CallRecord | None
    text: str = ""
    problem: str = ""
    transport: bool = False
    detail: str = ""


class LLMAsker:
    """Concurrent structured questions to the endpoints of an :class:`LLMConfig`."""

    def __init__(
        self, config: LLMConfig, population: Population, run_seed: int, *,
        transport: HttpTransport | None = None, check: bool = True,
    ) -> None:
        self._session = LLMSession(config, transport=transport, check=check,
                                   name="townsquare-environment-llm")
        self.population = population
        self.run_seed = int(run_seed)
        self._stacks: list[Accounting] = self._session.stacks
        self._loop = self._session.loop
        self._records: list[CallRecord] = []
        self._fallbacks: Counter[str] = Counter()
        self._details: dict[str, str] = {}
        self._decisions = 0
        self.spent = {"tokens": 0.0, "cost": 0.0}
        self.ceiling = FallbackCeiling(self.config.max_fallback_share,
                                       self.config.max_run_fallback_share)

    @property
    def config(self) -> LLMConfig:
        """The settings in use: environment overrides applied, output modes negotiated."""
        return self._session.config

    def ask(self, step: int, requests: list[Prompt], question: Question[T]) -> list[T | None]:
        """One answer per prompt (``None`` where the model failed), in order."""
        if not requests:
            return []
        agents = np.array([r.agent for r in requests], np.int64)
        which = model_for_agents(self.config, self.population, agents)
        outcomes = self._loop.run(self._ask_all(step, requests, question, which.tolist()))
        self._decisions += len(outcomes)
        for outcome in outcomes:
            if outcome.value is None:
                kind = (outcome.fault or Fault.EMPTY).value
                self._fallbacks[kind] += 1
                self._details.setdefault(kind, outcome.problem or outcome.detail)
                if outcome.record is not None:
                    outcome.record.fallback = True
        self._records.extend(r for stack in self._stacks for r in stack.drain())
        return [o.value for o in outcomes]

    # -- what the engine asks of a behaviour ----------------------------------------------

    def before_step(self, step: int) -> None:
        """Stop cleanly (resumable) once a token or cost budget is spent."""
        self.config.check_budget(self.spent)

    def step_report(self) -> Report:
        """``llm_calls`` rows and ``llm_*`` metrics of the calls since the last report."""
        records, self._records = self._records, []
        records.sort(key=lambda r: (r.step, r.agent, r.purpose))
        stats = step_stats(-1, records, self._fallbacks, decisions=self._decisions,
                           details=self._details)
        step = records[0].step if records else -1
        self.ceiling.observe(step, self._decisions, self._fallbacks, self._details)
        self._fallbacks, self._details, self._decisions = Counter(), {}, 0
        self.spent["tokens"] += stats["prompt_tokens"] + stats["completion_tokens"]
        self.spent["cost"] += stats["cost"]
        tables = {"llm_calls": call_columns(records)} if records else {}
        return tables, step_metrics(stats, _STAT_METRICS)

    def after_step(self, step: int) -> None:
        """Stop (checkpointed after ``step``) when too many answers fell back."""
        self.ceiling.check()

    def get_state(self) -> dict[str, Any]:
        return {"spent": dict(self.spent), "ceiling": self.ceiling.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.spent = {k: float(v) for k, v in state["spent"].items()}
        self.ceiling.set_state(state.get("ceiling", {}))

    def close(self) -> None:
        """Close connections, the loop, the cache and a local server (idempotent)."""
        self._session.close()

    # -- the async part ----------------------------------------------------------------------

    async def _ask_all(self, step: int, requests: list[Prompt], question: Question[T],
                       which: list[int]) -> list[_Outcome]:
        tasks = []
        for request, model in zip(requests, which, strict=True):
            chat = structured_request(
                self.config.models[model], messages(request.system, request.user),
                question.name, question.schema,
                derive_seed(self.run_seed, step, request.agent, question.purpose),
                CallTag(step, request.agent, question.purpose),
            )
            tasks.append(self._ask_one(self._stacks[model], chat, question))
        return list(await asyncio.gather(*tasks))

    async def _ask_one(self, model: Accounting, request: ChatRequest,
                       question: Question[T]) -> _Outcome:
        outcome = await self._attempt(model, request, question)
        if outcome.value is not None or outcome.transport or not self.config.repair:
            return outcome
        tag = request.tag
        problem = outcome.problem or REPAIR_HINTS[outcome.fault or Fault.MALFORMED_JSON]
        repair = dataclasses.replace(
            request, messages=repair_messages(request.messages, outcome.text, problem),
            seed=derive_seed(self.run_seed, tag.step, tag.agent, f"{tag.purpose}-repair"),
            tag=CallTag(tag.step, tag.agent, f"{tag.purpose}-repair"),
        )
        return await self._attempt(model, repair, question)

    async def _attempt(self, model: Accounting, request: ChatRequest,
                       question: Question[T]) -> _Outcome:
        try:
            result = await model.complete(request)
        except LLMFault as error:
            return _Outcome(None, error.kind, error.record, transport=True, detail=str(error))
        data = extract_object(result.text, truncated=result.finish_reason == "length")
        fault: Fault | None = None
        problem = ""
        value: Any = None
        if isinstance(data, Fault):
            fault = data
        else:
            try:
                parsed = question.parse(data)
            except Exception as exc:  # a parser bug must not stop a run: count it as a fault
                parsed = f"unusable answer ({type(exc).__name__})"
            if isinstance(parsed, str):
                fault, problem = Fault.MALFORMED_JSON, parsed
            else:
                value = parsed
        if fault is not None and result.refusal:
            fault = Fault.REFUSAL
        if fault is not None and result.record is not None:
            result.record.fault = fault.value
        return _Outcome(value, fault, result.record, result.text, problem)


class AskerDelegate(BaseBehavior):
    """The engine-facing hooks of an LLM decider, all answered by its :class:`LLMAsker`."""

    is_llm: np.ndarray  # always set: which agents the model drives

    asker: LLMAsker

    def __init__(
        self, config: LLMConfig, population: Population, is_llm: np.ndarray, run_seed: int, *,
        transport: HttpTransport | None = None, check: bool = True,
    ) -> None:
        """The model's agents and the asker every environment's LLM decider starts with."""
        self.is_llm = np.asarray(is_llm, bool)
        self.population = population
        self.asker = LLMAsker(config, population, run_seed, transport=transport, check=check)

    def before_step(self, step: int) -> None:
        self.asker.before_step(step)

    def after_step(self, step: int) -> None:
        self.asker.after_step(step)

    def step_report(self) -> Report:
        return self.asker.step_report()

    def get_state(self) -> dict[str, Any]:
        return self.asker.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        self.asker.set_state(state)

    def close(self) -> None:
        self.asker.close()
