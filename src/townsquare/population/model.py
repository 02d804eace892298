"""Personas as columns, and the mutable per-agent state of a run.

A :class:`Population` holds fixed persona attributes as numpy columns (so a
million agents are a few arrays, not a million objects). :class:`AgentState`
holds what changes during a run: attitudes per topic, emotion, belief in each
news item. Personas are sampled from the scenario's distributions or loaded
from a CSV/Parquet file, and each renders to a short text for LLM agents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from townsquare.errors import DataError
from townsquare.population.config import Archetype, PopulationConfig
from townsquare.scenario_types import ROLES, Role

PERSONA_COLUMNS = ("age_group", "leaning", "activity", "susceptibility", "role")


@dataclass
class Population:
    """Fixed persona attributes of ``n`` agents, one array per attribute."""

    topics: list[str]
    age_labels: list[str]
    age_group: np.ndarray  # index into age_labels (int8 up to 127 labels, then wider)
    leaning: np.ndarray  # float32 in [-1, 1]; -1 left, +1 right
    interests: np.ndarray  # float32 (n, topics), rows sum to 1
    activity: np.ndarray  # float32 in [0, 1]: chance to be active in a step
    susceptibility: np.ndarray  # float32 in [0, 1]; 1 - skepticism
    role: np.ndarray  # int8 index into ROLES
    archetype: np.ndarray | None = None  # int8 index into archetype_labels (Social Simulacra)
    archetype_labels: list[str] = field(default_factory=list)
    archetype_text: list[str] = field(default_factory=list)
    arousal_baseline: np.ndarray | None = None  # resting arousal (temperament); NaN: default

    @property
    def n(self) -> int:
        return len(self.leaning)

    def role_mask(self, role: Role) -> np.ndarray:
        return self.role == ROLES.index(role)

    def to_frame(self) -> pd.DataFrame:
        """One row per agent, interests as ``interest_<topic>`` columns."""
        frame = pd.DataFrame(
            {
                "agent": np.arange(self.n, dtype=np.int64),
                "age_group": pd.Categorical.from_codes(self.age_group, self.age_labels),
                "leaning": self.leaning,
                "activity": self.activity,
                "susceptibility": self.susceptibility,
                "role": pd.Categorical.from_codes(self.role, [r.value for r in ROLES]),
            }
        )
        for j, topic in enumerate(self.topics):
            frame[f"interest_{topic}"] = self.interests[:, j]
        if self.archetype is not None:
            frame["archetype"] = pd.Categorical.from_codes(self.archetype, self.archetype_labels)
        return frame

    def persona_text(self, agent: int) -> str:
        """A short description of one agent, for prompts and interviews."""
        lean = float(self.leaning[agent])
        side = "left-leaning" if lean < -0.33 else "right-leaning" if lean > 0.33 else "centrist"
        strength = "strongly " if abs(lean) > 0.75 else ""
        order = np.argsort(-self.interests[agent])[:2]
        interests = " and ".join(self.topics[j] for j in order)
        act = self.activity[agent]
        habit = (
            "posts often" if act > 0.3 else "checks in now and then" if act > 0.08
            else "rarely logs on"
        )
        skeptic = (
            "tends to believe what friends share"
            if self.susceptibility[agent] > 0.5
            else "is skeptical of unverified claims"
        )
        role = ROLES[self.role[agent]].value
        text = (
            f"Agent {agent}: aged {self.age_labels[self.age_group[agent]]}, {strength}{side}, "
            f"mostly interested in {interests}; {habit} and {skeptic}. Usual role: {role}."
        )
        if self.archetype is not None:
            kind = self.archetype[agent]
            about = self.archetype_text[kind]
            text += f" Archetype: {self.archetype_labels[kind]}" + (f" ({about})" if about else "")
        return text


@dataclass
class AgentState:
    """What changes during a run, per agent."""

    attitude: np.ndarray  # float32 (n, topics) in [-1, 1]
    valence: np.ndarray  # float32 in [-1, 1]
    arousal: np.ndarray  # float32 in [0, 1]
    belief: np.ndarray  # float32 (n, news items) in [0, 1]
    suspended: np.ndarray  # bool: account suspended by moderation
    inoculation: np.ndarray  # float32 in [0, 1]: prebunking's protection against false items
    expectation: np.ndarray  # float32 (n, topics): the stance an agent expects to see on a topic

    @classmethod
    def initial(cls, population: Population, n_news: int, rng: np.random.Generator) -> AgentState:
        """Attitudes start near the agent's leaning; emotions near calm."""
        n, t = population.n, len(population.topics)
        noise = rng.normal(0.0, 0.2, size=(n, t)).astype(np.float32)
        attitude = np.clip(population.leaning[:, None] * 0.8 + noise, -1, 1).astype(np.float32)
        valence = np.clip(rng.normal(0.1, 0.2, n), -1, 1).astype(np.float32)
        arousal = np.clip(rng.beta(2, 6, n), 0, 1).astype(np.float32)
        if population.arousal_baseline is not None:
            given = ~np.isnan(population.arousal_baseline)
            arousal[given] = population.arousal_baseline[given]
        return cls(
            attitude=attitude,
            valence=valence,
            arousal=arousal,
            belief=np.zeros((n, n_news), dtype=np.float32),
            suspended=np.zeros(n, dtype=bool),
            inoculation=np.zeros(n, dtype=np.float32),
            expectation=attitude.copy(),  # before reading anything: content like one's views
        )

    def habituate(self, viewer: np.ndarray, topic: np.ndarray, stance: np.ndarray,
                  rate: float) -> None:
        """Move each viewer's expectation on a topic toward the mean stance it saw there.

        ``viewer``, ``topic`` and ``stance`` are one entry per post seen (topic < 0:
        a post on no topic, ignored); what is seen repeatedly stops being novel.
        """
        has = topic >= 0
        if rate == 0 or not has.any():
            return
        n_topics = self.expectation.shape[1]
        cell = viewer[has] * n_topics + topic[has]
        cells, where = np.unique(cell, return_inverse=True)
        seen = np.bincount(where, weights=stance[has]) / np.bincount(where)
        flat = self.expectation.reshape(-1)
        flat[cells] += rate * (seen - flat[cells])

    def get_state(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> AgentState:
        if "expectation" not in state:  # a checkpoint written before agents had expectations
            state = {**state, "expectation": np.array(state["attitude"])}
        return cls(**{k: np.asarray(state[k]) for k in cls.__dataclass_fields__})


def sample_population(config: PopulationConfig, rng: np.random.Generator) -> Population:
    """Draw ``config.size`` personas from the scenario's distributions."""
    n, topics = config.size, config.topics
    age_labels = list(config.age_groups)
    age_p = np.array(list(config.age_groups.values()), dtype=float)
    role_p = np.array([config.roles.get(r, 0.0) for r in ROLES], dtype=float)
    camp = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    centre = camp * 0.6 * config.leaning_polarization
    leaning = np.clip(rng.normal(centre, config.leaning_spread), -1, 1)
    interests = rng.dirichlet(np.full(len(topics), config.interest_concentration), size=n)
    population = Population(
        topics=list(topics),
        age_labels=age_labels,
        age_group=rng.choice(len(age_labels), size=n, p=age_p / age_p.sum()).astype(
            code_dtype(len(age_labels))),
        leaning=leaning.astype(np.float32),
        interests=interests.astype(np.float32),
        activity=rng.beta(config.activity.a, config.activity.b, n).astype(np.float32),
        susceptibility=rng.beta(config.susceptibility.a, config.susceptibility.b, n).astype(
            np.float32
        ),
        role=rng.choice(len(ROLES), size=n, p=role_p / role_p.sum()).astype(np.int8),
    )
    if config.archetypes:
        _apply_archetypes(population, config.archetypes, rng)
    return population


def _apply_archetypes(
    population: Population, archetypes: list[Archetype], rng: np.random.Generator
) -> None:
    """Draw each agent's archetype by share and overwrite what the archetype fixes."""
    n = population.n
    share = np.array([a.share for a in archetypes], dtype=float)
    kind = rng.choice(len(archetypes), size=n, p=share / share.sum())
    centre = np.array([a.leaning for a in archetypes])[kind]
    spread = np.array([a.leaning_spread for a in archetypes])[kind]
    population.leaning = np.clip(rng.normal(centre, spread), -1, 1).astype(np.float32)
    for k, archetype in enumerate(archetypes):
        members = np.flatnonzero(kind == k)
        for name in ("activity", "susceptibility"):
            dist = getattr(archetype, name)
            if dist is not None:
                getattr(population, name)[members] = rng.beta(dist.a, dist.b, len(members))
        if archetype.role is not None:
            population.role[members] = ROLES.index(archetype.role)
        if archetype.arousal is not None:
            if population.arousal_baseline is None:
                population.arousal_baseline = np.full(n, np.nan, np.float32)
            population.arousal_baseline[members] = rng.beta(
                archetype.arousal.a, archetype.arousal.b, len(members))
    population.archetype = kind.astype(np.int8)
    population.archetype_labels = [a.name for a in archetypes]
    population.archetype_text = [a.description for a in archetypes]


def load_population(path: Path, topics: list[str]) -> Population:
    """Read personas from CSV or Parquet; one row per agent, ids implied by row order.

    Required columns: ``leaning``, ``activity``, ``susceptibility``. Optional:
    ``age_group`` (text), ``role`` (spreader/commentator/verifier/bystander),
    ``interest_<topic>`` for each topic (normalised per row).
    """
    frame = _read_table(path)
    if frame.empty:
        raise DataError(path, "no persona rows")
    missing = [c for c in ("leaning", "activity", "susceptibility") if c not in frame.columns]
    if missing:
        raise DataError(path, f"missing required column(s): {', '.join(missing)}")
    n = len(frame)
    leaning = _numeric(frame, "leaning", path, -1.0, 1.0)
    activity = _numeric(frame, "activity", path, 0.0, 1.0)
    susceptibility = _numeric(frame, "susceptibility", path, 0.0, 1.0)
    ages = _text(frame["age_group"]) if "age_group" in frame else pd.Series(["unknown"] * n)
    age_cat = pd.Categorical(ages)
    roles = _text(frame["role"]).str.strip().str.lower() if "role" in frame else None
    role_codes = np.full(n, ROLES.index(Role.BYSTANDER), dtype=np.int8)
    if roles is not None:
        valid = {r.value: i for i, r in enumerate(ROLES)}
        bad = ~roles.isin(list(valid))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                path,
                f"column 'role' has {roles.iloc[row]!r}; expected one of {sorted(valid)}",
                line=row + 2,
            )
        role_codes = roles.map(valid).to_numpy(np.int8)
    interests = np.ones((n, len(topics)), dtype=np.float64)
    interest_cols = [f"interest_{t}" for t in topics]
    if any(c in frame for c in interest_cols):
        for j, col in enumerate(interest_cols):
            interests[:, j] = _numeric(frame, col, path, 0.0, np.inf) if col in frame else 0.0
    sums = interests.sum(axis=1, keepdims=True)
    zero = sums[:, 0] <= 0
    interests[zero] = 1.0
    interests /= interests.sum(axis=1, keepdims=True)
    return Population(
        topics=list(topics),
        age_labels=[str(c) for c in age_cat.categories],
        age_group=age_cat.codes.astype(code_dtype(len(age_cat.categories))),
        leaning=leaning.astype(np.float32),
        interests=interests.astype(np.float32),
        activity=activity.astype(np.float32),
        susceptibility=susceptibility.astype(np.float32),
        role=role_codes,
    )


