"""Text similarity: how far a retold version of a story drifted from the original.

Two measures, both in [0, 1] and both deterministic (no model weights):

* ``cosine`` — cosine similarity of hashed term-frequency vectors of word
  unigrams and bigrams (the "hashing trick", Weinberger et al. 2009, "Feature
  hashing for large scale multitask learning", ICML). Bigrams make it sensitive
  to word order and inserted phrases, not only to the vocabulary.
* ``jaccard`` — Jaccard similarity of the sets of word tokens.

Deviation is ``1 - similarity`` (FUSE's "truth deviation", here lexical rather
than judged by a language model).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from itertools import pairwise
from typing import Literal

import numpy as np
import scipy.sparse as sp

Method = Literal["cosine", "jaccard"]
TOKEN = re.compile(r"[a-z0-9]+(?:[.,'][a-z0-9]+)*")
DIMENSIONS = 1 << 16


def tokens(text: str) -> list[str]:
    """Lower-cased word and number tokens (``3.5`` and ``don't`` stay whole)."""
    return TOKEN.findall(text.lower())


def hashed_vectors(texts: Sequence[str], dimensions: int = DIMENSIONS) -> sp.csr_array:
    """L2-normalised term frequencies of unigrams and bigrams, hashed with CRC32."""
    rows: list[int] = []
    cols: list[int] = []
    for i, text in enumerate(texts):
        words = tokens(text)
        features = words + [f"{a} {b}" for a, b in pairwise(words)]
        rows.extend([i] * len(features))
        cols.extend(zlib.crc32(f.encode("utf-8")) % dimensions for f in features)
    data = np.ones(len(cols), dtype=np.float64)
    matrix = sp.csr_array((data, (rows, cols)), shape=(len(texts), dimensions))
    matrix.sum_duplicates()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_array(sp.diags_array(scale) @ matrix)


def similarity(
    texts: Sequence[str], references: Sequence[str], method: Method = "cosine"
) -> np.ndarray:
    """Similarity of ``texts[i]`` to ``references[i]`` for each i (two empty texts: 1)."""
    if len(texts) != len(references):
        raise ValueError(f"{len(texts)} texts but {len(references)} references")
    if method == "jaccard":
        return np.array([_jaccard(a, b) for a, b in zip(texts, references, strict=True)])
    if method != "cosine":
        raise ValueError(f"unknown similarity method {method!r}; use 'cosine' or 'jaccard'")
    a, b = hashed_vectors(texts), hashed_vectors(references)
    out = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    both_empty = np.array([not tokens(x) and not tokens(y) for x, y in zip(texts, references,
                                                                          strict=True)], bool)
    out[both_empty] = 1.0
    return np.clip(out, 0.0, 1.0)


def deviation(
    texts: Sequence[str], references: Sequence[str], method: Method = "cosine"
) -> np.ndarray:
    """``1 - similarity``: 0 for a faithful copy, 1 for nothing in common."""
    return 1.0 - similarity(texts, references, method)


def _jaccard(a: str, b: str) -> float:
    sa, sb = set(tokens(a)), set(tokens(b))
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
