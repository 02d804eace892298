"""Per-agent memory streams with Generative-Agents retrieval (Park et al. 2023).

Each memory is a short text with the step it was made, an importance from 1
to 10, an embedding and a kind (observation, action, reflection).
Retrieval scores every memory of an agent by

    w_rec · recency + w_imp · importance + w_rel · relevance

where recency decays exponentially with the steps since the memory was last
retrieved, relevance is the cosine between its embedding and the query, and
each term is min–max normalised over the agent's memories, as in the paper.

Short-term memory (FPS) is the last few items; long-term memory is the
reflections plus anything important enough to be promoted. An agent keeps at
most ``memory_size`` memories; when full, the least valuable short-term one
(importance × recency) is forgotten first.

Storage is columnar: one pool of memories and a (rows × memory_size) slot
table per agent, so retrieval for a batch is a few numpy operations.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from townsquare.behavior.llm.config import MemoryConfig
from townsquare.behavior.llm.records import MEMORY_COLUMNS

_CHUNK = 512


class MemoryKind(IntEnum):
    OBSERVATION = 0
    ACTION = 1
    REFLECTION = 2


KIND_NAMES = [k.name.lower() for k in MemoryKind]
_KIND_NAMES = np.array(KIND_NAMES, dtype=object)
_POOL = {
    "agent": np.int64,
    "step": np.int32,
    "last_access": np.int32,
    "importance": np.float32,
    "kind": np.int8,
    "long": np.bool_,
    "seq": np.int64,
}


class MemoryStore:
    """Memory streams of many agents, stored as columns."""

    def __init__(self, config: MemoryConfig, capacity: int = 1024) -> None:
        self.config = config
        self.size = config.memory_size
        self._row_of = np.full(0, -1, dtype=np.int64)
        self._slots: np.ndarray = np.full((0, self.size), -1, dtype=np.int64)
        self.n_rows = 0
        self._n = 0
        self._seq = 0
        self._cols: dict[str, np.ndarray] = {
            name: np.zeros(capacity, dtype=dt) for name, dt in _POOL.items()
        }
        self._emb: np.ndarray | None = None
        self._written = 0  # embedding rows below this have been written (their pages mapped)
        self._text = np.full(capacity, None, dtype=object)  # str per pool id
        self._log: dict[str, list] = {name: [] for name in MEMORY_COLUMNS}

    @property
    def dim(self) -> int | None:
        """Embedding dimension (``None`` until the first memory is added)."""
        return None if self._emb is None else int(self._emb.shape[1])

    def __repr__(self) -> str:
        return f"MemoryStore(agents={self.n_rows}, memories={int((self._slots >= 0).sum())})"

    # -- writing ----------------------------------------------------------------------------

    def add(
        self,
        agents: np.ndarray,
        step: int,
        kinds: np.ndarray | MemoryKind,
        importance: np.ndarray | float,
        texts: list[str],
        embeddings: np.ndarray,
    ) -> None:
        """Append memories (one per row of the arguments), forgetting where an agent is full."""
        agents = np.asarray(agents, dtype=np.int64)
        k = len(agents)
        if k == 0:
            return
        kinds = np.broadcast_to(np.asarray(kinds, dtype=np.int8), (k,))
        importance = np.clip(np.broadcast_to(np.asarray(importance, np.float32), (k,)), 1, 10)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if self._emb is None:
            self._emb = np.zeros((len(self._text), embeddings.shape[1]), dtype=np.float32)
        elif embeddings.shape[1] != self._emb.shape[1]:
            raise ValueError(
                f"embedding dimension {embeddings.shape[1]} differs from {self._emb.shape[1]}"
            )
        rows = self._rows(agents, create=True)
        order = np.argsort(rows, kind="stable")
        uniq, starts, counts = np.unique(rows[order], return_index=True, return_counts=True)
        rank = np.arange(k) - np.repeat(starts, counts)
        excess = np.repeat(np.maximum(counts - self.size, 0), counts)
        keep = rank >= excess  # more new items than slots: keep the latest
        group = np.repeat(np.arange(len(uniq)), counts)[keep]
        rank = (rank - excess)[keep]
        items = order[keep]

        slot = self._slots_for(uniq, group, rank, step)
        existing = self._slots[uniq[group], slot]
        pool = existing.copy()
        fresh = existing < 0
        pool[fresh] = self._alloc(int(fresh.sum()))
        self._slots[uniq[group], slot] = pool

        cols = self._cols
        cols["agent"][pool] = agents[items]
        cols["step"][pool] = step
        cols["last_access"][pool] = step
        cols["importance"][pool] = importance[items]
        cols["kind"][pool] = kinds[items]
        cols["long"][pool] = (kinds[items] >= MemoryKind.REFLECTION) | (
            importance[items] >= self.config.promote_importance
        )
        cols["seq"][pool] = self._seq + items
        if len(items) == k:  # all kept: scatter, no gathered copy
            into = np.empty(k, np.int64)
            into[items] = pool
            self._emb[into] = embeddings
        else:
            self._emb[pool] = embeddings[items]
        self._seq += k
        text = np.empty(k, dtype=object)
        text[:] = texts
        self._text[pool] = text[items]
        kept = np.sort(items)
        log = self._log
        log["agent"].extend(agents[kept].tolist())
        log["step"].extend([int(step)] * len(kept))
        log["kind"].extend(_KIND_NAMES[kinds[kept]].tolist())
        log["importance"].extend(importance[kept].astype(float).tolist())
        log["text"].extend(text[kept].tolist())

    def _slots_for(
        self, rows: np.ndarray, group: np.ndarray, rank: np.ndarray, step: int
    ) -> np.ndarray:
        """The slot of each new item (``rank``-th new item of ``rows[group]``).

        An agent's free slots come first, in order, then its least valuable
        memories (:meth:`_retention`) are replaced. Slots fill from the left
        and are never emptied, so an agent's free slots are the ones after its
        ``used`` first: only agents without room need the ranking.
        """
        used = (self._slots[rows] >= 0).sum(axis=1)
        slot = used[group] + rank
        short = used + np.bincount(group, minlength=len(rows)) > self.size
        if short.any():
            ranked = np.argsort(self._retention(rows[short], step), axis=1, kind="stable")
            at = np.cumsum(short) - 1  # row of each short agent in ``ranked``
            late = short[group]
            slot[late] = ranked[at[group[late]], rank[late]]
        return slot

    def _retention(self, rows: np.ndarray, step: int) -> np.ndarray:
        """Value of keeping each slot: empty slots lowest, long-term highest."""
        slots = self._slots[rows]
        valid = slots >= 0
        p = np.where(valid, slots, 0)
        age = np.maximum(step - self._cols["last_access"][p], 0)
        value = self._cols["importance"][p] * self.config.recency_decay ** age
        value = np.where(self._cols["long"][p], 1e6 + value, value)
        return np.where(valid, value, -np.inf)

    # -- reading ----------------------------------------------------------------------------

    def retrieve(
        self,
        agents: np.ndarray,
        queries: np.ndarray,
        step: int,
        k: int | None = None,
        short_term: int | None = None,
        touch: bool = True,
    ) -> list[list[str]]:
        """Per agent: the ``k`` best-scoring memories, then the ``short_term`` latest.

        With ``touch``, retrieved memories are marked as accessed at ``step``
        (which refreshes their recency, as in Park et al.); interviews pass
        ``touch=False`` so they do not change the run. Each text is rendered
        as ``[step s, kind] text``.
        """
        cfg = self.config
        k = cfg.retrieve_k if k is None else k
        short_term = cfg.short_term if short_term is None else short_term
        rows = self._rows(np.asarray(agents, dtype=np.int64), create=False)
        out: list[list[str]] = [[] for _ in range(len(rows))]
        present = np.flatnonzero(rows >= 0)
        for lo in range(0, len(present), _CHUNK):
            batch = present[lo : lo + _CHUNK]
            chosen = self._select(rows[batch], queries[batch], step, k, short_term, touch)
            for b, ids in zip(batch.tolist(), chosen, strict=True):
                out[b] = [self.render(i) for i in ids]
        return out

    def _select(
        self,
        rows: np.ndarray,
        queries: np.ndarray,
        step: int,
        k: int,
        short_term: int,
        touch: bool,
    ) -> list[list[int]]:
        if self._emb is None:  # rows are made only by add(), which sets the embeddings first
            raise RuntimeError("memory rows exist without embeddings")
        cfg, cols = self.config, self._cols
        slots = self._slots[rows]
        valid = slots >= 0
        p = np.where(valid, slots, 0)
        b = np.arange(len(rows))[:, None]
        recency = cfg.recency_decay ** np.maximum(step - cols["last_access"][p], 0)
        relevance = np.einsum("bmd,bd->bm", self._emb[p], np.asarray(queries, np.float32))
        score = (
            cfg.w_recency * _minmax(recency, valid)
            + cfg.w_importance * _minmax(cols["importance"][p], valid)
            + cfg.w_relevance * _minmax(relevance, valid)
        )
        score = np.where(valid, score, -np.inf)
        seq = np.where(valid, cols["seq"][p], -1)
        latest = np.argsort(-seq, axis=1, kind="stable")[:, :short_term]
        latest_ok = valid[b, latest]
        score[b, latest] = np.where(latest_ok, -np.inf, score[b, latest])
        top = np.argsort(-score, axis=1, kind="stable")[:, :k]
        top_ok = np.isfinite(score[b, top])
        picked = p[b, top]
        if touch:
            cols["last_access"][picked[top_ok]] = step
        recent = p[b, latest]
        return [
            [*picked[i][top_ok[i]].tolist(), *recent[i][latest_ok[i]][::-1].tolist()]
            for i in range(len(rows))
        ]

    def recent(self, agents: np.ndarray, n: int) -> list[list[str]]:
        """The ``n`` latest memories of each agent, oldest first."""
        rows = self._rows(np.asarray(agents, dtype=np.int64), create=False)
        out: list[list[str]] = []
        for row in rows.tolist():
            ids = self._ids_of(row)
            ids = ids[np.argsort(self._cols["seq"][ids], kind="stable")][-n:] if n else ids[:0]
            out.append([self.render(i) for i in ids.tolist()])
        return out

    def long_term(self, agent: int) -> list[str]:
        """Reflections and promoted memories of one agent, oldest first."""
        rows = self._rows(np.array([agent]), create=False)
        ids = self._ids_of(int(rows[0]))
        ids = ids[self._cols["long"][ids]]
        return [self.render(i) for i in ids[np.argsort(self._cols["seq"][ids])].tolist()]

    def count(self, agents: np.ndarray) -> np.ndarray:
        """Number of memories each agent holds."""
        rows = self._rows(np.asarray(agents, dtype=np.int64), create=False)
        out = np.zeros(len(rows), dtype=np.int64)
        ok = rows >= 0
        out[ok] = (self._slots[rows[ok]] >= 0).sum(axis=1)
        return out

    def render(self, pool_id: int) -> str:
        kind = KIND_NAMES[int(self._cols["kind"][pool_id])]
        return f"[step {int(self._cols['step'][pool_id])}, {kind}] {self._text[pool_id]}"

    # -- export and checkpoints -------------------------------------------------------------

    def rows_since(self, step: int) -> dict[str, list]:
        """Memories currently held that were made at or after ``step``, in creation order."""
        ids = self._slots[self._slots >= 0]
        ids = ids[self._cols["step"][ids] >= step]
        ids = ids[np.argsort(self._cols["seq"][ids], kind="stable")]
        cols = self._cols
        return {
            "agent": cols["agent"][ids].tolist(),
            "step": cols["step"][ids].tolist(),
            "kind": _KIND_NAMES[cols["kind"][ids]].tolist(),
            "importance": cols["importance"][ids].astype(float).tolist(),
            "text": self._text[ids].tolist(),
        }

    def drain(self) -> dict[str, list]:
        """Every memory written since the last drain (including ones since forgotten)."""
        log, self._log = self._log, {name: [] for name in MEMORY_COLUMNS}
        return log

    def get_state(self) -> dict[str, object]:
        n = self._n
        return {
            "row_of": self._row_of.copy(),
            "slots": self._slots[: self.n_rows].copy(),
            "seq": self._seq,
            "pool": {name: col[:n].copy() for name, col in self._cols.items()},
            "embeddings": None if self._emb is None else self._emb[:n].copy(),
            "text": self._text[:n].tolist(),
            "log": {name: list(v) for name, v in self._log.items()},
        }

    def set_state(self, state: dict[str, object]) -> None:
        pool: dict[str, np.ndarray] = state["pool"]  # type: ignore[assignment]
        n = len(pool["agent"])
        capacity = max(1024, n)
        self._cols = {name: np.zeros(capacity, dtype=dt) for name, dt in _POOL.items()}
        for name in _POOL:
            self._cols[name][:n] = pool[name]
        emb = state["embeddings"]
        self._emb = None
        if emb is not None:
            emb = np.asarray(emb, dtype=np.float32)
            self._emb = np.zeros((capacity, emb.shape[1]), dtype=np.float32)
            self._emb[:n] = emb
        self._written = n
        self._text = np.full(capacity, None, dtype=object)
        self._text[:n] = list(state["text"])  # type: ignore[call-overload]
        self._n = n
        self._row_of = np.asarray(state["row_of"], dtype=np.int64).copy()
        self._slots = np.asarray(state["slots"], dtype=np.int64).copy()
        self.n_rows = len(self._slots)
        self._seq = int(state["seq"])  # type: ignore[call-overload]
        self._log = {name: list(v) for name, v in state["log"].items()}  # type: ignore[attr-defined]

    # -- internals --------------------------------------------------------------------------

    def _rows(self, agents: np.ndarray, create: bool) -> np.ndarray:
        if len(agents) and agents.max() >= len(self._row_of):
            if not create:
                rows = np.full(len(agents), -1, dtype=np.int64)
                inside = agents < len(self._row_of)
                rows[inside] = self._row_of[agents[inside]]
                return rows
            grown = np.full(max(int(agents.max()) + 1, 2 * len(self._row_of)), -1, np.int64)
            grown[: len(self._row_of)] = self._row_of
            self._row_of = grown
        rows = self._row_of[agents]
        if create and (rows < 0).any():
            new = np.unique(agents[rows < 0])
            first = self.n_rows
            self.n_rows += len(new)
            if self.n_rows > len(self._slots):
                grown = np.full((max(self.n_rows, 2 * len(self._slots)), self.size), -1, np.int64)
                grown[: len(self._slots)] = self._slots
                self._slots = grown
            self._row_of[new] = np.arange(first, self.n_rows)
            rows = self._row_of[agents]
        return rows

    def _ids_of(self, row: int) -> np.ndarray:
        if row < 0:
            return np.empty(0, dtype=np.int64)
        slots = self._slots[row]
        return slots[slots >= 0]

    def reserve(self, count: int) -> None:
        """Make room for ``count`` more memories now, so that adding them is quick later.

        Grows the pool if it must and writes the embedding rows the new
        memories will take: the OS maps a fresh page on its first write, which
        costs milliseconds per ten thousand memories.
        """
        need = self._n + count
        self._grow(need)
        if self._emb is not None and need > self._written:
            self._emb[max(self._n, self._written) : need] = 0.0
            self._written = need

    def _alloc(self, count: int) -> np.ndarray:
        need = self._n + count
        self._grow(need)
        ids = np.arange(self._n, need, dtype=np.int64)
        self._n = need
        return ids

    def _grow(self, need: int) -> None:
        capacity = len(self._text)
        if need > capacity:
            new_capacity = max(need, 2 * capacity)
            for name, col in self._cols.items():
                grown = np.zeros(new_capacity, dtype=col.dtype)
                grown[: self._n] = col[: self._n]
                self._cols[name] = grown
            if self._emb is not None:
                emb = np.zeros((new_capacity, self._emb.shape[1]), dtype=np.float32)
                emb[: self._n] = self._emb[: self._n]
                self._emb = emb
                self._written = self._n
            text = np.full(new_capacity, None, dtype=object)
            text[:capacity] = self._text
            self._text = text


def _minmax(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Min–max normalise each row over its valid entries (0 where a row is constant)."""
    values = values.astype(np.float64)
    low = np.where(valid, values, np.inf).min(axis=1, keepdims=True)
    high = np.where(valid, values, -np.inf).max(axis=1, keepdims=True)
    span = high - low
    ok = valid & np.isfinite(span) & (span > 0)
    out = np.zeros_like(values)
    np.divide(values - low, span, out=out, where=ok)
    return out