def code_dtype(n_labels: int) -> type[np.signedinteger]:
    """The smallest signed integer type indexing ``n_labels`` labels (int8 up to 127)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_labels <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _text(column: pd.Series) -> pd.Series:
    """A column as text; bytes (a Parquet binary column) decode as UTF-8 with replacement."""
    return column.map(lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
        return pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError(path, "the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError, TypeError,
            KeyError, NotImplementedError) as exc:  # pyarrow's errors derive from these
        raise DataError(path, f"cannot be parsed: {str(exc).splitlines()[0]}") from None


def _numeric(frame: pd.DataFrame, column: str, path: Path, low: float, high: float) -> np.ndarray:
    try:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64)
    except (TypeError, ValueError):  # lists, dicts or bytes in a Parquet column
        values = np.array([_number(v) for v in frame[column]], dtype=np.float64)
    bad = ~np.isfinite(values) | (values < low) | (values > high)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            path,
            f"column '{column}' has {frame[column].iloc[row]!r}; expected a number in "
            f"[{low}, {high}]",
            line=row + 2,
        )
    return values


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def build_population(config: PopulationConfig, rng: np.random.Generator) -> Population:
    """Load personas from ``config.source`` if given, else sample them."""
    if config.source is not None:
        return load_population(config.source, config.topics)
    return sample_population(config, rng)
