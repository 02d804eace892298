"""Local text embeddings: a deterministic hashing vectorizer of word n-grams.

Used for memory relevance when ``embeddings = "hashing"`` (no endpoint call),
and by the test server. Word unigrams and bigrams are hashed with CRC-32 into
``dim`` signed buckets (the "hashing trick", Weinberger et al. 2009), then
each row is L2-normalised, so the dot product of two rows is their cosine.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


class HashingEmbedder:
    """Deterministic (process- and platform-independent) text vectors."""

    def __init__(self, dim: int = 256, ngrams: tuple[int, int] = (1, 2)) -> None:
        self.dim = int(dim)
        self.ngrams = ngrams

    def __repr__(self) -> str:
        return f"HashingEmbedder(dim={self.dim}, ngrams={self.ngrams})"

    def transform(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text; an empty text gives a zero row."""
        rows: list[int] = []
        hashes: list[int] = []
        low, high = self.ngrams
        for i, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            for n in range(low, high + 1):
                for j in range(len(words) - n + 1):
                    hashes.append(zlib.crc32(" ".join(words[j : j + n]).encode("utf-8")))
                    rows.append(i)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if hashes:
            h = np.asarray(hashes, dtype=np.uint32)
            sign = np.where(h & 0x80000000, -1.0, 1.0).astype(np.float32)
            np.add.at(out, (np.asarray(rows), (h & 0x7FFFFFFF) % self.dim), sign)
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            np.divide(out, norms, out=out, where=norms > 0)
        return out

    async def embed(self, texts: list[str]) -> np.ndarray:
        """Same as :meth:`transform`; a coroutine so it fits where an endpoint would."""
        return self.transform(texts)
