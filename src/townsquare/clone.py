"""Digital cloning: seed a recorded network's posts into a simulation and compare the spread.

After Puri, Hassler, Katragadda & Shenk (2024), "Digital cloning of online
social networks for language-sensitive agent-based modeling of misinformation
spread", PLOS ONE 19:e0304889: load the follow graph of a real network and
the cascades recorded on it, post each recorded root again at its recorded
step from its recorded account, let the agents spread it, and compare the
simulated cascades with the recorded ones.

Recorded data come as two files:

* an **edge list** (any format :func:`townsquare.network.io.read_edgelist`
  reads), one ``follower,followee`` pair per line;
* a **cascades CSV** with one row per post and the columns ``cascade_id``,
  ``post_id``, ``parent_post_id`` (empty or ``-1`` for the cascade's root),
  ``user`` (an id of the edge list) and ``step`` (an integer time step), plus
  an optional ``text`` (used for the root).

Simulated and recorded cascades are compared on four distributions: cascade
``size`` (posts, root included), ``depth`` (longest reshare chain),
``duration`` (steps from the root to the last reshare) and ``delay`` (steps
from the root to each reshare), each with the two-sample Kolmogorov–Smirnov
statistic and the Wasserstein (earth mover's) distance. Only shares (reposts
and quotes) count as propagation; comments are left out.

:func:`write_example` writes the small example data set shipped with the
``digital-clone`` scenario. It is synthetic: the "recorded" cascades come from
a townsquare run on a generated network with another seed, so it checks the
cloning pipeline and its sensitivity to parameters, not fidelity to a real
platform.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from townsquare.core.actions import Action
from townsquare.environments.social.config import NewsItem
from townsquare.errors import DataError
from townsquare.measure.cascades import cascade_table
from townsquare.network.io import read_edgelist
from townsquare.scenario import Scenario

if TYPE_CHECKING:
    from townsquare.run import Run

REQUIRED = ("cascade_id", "post_id", "parent_post_id", "user", "step")
MEASURES = ("size", "depth", "duration", "delay")
_SHARING = (Action.POST, Action.REPOST, Action.QUOTE)


# -- reading recorded cascades ------------------------------------------------------------


def read_cascades(path: str | Path) -> pd.DataFrame:
    """Load and check a recorded cascades CSV (see module docstring).

    Ids are kept as text. Returns the rows with the columns of the file plus
    ``row`` (0-based position) and ``parent_row`` (the parent's row, -1 for a
    root). Raises :class:`~townsquare.errors.DataError` naming the line of the
    first bad record: a missing column, a step that is not a non-negative
    integer, a repeated post id, a parent that is not in the same cascade, a
    reshare earlier than its parent, or a cascade without exactly one root.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(path, "the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(path, f"cannot be parsed: {str(exc).splitlines()[0]}") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(path, f"missing required column(s): {', '.join(missing)}", line=1)
    if frame.empty:
        raise DataError(path, "has no cascade rows")
    for column in REQUIRED:
        frame[column] = frame[column].str.strip()
    _check_cascades(path, frame)
    return frame


def _check_cascades(path: Path, frame: pd.DataFrame) -> None:
    def fail(rows: np.ndarray, message: str) -> None:
        row = int(rows[0])
        raise DataError(path, message.format(**frame.iloc[row].to_dict()), line=row + 2)

    step = pd.to_numeric(frame["step"], errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(step) | (step < 0) | (step % 1 != 0))
    if len(bad):
        fail(bad, "step {step!r} is not a non-negative integer")
    frame["step"] = step.astype(np.int64)
    for column in ("cascade_id", "post_id", "user"):
        empty = np.flatnonzero(frame[column].to_numpy() == "")
        if len(empty):
            fail(empty, f"empty {column}")
    repeated = np.flatnonzero(frame["post_id"].duplicated().to_numpy())
    if len(repeated):
        fail(repeated, "post_id {post_id!r} appears more than once")
    is_root = frame["parent_post_id"].isin(["", "-1"]).to_numpy()
    index = pd.Series(np.arange(len(frame)), index=frame["post_id"])
    parent_row = np.full(len(frame), -1, np.int64)
    parent_row[~is_root] = index.reindex(frame["parent_post_id"][~is_root]).fillna(-1).to_numpy()
    orphan = np.flatnonzero(~is_root & (parent_row < 0))
    if len(orphan):
        fail(orphan, "parent_post_id {parent_post_id!r} is not a post of the file")
    cascade = frame["cascade_id"].to_numpy()
    has_parent = np.flatnonzero(parent_row >= 0)
    foreign = has_parent[cascade[parent_row[has_parent]] != cascade[has_parent]]
    if len(foreign):
        fail(foreign, "parent_post_id {parent_post_id!r} belongs to another cascade")
    early = has_parent[frame["step"].to_numpy()[parent_row[has_parent]]
                       > frame["step"].to_numpy()[has_parent]]
    if len(early):
        fail(early, "post {post_id!r} (step {step}) is earlier than its parent")
    roots = pd.Series(is_root).groupby(cascade).sum()
    wrong = roots[roots != 1]
    if len(wrong):
        first = np.flatnonzero(cascade == wrong.index[0])
        fail(first, f"cascade {{cascade_id!r}} has {int(wrong.iloc[0])} roots; expected one")
    frame["row"] = np.arange(len(frame))
    frame["parent_row"] = parent_row


# -- measures and comparison ----------------------------------------------------------------


def cascade_measures(cascades: pd.DataFrame) -> dict[str, np.ndarray]:
    """Size, depth and duration per cascade and the delay of every reshare.

    ``cascades`` has the columns of :func:`read_cascades` (``row``,
    ``parent_row``, ``step``), as does :func:`simulated_cascades`.
    """
    if cascades.empty:
        return {m: np.empty(0) for m in MEASURES}
    table = cascade_table({
        "post_id": cascades["row"].to_numpy(np.int64),
        "parent": cascades["parent_row"].to_numpy(np.int64),
        "step": cascades["step"].to_numpy(np.int64),
        "author": np.zeros(len(cascades), np.int64),
    })
    step = cascades["step"].to_numpy(np.int64)
    root_step = pd.Series(step[table["root"].to_numpy()], index=table["root"].to_numpy())
    root_of = _root_rows(cascades["parent_row"].to_numpy(np.int64))
    shares = cascades["parent_row"].to_numpy() >= 0
    delay = step[shares] - root_step.reindex(root_of[shares]).to_numpy()
    return {
        "size": table["size"].to_numpy(np.float64),
        "depth": table["depth"].to_numpy(np.float64),
        "duration": (table["last_step"] - table["first_step"]).to_numpy(np.float64),
        "delay": delay.astype(np.float64),
    }


def _root_rows(parent: np.ndarray) -> np.ndarray:
    """Root row of every row, by pointer jumping over parent rows."""
    rows = np.arange(len(parent))
    anc = np.where(parent >= 0, parent, rows)
    while True:
        nxt = anc[anc]
        if np.array_equal(nxt, anc):
            return anc
        anc = nxt


def simulated_cascades(posts: pd.DataFrame) -> pd.DataFrame:
    """The cascades of seeded news posts in a run's posts table, in the recorded format.

    Roots are original posts carrying a news item; members are the reposts
    and quotes below them (comments are not propagation).
    """
    kind = posts["kind"]
    if not pd.api.types.is_integer_dtype(kind):
        kind = kind.astype(str).map({a.label: int(a) for a in Action})
    kind = kind.to_numpy(np.int64)
    sharing = np.isin(kind, [int(a) for a in _SHARING])
    roots = (kind == Action.POST) & (posts["parent"].to_numpy() < 0) & (posts["news"] >= 0)
    root_ids = posts["post_id"].to_numpy()[roots.to_numpy()]
    keep = sharing & np.isin(posts["root"].to_numpy(), root_ids)
    chosen = posts.loc[keep].sort_values("post_id")
    ids = chosen["post_id"].to_numpy(np.int64)
    parent = chosen["parent"].to_numpy(np.int64)
    row_of = pd.Series(np.arange(len(ids)), index=ids)
    parent_row = np.where(parent >= 0, row_of.reindex(parent).fillna(-1).to_numpy(), -1)
    return pd.DataFrame({
        "cascade_id": chosen["root"].to_numpy(np.int64).astype(str),
        "post_id": ids.astype(str),
        "parent_post_id": np.where(parent >= 0, parent.astype(str), ""),
        "user": chosen["author"].to_numpy(np.int64).astype(str),
        "step": chosen["step"].to_numpy(np.int64),
        "row": np.arange(len(ids)),
        "parent_row": parent_row.astype(np.int64),
    })


def compare_posts(posts: pd.DataFrame, recorded: pd.DataFrame) -> pd.DataFrame:
    """Distances between a run's seeded cascades and recorded ones, one row per measure.

    Columns: ``recorded_n``, ``simulated_n``, ``recorded_mean``,
    ``simulated_mean``, ``ks`` (two-sample Kolmogorov–Smirnov statistic, the
    largest gap between the two empirical CDFs), ``ks_pvalue`` and
    ``wasserstein`` (in the measure's own units). NaN where a side is empty.
    """
    simulated = cascade_measures(simulated_cascades(posts))
    observed = cascade_measures(recorded)
    rows = {}
    for name in MEASURES:
        a, b = observed[name], simulated[name]
        both = len(a) > 0 and len(b) > 0
        test = stats.ks_2samp(a, b, method="asymp") if both else None
        rows[name] = {
            "recorded_n": len(a),
            "simulated_n": len(b),
            "recorded_mean": float(a.mean()) if len(a) else np.nan,
            "simulated_mean": float(b.mean()) if len(b) else np.nan,
            "ks": float(test.statistic) if test is not None else np.nan,
            "ks_pvalue": float(test.pvalue) if test is not None else np.nan,
            "wasserstein": float(stats.wasserstein_distance(a, b)) if both else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("measure")


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
    from townsquare.engine import Simulation

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


def example_news_toml(edges: str | Path, cascades: str | Path) -> str:
    """The ``[[news]]`` tables of the digital-clone scenario for the example files."""
    scenario = clone_scenario(edges, cascades)
    lines = []
    for item in scenario.news:
        lines += ["[[news]]", f'id = "{item.id}"', f'topic = "{item.topic}"',
                  f'text = "{item.text}"', f"step = {item.step}",
                  f"authors = {item.authors}", ""]
    return "\n".join(lines)
