"""Independent random streams per subsystem, all derived from one run seed.

Each subsystem (population, network, activation, feeds, behaviour, moderation,
...) draws from its own stream, so adding draws to one never shifts another:
the same scenario and seed give the same event log.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np


class RandomStreams:
    """Named, independent ``numpy.random.Generator`` streams spawned from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in self._streams:
            key = zlib.crc32(name.encode("utf-8"))
            self._streams[name] = np.random.default_rng(np.random.SeedSequence([self.seed, key]))
        return self._streams[name]

    def get_state(self) -> dict[str, Mapping[str, Any]]:
        return {name: g.bit_generator.state for name, g in self._streams.items()}

    def set_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        for name, bit_state in state.items():
            self[name].bit_generator.state = bit_state
