"""The process a dashboard starts to run (or resume) one simulation: ``python -m
townsquare.report.worker SPEC``.

``SPEC`` is a JSON object: ``{"scenario": name or TOML path, "overrides": {...}}``
to start a run, or ``{"resume": run folder, "trust_endpoint": bool}`` to continue
one from its checkpoint. The first line on stdout is ``RUN <run id>`` as soon as
the run's folder is known, so the dashboard can link to it before step 0 is in.
SIGTERM (the dashboard's stop button) finishes the current step, checkpoints and
exits with 130, exactly as Ctrl-C does for ``townsquare run``; the run is then
``interrupted`` and can be resumed. Errors go to stderr, one line, no traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RUN_LINE = "RUN "


def simulation(spec: dict[str, Any]) -> Any:
    """The simulation a spec asks for (not started)."""
    from townsquare.engine import Simulation
    from townsquare.scenario import Scenario

    if spec.get("resume"):
        folder = Path(spec["resume"])
        return Simulation.resume(folder, folder.parent,
                                 trust_endpoint=bool(spec.get("trust_endpoint")))
    scenario = Scenario.load(spec["scenario"])
    if spec.get("overrides"):
        scenario = scenario.with_overrides(spec["overrides"])
    return Simulation(scenario)


def main(argv: list[str] | None = None) -> int:
    """Run the spec in ``argv[0]``; 0 when the run completed, 130 when stopped, 2 on errors."""
    from townsquare.errors import RunStopped, UserError

    args = sys.argv[1:] if argv is None else argv
    try:
        spec = json.loads(args[0])
        sim = simulation(spec)
        print(RUN_LINE + sim.run_dir.name, flush=True)
        sim.run()
    except RunStopped as exc:
        print(f"stopped: {exc}", file=sys.stderr, flush=True)
        return 130
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    except Exception as exc:  # recorded in the run's meta too (status failed, error)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a subprocess
    sys.exit(main())
