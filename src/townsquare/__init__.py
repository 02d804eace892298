"""townsquare: simulate online social networks with heuristic and LLM agents.

The public surface is small: :class:`Scenario` (load and validate a study),
:class:`Simulation` (run it) and :class:`Run` (read a finished run as
DataFrames). They are imported lazily so ``import townsquare`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Run", "Scenario", "Simulation", "__version__"]

_LAZY = {"Run": "townsquare.run", "Scenario": "townsquare.scenario",
         "Simulation": "townsquare.engine"}

if TYPE_CHECKING:
    from townsquare.engine import Simulation
    from townsquare.run import Run
    from townsquare.scenario import Scenario


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'townsquare' has no attribute {name!r}")
