"""Checkpoints: the whole state of a run at the end of a step, saved atomically.

A checkpoint is a nested tree of dicts, lists, scalars and numpy arrays (the
``get_state()`` of the environment, the behaviour and the random streams).
Arrays go into one ``.npz`` member each and the rest into JSON, so loading
never unpickles anything. The file is written beside the run database under a
temporary name and renamed into place, so a crash mid-write leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from townsquare.errors import StoreError

CHECKPOINT_FILE = "checkpoint.npz"
FORMAT = 1


def save_checkpoint(run_dir: Path, step: int, tree: dict[str, Any]) -> Path:
    """Write the state after ``step``; returns the checkpoint path."""
    arrays: dict[str, np.ndarray] = {}
    doc = {"format": FORMAT, "step": int(step), "state": _encode(tree, arrays)}
    path = Path(run_dir) / CHECKPOINT_FILE
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("state.json", json.dumps(doc))
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            archive.writestr(f"{key}.npy", buffer.getvalue())
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def load_checkpoint(run_dir: Path) -> tuple[int, dict[str, Any]] | None:
    """(step, state tree) of the last checkpoint, or None when the run has none."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            doc = json.loads(archive.read("state.json"))
            if doc.get("format") != FORMAT:
                raise StoreError(f"{path}: checkpoint format {doc.get('format')} is not "
                                 f"supported (expected {FORMAT})")

            def array(key: str) -> np.ndarray:
                return np.load(io.BytesIO(archive.read(f"{key}.npy")), allow_pickle=False)

            return int(doc["step"]), _decode(doc["state"], array)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise StoreError(f"{path}: the checkpoint is damaged ({exc})") from None


def _encode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(node, np.ndarray):
        if node.dtype == object:
            return {"__list__": [_encode(v, arrays) for v in node.tolist()]}
        key = f"a{len(arrays)}"
        arrays[key] = node
        return {"__array__": key}
    if isinstance(node, dict):
        if all(isinstance(k, str) for k in node):
            return {"__dict__": {k: _encode(v, arrays) for k, v in node.items()}}
        return {"__items__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in node.items()]}
    if isinstance(node, list | tuple):
        return [_encode(v, arrays) for v in node]
    if isinstance(node, np.generic):
        return node.item()
    if node is None or isinstance(node, bool | int | float | str):
        return node
    raise TypeError(f"cannot checkpoint a {type(node).__name__}")


def _decode(node: Any, array: Any) -> Any:
    if isinstance(node, list):
        return [_decode(v, array) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            return array(node["__array__"])
        if "__dict__" in node:
            return {k: _decode(v, array) for k, v in node["__dict__"].items()}
        if "__items__" in node:
            return {_decode(k, array): _decode(v, array) for k, v in node["__items__"]}
        if "__list__" in node:
            return [_decode(v, array) for v in node["__list__"]]
    return node
