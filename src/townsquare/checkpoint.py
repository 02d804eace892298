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
        for key, array in arrays.items():  # streamed: no second copy of a large array
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array),
                                          allow_pickle=False)
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def detached(tree: Any) -> Any:
    """A copy of a state tree that later changes to the run cannot reach.

    ``get_state()`` methods may hand out live arrays; a checkpoint written in the
    background, while the next steps run, needs its own copy of each.
    """
    if isinstance(tree, np.ndarray):
        return tree.copy()
    if isinstance(tree, dict):
        return {k: detached(v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(detached(v) for v in tree)
    return tree


def remove_checkpoint(run_dir: Path) -> None:
    """Delete a finished run's checkpoint: a completed run cannot be resumed, and at a
    million agents the file is as large as the posts it holds."""
    (Path(run_dir) / CHECKPOINT_FILE).unlink(missing_ok=True)


def load_checkpoint(run_dir: Path, max_elements: int | None = None,
                    max_json_bytes: int | None = None) -> tuple[int, dict[str, Any]] | None:
    """(step, state tree) of the last checkpoint, or None when the run has none.

    A checkpoint is untrusted input (a run folder may come from anyone): with
    ``max_elements`` each array's shape is read from its header and refused when
    larger, and ``state.json`` is refused above ``max_json_bytes``, before
    anything is decompressed or allocated. Any defect is a StoreError saying the
    checkpoint is damaged.
    """
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("state.json")
            if max_json_bytes is not None and info.file_size > max_json_bytes:
                raise ValueError(f"state.json holds {info.file_size:,} bytes, more than this "
                                 f"run can need ({max_json_bytes:,})")
            doc = json.loads(archive.read(info))
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                found = doc.get("format") if isinstance(doc, dict) else None
                raise StoreError(f"{path}: checkpoint format {found} is not "
                                 f"supported (expected {FORMAT})")
            step = doc["step"]
            if not isinstance(step, int) or isinstance(step, bool) or step < 0:
                raise ValueError(f"step {step!r} is not a step number")

            def array(key: object) -> np.ndarray:
                with archive.open(f"{key}.npy") as member:
                    _check_header(member, max_elements, key)
                return np.load(io.BytesIO(archive.read(f"{key}.npy")), allow_pickle=False)

            return step, _decode(doc["state"], array)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, OSError,
            RecursionError, EOFError) as exc:
        raise StoreError(f"{path}: the checkpoint is damaged ({exc})") from None


def _check_header(member: Any, max_elements: int | None, key: object) -> None:
    """Refuse an array whose header declares more elements than the run can hold."""
    version = np.lib.format.read_magic(member)
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f"array {key} has .npy format {version}")
    shape, _, dtype = readers[version](member)
    if dtype.hasobject:
        raise ValueError(f"array {key} holds Python objects")
    elements = int(np.prod(shape, dtype=object))
    if max_elements is not None and elements > max_elements:
        raise ValueError(f"array {key} declares shape {shape}, more than this run can hold "
                         f"({max_elements:,} elements)")


def check_like(template: Any, state: Any, path: Path, n_agents: int, where: str = "") -> None:
    """Refuse a restored state whose structure differs from a fresh run's (``template``).

    Every key of a fresh run's tables must be there (random streams and caches
    add keys as a run goes, so more keys are allowed); arrays keep their dtype,
    their number of axes and every axis but the first; the first axis may differ
    (posts and follows grow) unless it counts agents. Float arrays that are finite
    in a fresh run must stay finite. Anything else is a damaged checkpoint.
    """
    def damaged(problem: str) -> StoreError:
        return StoreError(f"{Path(path) / CHECKPOINT_FILE}: the checkpoint is damaged "
                          f"({where or 'state'}: {problem})")

    if isinstance(template, dict):
        if not isinstance(state, dict):
            raise damaged("expected a table")
        missing = set(template) - set(state)  # tables may gain keys as a run goes
        if missing:
            raise damaged(f"missing keys {sorted(map(str, missing))}")
        for key, value in template.items():
            if key in state:
                check_like(value, state[key], path, n_agents, f"{where}.{key}".lstrip("."))
    elif isinstance(template, np.ndarray):
        if not isinstance(state, np.ndarray) or state.dtype != template.dtype:
            raise damaged(f"expected a {template.dtype} array")
        if state.ndim != template.ndim or state.shape[1:] != template.shape[1:]:
            raise damaged(f"shape {state.shape}, expected {template.shape}")
        if template.ndim and template.shape[0] == n_agents and state.shape[0] != n_agents:
            raise damaged(f"{state.shape[0]} rows for {n_agents} agents")
        if (template.dtype.kind == "f" and np.isfinite(template).all()
                and not np.isfinite(state).all()):
            raise damaged("not-a-number or infinite values")
    elif isinstance(template, list):
        if not isinstance(state, list):
            raise damaged("expected a list")
    elif isinstance(template, bool | int | float | str) and not isinstance(
            state, type(template) if not isinstance(template, float) else int | float):
        raise damaged(f"expected {type(template).__name__}, got {type(state).__name__}")


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
