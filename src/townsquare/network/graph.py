"""The directed follow graph, stored as sparse arrays.

An edge ``u -> v`` means *u follows v*: v's posts can reach u's feed. The
graph keeps one sorted array of edge keys (``u * n + v``) as the source of
truth and derives CSR views (who u follows, who follows v) lazily, so follows
and unfollows during a run are batched set operations, not Python loops.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from townsquare.arrays import contains_sorted, first_occurrence, insert_sorted

__all__ = ["FollowGraph", "first_occurrence", "insert_sorted"]


class FollowGraph:
    """A directed follow graph on agents ``0 .. n-1`` without self-loops or duplicates."""

    def __init__(self, n: int, keys: np.ndarray) -> None:
        self.n = int(n)
        self._keys = keys.astype(np.int64, copy=False)
        self._following: sp.csr_array | None = None
        self._followers: sp.csr_array | None = None
        # row view of the keys, kept up to date by follow/unfollow instead of rebuilt
        self._heads: np.ndarray | None = None  # followee of each edge, in key order
        self._indptr: np.ndarray | None = None  # start of each follower's edges

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_edges(cls, n: int, src: np.ndarray, dst: np.ndarray) -> FollowGraph:
        """Build from follower -> followee pairs; drops self-loops and duplicates."""
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        if src.shape != dst.shape:
            raise ValueError("src and dst must have the same length")
        if len(src) and (src.min() < 0 or dst.min() < 0 or src.max() >= n or dst.max() >= n):
            raise ValueError(f"edge endpoints must lie in [0, {n})")
        keep = src != dst
        keys = np.sort(src[keep] * n + dst[keep])  # sort, not np.unique: its hash path is slow
        return cls(n, keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys)

    def copy(self) -> FollowGraph:
        return FollowGraph(self.n, self._keys.copy())

    # -- views ------------------------------------------------------------------------

    @property
    def num_edges(self) -> int:
        return len(self._keys)

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """(follower, followee) arrays, sorted by follower then followee."""
        return self._keys // self.n, self._keys % self.n

    @property
    def following(self) -> sp.csr_array:
        """Row u lists the accounts u follows (n x n, boolean-valued float32 ones)."""
        if self._following is None:
            heads, indptr = self._rows()
            ones = np.ones(len(heads), dtype=np.float32)
            self._following = sp.csr_array((ones, heads, indptr), shape=(self.n, self.n),
                                           copy=False)
        return self._following

    def _rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(heads, indptr): the CSR structure of ``following``, built once from the keys."""
        if self._heads is None or self._indptr is None:
            index_type = np.int32 if self.n < 2**31 else np.int64
            self._heads = (self._keys % self.n).astype(index_type)
            self._indptr = np.zeros(self.n + 1, dtype=np.int64)
            np.cumsum(np.bincount(self._keys // self.n, minlength=self.n),
                      out=self._indptr[1:])
        return self._heads, self._indptr

    @property
    def followers(self) -> sp.csr_array:
        """Row v lists the accounts that follow v."""
        if self._followers is None:
            src, dst = self.edges()
            self._followers = _csr(dst, src, self.n)
        return self._followers

    def out_degree(self) -> np.ndarray:
        """How many accounts each agent follows."""
        return np.bincount(self._keys // self.n, minlength=self.n)

    def in_degree(self) -> np.ndarray:
        """How many followers each agent has."""
        return np.bincount(self._rows()[0], minlength=self.n)

    def has_edges(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        keys = np.asarray(src, np.int64) * self.n + np.asarray(dst, np.int64)
        return contains_sorted(self._keys, keys)

    def sample_followees(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """Heads of ``count`` uniformly random edges: accounts drawn in proportion to followers."""
        if count == 0 or self.num_edges == 0:
            return np.empty(0, np.int64)
        return self._keys[rng.integers(0, self.num_edges, size=count)] % self.n

    # -- mutation -----------------------------------------------------------------------

    def follow(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Add follows; returns a mask of the pairs that were new (not self, not existing)."""
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        keys = src * self.n + dst
        applied = (src != dst) & ~self.has_edges(src, dst) & first_occurrence(keys)
        if applied.any():
            new = np.sort(keys[applied])
            at = np.searchsorted(self._keys, new)
            self._keys = np.insert(self._keys, at, new)
            if self._heads is not None and self._indptr is not None:
                self._heads = np.insert(self._heads, at, (new % self.n).astype(self._heads.dtype))
                self._shift_rows(new // self.n, +1)
            self._invalidate()
        return applied

    def unfollow(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Remove follows; returns a mask of the pairs that existed."""
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        keys = src * self.n + dst
        applied = self.has_edges(src, dst) & first_occurrence(keys)
        if applied.any():
            gone = keys[applied]
            at = np.searchsorted(self._keys, gone)
            self._keys = np.delete(self._keys, at)
            if self._heads is not None and self._indptr is not None:
                self._heads = np.delete(self._heads, at)
                self._shift_rows(gone // self.n, -1)
            self._invalidate()
        return applied

    def _shift_rows(self, rows: np.ndarray, sign: int) -> None:
        assert self._indptr is not None
        self._indptr[1:] += sign * np.cumsum(np.bincount(rows, minlength=self.n))

    def _invalidate(self) -> None:
        """Drop the derived sparse views (the row structure is patched, not dropped)."""
        self._following = None
        self._followers = None

    # -- state for checkpoints ----------------------------------------------------------

    def get_state(self) -> dict[str, np.ndarray | int]:
        return {"n": self.n, "keys": self._keys}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray | int]) -> FollowGraph:
        return cls(int(state["n"]), np.asarray(state["keys"]))

    @property
    def nbytes(self) -> int:
        total = self._keys.nbytes
        for m in (self._following, self._followers):
            if m is not None:
                total += m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
        return total


def _csr(rows: np.ndarray, cols: np.ndarray, n: int) -> sp.csr_array:
    order = np.lexsort((cols, rows))
    return _csr_sorted(rows[order], cols[order], n)


def _csr_sorted(rows: np.ndarray, cols: np.ndarray, n: int) -> sp.csr_array:
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    data = np.ones(len(cols), dtype=np.float32)
    index_type = np.int32 if n < 2**31 else np.int64
    return sp.csr_array((data, cols.astype(index_type), indptr), shape=(n, n))
