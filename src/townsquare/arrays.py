"""Sorted-array set operations on integer keys.

numpy 2's ``np.unique`` hashes large integer arrays, which is several times
slower than sorting them; these helpers keep the hot paths on plain sorts.
"""

from __future__ import annotations

import numpy as np


def unique_ints(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (as ``np.unique``, by sorting)."""
    ordered = np.sort(np.asarray(values))
    if len(ordered) == 0:
        return ordered
    keep = np.empty(len(ordered), bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def insert_sorted(sorted_keys: np.ndarray, new_keys: np.ndarray) -> np.ndarray:
    """Merge distinct keys absent from ``sorted_keys`` into it, keeping it sorted (O(n))."""
    new_keys = np.sort(new_keys)
    return np.insert(sorted_keys, np.searchsorted(sorted_keys, new_keys), new_keys)


def first_occurrence(keys: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each value in ``keys``."""
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    first = np.ones(len(keys), bool)
    first[1:] = ranked[1:] != ranked[:-1]
    mask = np.zeros(len(keys), bool)
    mask[order[first]] = True
    return mask


def contains_sorted(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Mask of ``keys`` present in ``sorted_keys``."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys
