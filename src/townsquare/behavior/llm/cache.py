"""SQLite response cache: a rerun with the same seed replays without requests.

Responses are keyed by the sha256 of the canonical JSON of the full request
(model, messages, temperature, max_tokens, seed, answer schema), so any
change to the prompt or sampling settings is a miss. Embeddings are cached
per (model, text). The database is in WAL mode so several processes can
share it; within one process all calls come from the event-loop thread and
each is a short autocommitted statement, so no locking is needed around it.
Only response bodies are stored, never request headers or keys.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS modes (key TEXT PRIMARY KEY, mode TEXT NOT NULL);
"""


class ResponseCache:
    """Key -> response body, and (model, text) -> embedding, in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"ResponseCache({self.path!r})"

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT body FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return row[0]

    def put(self, key: str, body: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO responses (key, body) VALUES (?, ?)", (key, body))

    def get_vectors(self, model: str, texts: list[str]) -> list[np.ndarray | None]:
        """Cached embeddings for ``texts`` (``None`` where missing)."""
        keys = [_text_key(model, t) for t in texts]
        found: dict[str, bytes] = {}
        for chunk in range(0, len(keys), 500):
            part = keys[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", part
            ).fetchall()
            found.update(rows)
        return [
            np.frombuffer(found[k], dtype=np.float32).copy() if k in found else None for k in keys
        ]

    def put_vectors(self, model: str, texts: list[str], vectors: np.ndarray) -> None:
        rows = [
            (_text_key(model, t), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "INSERT OR IGNORE INTO embeddings (key, vector) VALUES (?, ?)", rows
            )
        finally:
            self._db.execute("COMMIT")

    def get_mode(self, key: str) -> str | None:
        """The structured-output mode negotiated earlier for ``key`` (endpoint and model)."""
        row = self._db.execute("SELECT mode FROM modes WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put_mode(self, key: str, mode: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO modes (key, mode) VALUES (?, ?)", (key, mode))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def _text_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()
