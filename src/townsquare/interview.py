"""Interviews: ask any agent a free-text question, during a run or after it.

LLM-driven agents answer in character from their persona and memories (the
``memories`` table, or the live memory stream mid-run). Heuristic agents
have no language: they give a structured answer from their state — persona,
attitudes, beliefs, emotion and what they did — so both kinds can be asked
the same question and compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from townsquare.behavior.llm.interview import interview
from townsquare.core.actions import Action
from townsquare.errors import UserError
from townsquare.population.model import build_population
from townsquare.rng import RandomStreams
from townsquare.trust import cache_is_allowed, check_endpoints

if TYPE_CHECKING:
    from townsquare.engine import Simulation
    from townsquare.run import Run

MEMORIES_IN_INTERVIEW = 12


def structured_answer(
    persona: str,
    question: str,
    attitudes: dict[str, float],
    beliefs: dict[str, float],
    emotion: tuple[float, float] | None,
    actions: dict[str, int],
) -> str:
    """A heuristic agent's answer: its state, stated plainly (no text generation)."""
    lines = [persona, f"Asked: {question}"]
    if attitudes:
        lines.append("Attitudes: " + ", ".join(f"{t} {v:+.2f}" for t, v in attitudes.items())
                     + " (-1 against, +1 in favour).")
    if beliefs:
        lines.append("Belief that the stories are true: " + ", ".join(
            f"{n} {v:.2f}" for n, v in beliefs.items()) + " (0 to 1).")
    if emotion is not None:
        lines.append(f"Mood: valence {emotion[0]:+.2f}, arousal {emotion[1]:.2f}.")
    did = ", ".join(f"{count} {name}" for name, count in actions.items() if count)
    lines.append(f"Actions during the run: {did or 'none'}.")
    return "\n".join(lines)


def interview_run(run: Run, agent: int, question: str, *, trust_endpoint: bool = False) -> str:
    """Ask an agent of a finished (or stopped) run a question."""
    scenario = run.scenario()
    agents = run.agents()
    if not 0 <= agent < len(agents):
        raise UserError(f"agent {agent} is not in run {run.id} (agents 0..{len(agents) - 1})")
    population = build_population(scenario.population, RandomStreams(scenario.seed)["population"])
    persona = population.persona_text(agent)
    behavior = agents.set_index("agent").loc[agent].get("behavior", "heuristic")
    if behavior == "llm" and scenario.llm is not None:
        check_endpoints(scenario.llm, run.id, trust_endpoint=trust_endpoint)
        llm = scenario.llm
        if not cache_is_allowed(llm, run.path):  # a stored path elsewhere: no cache at all
            llm = llm.model_copy(update={"cache": False})
        memories = run.reader.query(
            "SELECT text FROM memories WHERE agent = ? ORDER BY importance DESC, step DESC "
            "LIMIT ?", (agent, MEMORIES_IN_INTERVIEW))["text"].tolist()
        return interview(llm, persona, memories, question, seed=scenario.seed + agent)
    return structured_answer(persona, question, *_recorded_state(run, agent))


def _recorded_state(
    run: Run, agent: int
) -> tuple[dict[str, float], dict[str, float], tuple[float, float] | None, dict[str, int]]:
    meta = run.meta()
    topics, news = list(meta.get("topics") or []), list(meta.get("news") or [])
    query = run.reader.query
    att = query("SELECT topic, value FROM attitudes WHERE agent = ? AND step = "
                "(SELECT MAX(step) FROM attitudes WHERE agent = ?)", (agent, agent))
    bel = query("SELECT news, value FROM beliefs WHERE agent = ? AND step = "
                "(SELECT MAX(step) FROM beliefs WHERE agent = ?)", (agent, agent))
    emo = query("SELECT valence, arousal FROM state WHERE agent = ? ORDER BY step DESC LIMIT 1",
                (agent,))
    acts = query("SELECT action, COUNT(*) AS n FROM events WHERE agent = ? GROUP BY action",
                 (agent,))
    return (
        {topics[int(t)] if int(t) < len(topics) else str(t): float(v)
         for t, v in zip(att["topic"], att["value"], strict=True)},
        {news[int(k)]: float(v) for k, v in zip(bel["news"], bel["value"], strict=True)},
        (float(emo["valence"].iloc[0]), float(emo["arousal"].iloc[0])) if len(emo) else None,
        {Action(int(a)).label: int(n) for a, n in zip(acts["action"], acts["n"], strict=True)},
    )


def interview_live(sim: Simulation, agent: int, question: str) -> str:
    """Ask an agent mid-run, from the live state (between steps)."""
    env = sim.world.environment
    population = getattr(env, "population", None)
    state = getattr(env, "state", None)
    if population is None or state is None:
        raise UserError("this environment's agents cannot be interviewed")
    behavior = sim.world.behavior
    if behavior is not None and behavior.is_llm is not None and bool(behavior.is_llm[agent]):
        return behavior.interview(agent, question)
    topics = population.topics
    news = [item.id for item in sim.scenario.news]
    return structured_answer(
        population.persona_text(agent), question,
        {t: float(state.attitude[agent, j]) for j, t in enumerate(topics)},
        {n: float(state.belief[agent, k]) for k, n in enumerate(news)},
        (float(state.valence[agent]), float(state.arousal[agent])),
        {},
    )


__all__ = ["interview_live", "interview_run", "structured_answer"]
