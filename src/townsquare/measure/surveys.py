"""Surveys during a run: who is asked, how heuristic agents answer, and the summary.

Response model of heuristic agents (documented so answers can be interpreted):
each question reads one latent state ``x`` in [-1, 1] — the attitude on a
topic, belief in a news item (``2 b - 1``), valence, or arousal (``2 a - 1``) —
and the agent reports ``y = clip(x + e, -1, 1)`` with ``e ~ Normal(0, noise)``.

* Likert with ``k`` points: ``1 + round((y + 1) / 2 * (k - 1))``.
* Choice among ordered options: the option at ``round((y + 1) / 2 * (m - 1))``.
* Numeric: ``y`` in the measure's own units (belief and arousal back in [0, 1]).
* Free text: a sentence built from ``y`` (a structured answer from state).

LLM-driven agents are asked the question itself (with the answer format) and
answer from persona and memories; a reply that does not fit the format keeps
the state-based answer.

Sampling: everyone, or ``sample`` agents drawn at random or proportionally
within strata (role, age group, or leaning tercile); a panel keeps the same
agents at every wave so shifts can be paired.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from townsquare.population.model import AgentState, Population
from townsquare.schedules import Question, Survey

LIKERT_5 = ("strongly disagree", "disagree", "neutral", "agree", "strongly agree")


@dataclass
class SurveyContext:
    """What answering needs to know about the run."""

    population: Population
    topic_index: dict[str, int]
    news_index: dict[str, int]


def latent(question: Question, state: AgentState, agents: np.ndarray,
           ctx: SurveyContext) -> np.ndarray:
    """The state a question reads, mapped to [-1, 1]."""
    if question.measures == "attitude":
        return state.attitude[agents, ctx.topic_index[question.topic or ""]].astype(float)
    if question.measures == "belief":
        return 2.0 * state.belief[agents, ctx.news_index[question.news or ""]] - 1.0
    if question.measures == "valence":
        return state.valence[agents].astype(float)
    return 2.0 * state.arousal[agents] - 1.0


def answer(question: Question, y: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(numeric values, answer texts) for reported positions ``y`` in [-1, 1]."""
    unit = (y + 1.0) / 2.0
    if question.kind == "likert":
        point = 1 + np.rint(unit * (question.scale - 1)).astype(int)
        labels = LIKERT_5 if question.scale == 5 else None
        texts = [labels[p - 1] if labels else f"{p} of {question.scale}" for p in point]
        return point.astype(float), texts
    if question.kind == "choice":
        index = np.rint(unit * (len(question.options) - 1)).astype(int)
        return index.astype(float), [question.options[i] for i in index]
    natural = unit if question.measures in ("belief", "arousal") else y
    if question.kind == "numeric":
        return natural, [f"{v:.3f}" for v in natural]
    return natural, [_sentence(question, v) for v in y]


def _sentence(question: Question, y: float) -> str:
    strength = "strongly " if abs(y) > 0.6 else "somewhat " if abs(y) > 0.2 else ""
    if question.measures == "attitude":
        side = "in favour" if y > 0.2 else "against" if y < -0.2 else "undecided"
        return f"On {question.topic}, I am {strength}{side}."
    if question.measures == "belief":
        view = "true" if y > 0.2 else "false" if y < -0.2 else "uncertain"
        return f"I think the story '{question.news}' is {strength}{view}."
    mood = ("positive" if y > 0 else "negative") if question.measures == "valence" else (
        "worked up" if y > 0 else "calm")
    return f"I feel {strength}{mood}."


class SurveySchedule:
    """Administers the scenario's surveys at their steps; keeps panels fixed."""

    def __init__(self, surveys: list[Survey], ctx: SurveyContext,
                 rng: np.random.Generator) -> None:
        self.surveys = surveys
        self.ctx = ctx
        self.rng = rng
        self.panels: dict[str, np.ndarray] = {}
        # LLM-driven respondents answer through the model (set when a run has LLM agents)
        self.model_agents: np.ndarray | None = None
        self.model_answer: ModelAnswer | None = None

    def answer_with_model(self, agents: np.ndarray, answer: ModelAnswer) -> None:
        """Let ``answer(agent, prompt)`` speak for the agents in the mask ``agents``."""
        self.model_agents = agents
        self.model_answer = answer

    def conduct(self, step: int, state: AgentState) -> dict[str, list]:
        rows: dict[str, list] = {"survey": [], "question": [], "agent": [], "value": [],
                                 "answer": []}
        for survey in self.surveys:
            if step not in survey.steps:
                continue
            agents = self._respondents(survey)
            for question in survey.questions:
                x = latent(question, state, agents, self.ctx)
                y = np.clip(x + self.rng.normal(0.0, question.noise, len(x)), -1, 1)
                values, texts = answer(question, y)
                self._ask_model(question, agents, values, texts)
                rows["survey"] += [survey.id] * len(agents)
                rows["question"] += [question.id] * len(agents)
                rows["agent"] += agents.tolist()
                rows["value"] += values.tolist()
                rows["answer"] += texts
        return rows

    def _ask_model(self, question: Question, agents: np.ndarray, values: np.ndarray,
                   texts: list[str]) -> None:
        """Replace LLM agents' answers by the model's, where it gives a usable one."""
        if self.model_answer is None or self.model_agents is None:
            return
        for row in np.flatnonzero(self.model_agents[agents]):
            reply = self.model_answer(int(agents[row]), prompt_for(question))
            parsed = parse_reply(question, reply)
            if parsed is not None:
                values[row], texts[row] = parsed

    def _respondents(self, survey: Survey) -> np.ndarray:
        if survey.panel and survey.id in self.panels:
            return self.panels[survey.id]
        n = self.ctx.population.n
        if survey.sample is None or survey.sample >= n:
            chosen = np.arange(n)
        elif survey.stratify_by is None:
            chosen = np.sort(self.rng.choice(n, size=survey.sample, replace=False))
        else:
            chosen = self._stratified(survey.sample, strata(self.ctx.population,
                                                            survey.stratify_by))
        if survey.panel:
            self.panels[survey.id] = chosen
        return chosen

    def _stratified(self, size: int, groups: np.ndarray) -> np.ndarray:
        """Proportional allocation (largest remainders), random within each stratum."""
        labels, counts = np.unique(groups, return_counts=True)
        quota = counts / counts.sum() * size
        take = np.floor(quota).astype(int)
        short = size - take.sum()
        take[np.argsort(-(quota - take))[:short]] += 1
        picked = [self.rng.choice(np.flatnonzero(groups == g), size=t, replace=False)
                  for g, t in zip(labels, take, strict=True)]
        return np.sort(np.concatenate(picked))

    def get_state(self) -> dict[str, np.ndarray]:
        return dict(self.panels)

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.panels = {k: np.asarray(v) for k, v in state.items()}


