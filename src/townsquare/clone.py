"""Digital cloning: seed a recorded network's posts into a simulation and compare the spread.

After Puri, Hassler, Katragadda & Shenk (2024), "Digital cloning of online
social networks for language-sensitive agent-based modeling of misinformation
spread", PLOS ONE 19:e0304889: load the follow graph of a real network and
the cascades recorded on it, post each recorded root again at its recorded
step from its recorded account, let the agents spread it, and compare the
simulated cascades with the recorded ones.

Recorded data come as two files, an edge list and a cascades CSV; how they are
read and how simulated and recorded cascades are compared is described in
:mod:`townsquare.measure.recorded_cascades`.

:func:`write_example` writes the small example data set shipped with the
``digital-clone`` scenario. It is synthetic: the "recorded" cascades come from
a townsquare run on a generated network with another seed, so it checks the
cloning pipeline and its sensitivity to parameters, not fidelity to a real
platform.
"""

from __future__ import annotations

__all__ = ["MEASURES", "REQUIRED", "cascade_measures", "clone_scenario", "compare",
           "compare_posts", "read_cascades", "recorded_news", "simulated_cascades",
           "write_example"]

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from townsquare.engine import Simulation
from townsquare.environments.social.config import NewsItem
from townsquare.errors import DataError
from townsquare.measure.recorded_cascades import (  # re-exported: part of this API
    MEASURES,
    REQUIRED,
    cascade_measures,
    compare_posts,
    read_cascades,
    simulated_cascades,
)
from townsquare.network.io import read_edgelist
from townsquare.scenario import Scenario

if TYPE_CHECKING:
    from townsquare.run import Run

def compare(run: Run, recorded_path: str | Path) -> pd.DataFrame:
    """Compare a finished run with the recorded cascades at ``recorded_path``."""
    return compare_posts(run.posts(), read_cascades(recorded_path))


# -- building a clone scenario --------------------------------------------------------------


def recorded_news(
    cascades: pd.DataFrame,
    labels: list[str],
    *,
    topic: str,
    stance: float = 0.0,
    veracity: Literal["true", "false", "unverified"] = "unverified",
    source: str | Path = "recorded cascades",
) -> list[NewsItem]:
    """One news item per recorded step with roots: posted at that step by the roots' users.

    ``labels`` are the edge list's ids in agent order (as ``read_edgelist``
    returns them); a root user missing from them is a DataError.
    """
    agent_of = {label: i for i, label in enumerate(labels)}
    roots = cascades[cascades["parent_row"] < 0]
    unknown = roots[~roots["user"].isin(agent_of)]
    if len(unknown):
        row = unknown.iloc[0]
        raise DataError(source, f"user {row['user']!r} of cascade {row['cascade_id']!r} is "
                        "not in the edge list", line=int(row["row"]) + 2)
    items = []
    for step, group in roots.groupby("step", sort=True):
        text = str(group["text"].iloc[0]) if "text" in group else ""
        items.append(NewsItem(
            id=f"rec_t{int(step):02d}", topic=topic, stance=stance, veracity=veracity,
            text=text, step=int(step), authors=[agent_of[u] for u in group["user"]],
        ))
    return items


def clone_scenario(
    edges: str | Path,
    cascades: str | Path,
    *,
    topic: str = "health",
    extra_steps: int = 10,
    settings: Mapping[str, Any] | None = None,
) -> Scenario:
    """A scenario that seeds the recorded roots into the recorded network.

    ``settings`` are further top-level scenario tables/values (e.g.
    ``{"behavior": {"model": "social", "engage_rate": 0.05}}``); the run
    lasts ``extra_steps`` past the last recorded step.
    """
    recorded = read_cascades(cascades)
    graph, labels = read_edgelist(edges)
    news = recorded_news(recorded, labels, topic=topic, source=cascades)
    data: dict[str, Any] = {
        "name": "digital-clone",
        "steps": int(recorded["step"].max()) + extra_steps,
        "population": {"size": graph.n},
        "network": {"kind": "edgelist", "path": str(edges)},
        "news": [item.model_dump(mode="json", exclude_none=True) for item in news],
        "recorded_cascades": str(cascades),
        "headline": [f"clone_ks_{m}" for m in MEASURES],
    }
    for key, value in (settings or {}).items():
        data[key] = value
    return Scenario.from_dict(data, source=f"clone of {cascades}")


# -- the shipped example ----------------------------------------------------------------------

EXAMPLE_SIZE = 2000
EXAMPLE_STEPS = 20
EXAMPLE_ROOT_STEPS = (0, 1, 2, 3, 4)
EXAMPLE_ROOTS_PER_STEP = 30
EXAMPLE_ENGAGE_RATE = 0.1
EXAMPLE_TEXT = "Viral post: a common painkiller is being quietly pulled from pharmacy shelves."
EXAMPLE_FILES = ("clone-edges.csv", "clone-cascades.csv")


def _original_scenario(seed: int) -> Scenario:
    """The generated 'original network' whose cascades serve as the recording."""
    return Scenario.from_dict({
        "name": "clone-original",
        "seed": seed,
        "steps": EXAMPLE_STEPS,
        "population": {"size": EXAMPLE_SIZE},
        "network": {"kind": "holme_kim", "m": 4, "p": 0.5},
        "behavior": {"model": "social", "engage_rate": EXAMPLE_ENGAGE_RATE},
        "news": [
            {"id": f"rec_t{t:02d}", "topic": "health", "text": EXAMPLE_TEXT, "step": t,
             "seeders": EXAMPLE_ROOTS_PER_STEP}
            for t in EXAMPLE_ROOT_STEPS
        ],
    }, source="townsquare.clone example")


def write_example(folder: str | Path, *, seed: int = 2024) -> dict[str, Path]:
    """Write the example edge list and recorded cascades into ``folder``, deterministically.

    The recording is the seeded cascades of one run of a 2,000-agent
    Holme–Kim network (see :func:`_original_scenario`). Returns the paths
    by role: ``edges`` and ``cascades``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run = Simulation(_original_scenario(seed), run_dir=Path(tmp) / "run").run()
        edges = run.edges()
        cascades = simulated_cascades(run.posts())
        del run
    paths = {"edges": folder / EXAMPLE_FILES[0], "cascades": folder / EXAMPLE_FILES[1]}
    edges = edges.sort_values(["src", "dst"])
    edges.rename(columns={"src": "follower", "dst": "followee"}).to_csv(
        paths["edges"], index=False, lineterminator="\n")
    out = cascades[list(REQUIRED)].copy()
    out["text"] = np.where(out["parent_post_id"] == "", EXAMPLE_TEXT, "")
    out.to_csv(paths["cascades"], index=False, lineterminator="\n")
    return paths
