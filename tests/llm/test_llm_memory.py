"""Memory streams: retrieval ranking, forgetting, short/long-term memory, export, state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.behavior.llm.config import MemoryConfig
from townsquare.behavior.llm.memory import MemoryKind, MemoryStore

E1, E2, E3 = np.eye(3, dtype=np.float32)


def constructed(**weights: float) -> MemoryStore:
    """Agent 7 remembers four things; see the test for the scores.

    A: old, unimportant, relevant.  B: recent, unimportant, irrelevant.
    C: old, important, irrelevant.  D: fairly recent, fairly important, fairly relevant.
    """
    config = MemoryConfig(recency_decay=0.5, short_term=0, promote_importance=10, **weights)
    store = MemoryStore(config)
    d = (0.6 * E1 + 0.8 * E2).astype(np.float32)
    for text, step, importance, emb in [("A", 0, 2.0, E1), ("B", 9, 2.0, E2),
                                        ("C", 0, 9.0, E3), ("D", 8, 6.0, d)]:
        store.add(np.array([7]), step, MemoryKind.OBSERVATION, importance, [text], emb[None])
    return store


def letters(memories: list[str]) -> list[str]:
    return [m.split("] ")[1] for m in memories]


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ({}, ["D"]),  # best on no single criterion, best on their normalised sum
        ({"w_recency": 0, "w_importance": 0}, ["A", "D"]),
        ({"w_importance": 0, "w_relevance": 0}, ["B", "D"]),
        ({"w_recency": 0, "w_relevance": 0}, ["C", "D"]),
    ],
    ids=["all", "relevance", "recency", "importance"],
)
def test_retrieval_ranks_by_weighted_normalised_scores(weights: dict, expected: list[str]) -> None:
    store = constructed(**weights)
    got = store.retrieve(np.array([7]), E1[None], step=10, k=len(expected))
    assert letters(got[0]) == expected


def test_scores_match_park_formula() -> None:
    """Recompute the scores by hand: min-max normalised recency + importance + relevance."""
    recency = 0.5 ** np.array([10, 1, 10, 2])
    importance = np.array([2, 2, 9, 6.0])
    relevance = np.array([1, 0, 0, 0.6])

    def norm(x: np.ndarray) -> np.ndarray:
        return (x - x.min()) / (x.max() - x.min())

    score = norm(recency) + norm(importance) + norm(relevance)
    expected = [("ABCD")[i] for i in np.argsort(-score, kind="stable")]
    store = constructed()
    assert letters(store.retrieve(np.array([7]), E1[None], step=10, k=4)[0]) == expected


def test_retrieval_refreshes_recency_unless_told_not_to() -> None:
    store = constructed(w_importance=0, w_relevance=0)
    store.retrieve(np.array([7]), E1[None], step=10, k=1, touch=False)
    assert letters(store.retrieve(np.array([7]), E1[None], step=10, k=1)[0]) == ["B"]
    store = constructed(w_recency=0, w_importance=0)
    store.retrieve(np.array([7]), E3[None], step=10, k=1)  # touches C
    store.config = MemoryConfig(recency_decay=0.5, short_term=0, w_importance=0, w_relevance=0)
    assert letters(store.retrieve(np.array([7]), E1[None], step=10, k=1)[0]) == ["C"]


def test_short_term_memory_is_the_latest_items_after_the_retrieved_ones() -> None:
    store = constructed(w_recency=0, w_importance=0)
    got = store.retrieve(np.array([7]), E1[None], step=10, k=1, short_term=2)
    assert letters(got[0]) == ["A", "C", "D"]  # retrieved A, then the two written last


def test_agents_without_memories_get_nothing() -> None:
    store = constructed()
    got = store.retrieve(np.array([3, 7, 1000]), np.stack([E1, E1, E1]), step=10, k=2)
    assert got[0] == [] and got[2] == [] and len(got[1]) == 2


def test_full_agents_forget_the_least_valuable_short_term_memory() -> None:
    store = MemoryStore(MemoryConfig(memory_size=4, recency_decay=1.0, promote_importance=8))
    emb = np.tile(E1, (4, 1))
    store.add(np.array([0, 0, 0, 0]), 0,
              np.array([MemoryKind.REFLECTION, MemoryKind.OBSERVATION, MemoryKind.ACTION,
                        MemoryKind.OBSERVATION], np.int8),
              np.array([1.0, 2.0, 5.0, 9.0]), ["insight", "dull", "did", "big"], emb)
    store.add(np.array([0]), 1, MemoryKind.OBSERVATION, 3.0, ["new"], E1[None])
    held = letters(store.recent(np.array([0]), 10)[0])
    assert held == ["insight", "did", "big", "new"]  # "dull" forgotten; the reflection kept
    assert letters(store.long_term(0)) == ["insight", "big"]  # reflections + promoted


def test_many_new_memories_at_once_keep_the_latest() -> None:
    store = MemoryStore(MemoryConfig(memory_size=4))
    agents = np.array([1, 2, 1, 1, 2, 1, 1, 1])
    texts = [f"m{i}" for i in range(len(agents))]
    store.add(agents, 0, MemoryKind.OBSERVATION, 3.0, texts, np.tile(E1, (len(agents), 1)))
    np.testing.assert_array_equal(store.count(np.array([1, 2, 3])), [4, 2, 0])
    assert letters(store.recent(np.array([1]), 10)[0]) == ["m3", "m5", "m6", "m7"]
    assert letters(store.recent(np.array([2]), 10)[0]) == ["m1", "m4"]


def test_rows_since_and_drain_export_memories() -> None:
    store = constructed()
    rows = store.rows_since(8)
    assert rows["text"] == ["B", "D"] and rows["step"] == [9, 8] and rows["agent"] == [7, 7]
    assert rows["kind"] == ["observation", "observation"]
    drained = store.drain()
    assert drained["text"] == ["A", "B", "C", "D"]
    assert drained["importance"] == [2.0, 2.0, 9.0, 6.0]
    assert store.drain()["text"] == []


def test_state_round_trip_gives_the_same_retrieval() -> None:
    store = constructed()
    state = store.get_state()
    copy = MemoryStore(store.config)
    copy.set_state(state)
    query = np.array([[0.3, 0.3, 0.9]], np.float32)
    assert copy.retrieve(np.array([7]), query, 12, k=4) == store.retrieve(
        np.array([7]), query, 12, k=4)
    copy.add(np.array([7]), 13, MemoryKind.ACTION, 4.0, ["E"], E2[None])
    assert letters(copy.recent(np.array([7]), 1)[0]) == ["E"]


def _reference_streams(size: int, decay: float, promote: float,
                       batches: list[list[tuple[int, int, float]]]) -> dict[int, list[str]]:
    """What each agent holds after the batches, from the documented rule, one agent at a time.

    A batch is (agent, kind, importance) items added at step = its index. New
    items fill an agent's free slots in order, then replace its least valuable
    memories (importance x decay^age; reflections and promoted ones last).
    """
    slots: dict[int, list[tuple[int, int, float, bool, str] | None]] = {}
    seq = 0
    for step, batch in enumerate(batches):
        mine: dict[int, list[tuple[int, int, float, bool, str]]] = {}
        for i, (agent, kind, importance) in enumerate(batch):
            importance = min(max(importance, 1.0), 10.0)
            long = kind >= MemoryKind.REFLECTION or importance >= promote
            mine.setdefault(agent, []).append((seq + i, step, importance, long, f"{step}/{i}"))
        seq += len(batch)
        for agent, items in mine.items():
            held = slots.setdefault(agent, [None] * size)

            def value(j: int, held: list = held, step: int = step) -> float:
                if held[j] is None:
                    return -np.inf
                _, made, importance, long, _ = held[j]
                return importance * decay ** max(step - made, 0) + (1e6 if long else 0.0)

            order = sorted(range(size), key=value)
            for j, item in zip(order, items[-size:], strict=False):
                held[j] = item
    return {agent: [m[4] for m in sorted(m for m in held if m is not None)]
            for agent, held in slots.items()}


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(4, 7),
    batches=st.lists(st.lists(st.tuples(st.integers(0, 5), st.integers(0, len(MemoryKind) - 1),
                                        st.floats(0.0, 11.0, width=32)),
                              max_size=25), min_size=1, max_size=8),
)
def test_agents_hold_what_the_forgetting_rule_keeps(
    size: int, batches: list[list[tuple[int, int, float]]]
) -> None:
    """Free slots fill first; full agents forget their least valuable memories (many agents,
    some full and some not, in one add)."""
    config = MemoryConfig(memory_size=size, recency_decay=0.9, promote_importance=8)
    store = MemoryStore(config)
    for step, batch in enumerate(batches):
        if batch:
            agents, kinds, importance = (np.array(column) for column in zip(*batch, strict=True))
            store.add(agents, step, kinds.astype(np.int8), importance.astype(np.float32),
                      [f"{step}/{i}" for i in range(len(batch))], np.tile(E1, (len(batch), 1)))
    expected = _reference_streams(size, 0.9, 8, batches)
    for agent in range(6):
        held = [text.split("] ")[1] for text in store.recent(np.array([agent]), size)[0]]
        assert held == expected.get(agent, [])


def test_reserving_room_changes_nothing_but_the_room() -> None:
    """Memories added after ``reserve`` (with or without growing the pool) are the same."""
    rng = np.random.default_rng(3)
    plain, reserved = (MemoryStore(MemoryConfig(memory_size=5)) for _ in range(2))
    for step in range(6):
        agents = rng.integers(0, 40, 300)
        importance = rng.uniform(1, 10, 300)
        texts = [f"{step}/{i}" for i in range(300)]
        emb = rng.random((300, 4)).astype(np.float32)
        reserved.reserve(int(rng.integers(0, 2000)))
        for store in (plain, reserved):
            store.add(agents, step, MemoryKind.OBSERVATION, importance, texts, emb)
    query = rng.random((40, 4)).astype(np.float32)
    everyone = np.arange(40)
    assert reserved.retrieve(everyone, query, 6) == plain.retrieve(everyone, query, 6)
    assert reserved.drain() == plain.drain()
    assert reserved.rows_since(0) == plain.rows_since(0)