ModelAnswer = Callable[[int, str], str]


def prompt_for(question: Question) -> str:
    """The question as put to an LLM agent, with the answer format it must use."""
    if question.kind == "likert":
        return (f"{question.text}\nAnswer with one whole number from 1 (strongly disagree) to "
                f"{question.scale} (strongly agree), then one short sentence.")
    if question.kind == "choice":
        return (f"{question.text}\nAnswer with exactly one of: "
                + "; ".join(question.options) + ".")
    if question.kind == "numeric":
        low, high = (0, 1) if question.measures in ("belief", "arousal") else (-1, 1)
        return f"{question.text}\nAnswer with one number between {low} and {high}."
    return question.text


def parse_reply(question: Question, reply: str) -> tuple[float, str] | None:
    """(value, text) from a model's reply, or None when it does not fit the format."""
    text = reply.strip()
    if question.kind == "text":
        return (np.nan, text) if text else None
    if question.kind == "choice":
        lowered = text.lower()
        hits = [i for i, option in enumerate(question.options) if option.lower() in lowered]
        return (float(hits[0]), question.options[hits[0]]) if hits else None
    number = re.search(r"-?\d+(?:\.\d+)?", text)
    if number is None:
        return None
    value = float(number.group())
    if question.kind == "likert":
        return (float(min(max(round(value), 1), question.scale)), text)
    low, high = (0.0, 1.0) if question.measures in ("belief", "arousal") else (-1.0, 1.0)
    return (min(max(value, low), high), text)


def strata(population: Population, by: str) -> np.ndarray:
    """Group label per agent for stratified sampling."""
    if by == "role":
        return population.role.astype(int)
    if by == "age_group":
        return population.age_group.astype(int)
    return np.digitize(population.leaning, [-1 / 3, 1 / 3])  # leaning terciles


def summarize(answers: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean answer per survey, question and step with a t confidence interval."""
    from scipy import stats  # deferred: scipy.stats is slow to import

    numeric = answers.dropna(subset=["value"])
    grouped = numeric.groupby(["survey", "question", "step"])["value"]
    table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    t = stats.t.ppf(0.5 + confidence / 2, np.maximum(table["n"] - 1, 1))
    half = t * table["sd"] / np.sqrt(table["n"])
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    return table


def shifts(answers: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Change from each question's first to last wave: paired by agent where possible."""
    from scipy import stats

    rows = []
    for (survey, question), frame in answers.dropna(subset=["value"]).groupby(
            ["survey", "question"]):
        first, last = frame["step"].min(), frame["step"].max()
        if first == last:
            continue
        before = frame[frame["step"] == first].set_index("agent")["value"]
        after = frame[frame["step"] == last].set_index("agent")["value"]
        common = before.index.intersection(after.index)
        if len(common) >= 2:
            diff = after.loc[common] - before.loc[common]
            n, mean, sd = len(diff), float(diff.mean()), float(diff.std(ddof=1))
            se = sd / np.sqrt(n)
            design = "paired"
        else:
            n = min(len(before), len(after))
            mean = float(after.mean() - before.mean())
            se = float(np.sqrt(after.var(ddof=1) / len(after) + before.var(ddof=1) / len(before)))
            design = "independent"
        half = float(stats.t.ppf(0.5 + confidence / 2, max(n - 1, 1)) * se)
        rows.append({"survey": survey, "question": question, "from_step": first,
                     "to_step": last, "design": design, "n": n, "shift": mean,
                     "ci_low": mean - half, "ci_high": mean + half})
    return pd.DataFrame(rows)
