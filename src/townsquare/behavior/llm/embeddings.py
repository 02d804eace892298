"""Local text embeddings: a deterministic hashing vectorizer of word n-grams.

Used for memory relevance when ``embeddings = "hashing"`` (no endpoint call),
and by the test server. Word unigrams and bigrams are hashed with CRC-32 into
``dim`` signed buckets (the "hashing trick", Weinberger et al. 2009), then
each row is L2-normalised, so the dot product of two rows is their cosine.
"""

from __future__ import annotations

import itertools
import re
import zlib
from functools import lru_cache

import numpy as np

# ASCII-only, so matching the UTF-8 bytes finds the same words as matching the text
# (multi-byte sequences never match) and each word is hashed without re-encoding.
_WORD = re.compile(rb"[a-z0-9]+(?:'[a-z]+)?")


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
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        features = [self._features(text) for text in texts]
        lengths = [len(f) for f in features]
        hashes = np.concatenate(features)
        if len(hashes):
            rows = np.repeat(np.arange(len(texts)), lengths)
            sign = np.where(hashes & 0x80000000, -1.0, 1.0)
            cells = rows * self.dim + (hashes & 0x7FFFFFFF) % self.dim
            counts = np.bincount(cells, sign, len(texts) * self.dim)  # exact: sums of ±1
            out = counts.reshape(len(texts), self.dim).astype(np.float32)
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            np.divide(out, norms, out=out, where=norms > 0)
            return out
        return np.zeros((len(texts), self.dim), dtype=np.float32)

    def _hash_features(self, text: str) -> np.ndarray:
        """CRC-32 of every word n-gram of ``text`` (lower-cased)."""
        words = _WORD.findall(text.lower().encode("utf-8"))
        low, high = self.ngrams
        grams = [  # n-grams as the joins of n shifted word lists (the shortest ends them)
            words if n == 1 else map(b" ".join, zip(*(words[k:] for k in range(n)), strict=False))
            for n in range(low, high + 1)
        ]
        return np.fromiter(map(zlib.crc32, itertools.chain.from_iterable(grams)), np.uint32)

    async def embed(self, texts: list[str]) -> np.ndarray:
        """Same as :meth:`transform`; a coroutine so it fits where an endpoint would."""
        return self.transform(texts)
