"""Local text embeddings: a deterministic hashing vectorizer of word n-grams.

Used for memory relevance when ``embeddings = "hashing"`` (no endpoint call),
and by the test server. Word unigrams and bigrams are hashed with CRC-32 into
``dim`` signed buckets (the "hashing trick", Weinberger et al. 2009), then
each row is L2-normalised, so the dot product of two rows is their cosine.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


class HashingEmbedder:
    """Deterministic (process- and platform-independent) text vectors."""

    def __init__(
        self, dim: int = 256, ngrams: tuple[int, int] = (1, 2), cache_size: int = 50_000
    ) -> None:
        self.dim = int(dim)
        self.ngrams = ngrams
        # the same texts recur (one post seen by many agents): cache their features
        self._features = lru_cache(maxsize=cache_size)(self._hash_features)

    def __repr__(self) -> str:
        return f"HashingEmbedder(dim={self.dim}, ngrams={self.ngrams})"

    def transform(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text; an empty text gives a zero row."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        features = [self._features(text) for text in texts]
        lengths = [len(f) for f in features]
        hashes = np.concatenate(features)
        if len(hashes):
            rows = np.repeat(np.arange(len(texts)), lengths)
            sign = np.where(hashes & 0x80000000, -1.0, 1.0).astype(np.float32)
            np.add.at(out, (rows, (hashes & 0x7FFFFFFF) % self.dim), sign)
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            np.divide(out, norms, out=out, where=norms > 0)
        return out

    def _hash_features(self, text: str) -> np.ndarray:
        """CRC-32 of every word n-gram of ``text`` (lower-cased)."""
        words = _WORD.findall(text.lower())
        low, high = self.ngrams
        grams = [
            " ".join(words[j : j + n])
            for n in range(low, high + 1)
            for j in range(len(words) - n + 1)
        ]
        return np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), np.uint32, len(grams))

    async def embed(self, texts: list[str]) -> np.ndarray:
        """Same as :meth:`transform`; a coroutine so it fits where an endpoint would."""
        return self.transform(texts)
