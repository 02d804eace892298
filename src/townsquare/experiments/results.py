"""SQL over a folder of runs: every run's tables as DuckDB views, with a ``run_id`` column.

Each run's tables are exported once to Parquet in the user's cache directory
(``~/.cache/townsquare/query/<hash of the run's path>/``, via
:func:`townsquare.store.export_parquet`; re-exported when the database is
newer), and DuckDB reads them all: the view ``events`` is the union of every
run's events, and so on for each table of the store. Two more views: ``runs``
(one row per run: id, scenario, status, seed, agents and every summary
measure) and, in a sweep folder, ``results`` (the sweep's results table). A
query naming no store table (only ``runs`` or ``results``) exports nothing.
Run folders are never written to.

The SQL is sandboxed: once the views exist, DuckDB's external access is turned
off and its configuration locked, so a query reads only those files and cannot
read other files (``read_csv('/etc/passwd')``), write any (``COPY ... TO``),
attach databases or install extensions.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from townsquare.cache_dir import user_cache_dir
from townsquare.errors import UserError
from townsquare.store import RUN_FILE, PostgresRun, export_parquet, list_runs, open_reader
from townsquare.store.postgres.layout import is_store_url, redact_url
from townsquare.store.schema import TABLES, quote


@dataclass(frozen=True)
class _RunSource:
    """One run to query: its id, where it is stored, and what says it changed."""

    run_id: str
    ref: Path | PostgresRun
    key: str  # names the run's cache folder
    stamp: str  # changes whenever the run's tables may have


def run_sources(runs_dir: str | Path) -> list[_RunSource]:
    """The runs of a folder (those holding a run database) or of a PostgreSQL store URL."""
    if is_store_url(runs_dir):
        return [_RunSource(str(info["run_id"]), info["path"],  # type: ignore[arg-type]
                           f"{redact_url(str(runs_dir))}#{info['run_id']}",
                           json.dumps([info.get("last_step"), info.get("status")]))
                for info in list_runs(str(runs_dir))]
    folder = Path(runs_dir)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder of runs")
    sources, root = [], folder.resolve()
    for path in sorted(p for p in folder.iterdir() if (p / RUN_FILE).is_file()):
        if not (path / RUN_FILE).resolve().is_relative_to(root):
            continue  # a symlink to a run elsewhere is not followed
        files = [path / RUN_FILE, path / f"{RUN_FILE}-wal"]
        stamp = [(f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.exists()]
        sources.append(_RunSource(path.name, path, str(path.resolve()), json.dumps(stamp)))
    return sources


def parquet_cache(run: Path | str) -> Path:
    """Where the Parquet copy of a run's tables is cached (outside the run folder).

    ``run`` is a run folder, or the cache key of a PostgreSQL run (``URL#id``).
    """
    key = str(run.resolve()) if isinstance(run, Path) else run
    return user_cache_dir() / "query" / hashlib.sha256(key.encode()).hexdigest()[:24]


def ensure_parquet(run: _RunSource) -> Path:
    """The run's cached Parquet folder, exported (again) when the run has changed since."""
    out = parquet_cache(run.ref if isinstance(run.ref, Path) else run.key)
    stamp_file = out / "stamp.json"
    if not stamp_file.is_file() or stamp_file.read_text() != run.stamp:
        stamp_file.unlink(missing_ok=True)
        export_parquet(run.ref, out)
        stamp_file.write_text(run.stamp)
    return out


def runs_table(runs_dir: str | Path) -> pd.DataFrame:
    """One row per run: ``run_id``, scenario, status, seed, agents, steps and summary measures."""
    rows = []
    for run in run_sources(runs_dir):
        with open_reader(run.ref) as reader:
            meta = reader.meta()
        row: dict[str, object] = {"run_id": run.run_id}
        row |= {k: meta.get(k) for k in ("scenario_name", "status", "seed", "n_agents", "steps",
                                          "created_at", "version")}
        summary = meta.get("summary")
        if isinstance(summary, dict):
            row |= {k: v for k, v in summary.items() if isinstance(v, int | float)}
        rows.append(row)
    return pd.DataFrame(rows)


def connect(runs_dir: str | Path, run_tables: bool = True) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per store table over every run in the folder.

    ``run_tables=False`` skips the per-run tables (and their Parquet exports),
    leaving only the ``runs`` and ``results`` views.
    """
    runs = run_sources(runs_dir)
    con = duckdb.connect()
    readable: list[str] = []
    by_table: dict[str, list[tuple[str, Path]]] = {}
    for run in runs if run_tables else []:
        for path in sorted(ensure_parquet(run).glob("*.parquet")):
            by_table.setdefault(path.stem, []).append((run.run_id, path))
            readable.append(str(path))
    for table, parts in by_table.items():
        union = " UNION ALL BY NAME ".join(
            f"SELECT {_literal(run_id)} AS run_id, * FROM read_parquet({_literal(str(path))})"
            for run_id, path in parts
        )
        con.execute(f"CREATE VIEW {quote(table)} AS {union}")
    summary = runs_table(runs_dir) if runs else pd.DataFrame({"run_id": pd.Series(dtype=str)})
    con.register("_runs_frame", summary)
    con.execute("CREATE VIEW runs AS SELECT * FROM _runs_frame")
    results = Path(runs_dir) / "results.parquet"
    if not is_store_url(runs_dir) and results.is_file():
        con.execute(f"CREATE VIEW results AS SELECT * FROM read_parquet({_literal(str(results))})")
        readable.append(str(results))
    _sandbox(con, readable)
    return con


def _sandbox(con: duckdb.DuckDBPyConnection, readable: list[str]) -> None:
    """Only the views' own files stay readable; nothing can be written, attached or loaded."""
    con.execute("SET allowed_paths = $paths", {"paths": readable})
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")


def mentions_run_tables(sql: str) -> bool:
    """Whether ``sql`` names any table of the run store (else no export is needed)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql.lower()))
    return bool(words & {t.name for t in TABLES})


def query(sql: str, runs_dir: str | Path) -> pd.DataFrame:
    """Run ``sql`` over every run in ``runs_dir`` and return the rows as a DataFrame.

    ``query("SELECT run_id, COUNT(*) FROM events GROUP BY run_id", "runs")``
    """
    con = connect(runs_dir, run_tables=mentions_run_tables(sql))
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        views = {row[0] for row in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
            if not row[0].startswith("_")}
        if run_sources(runs_dir):
            views |= {t.name for t in TABLES}
        raise UserError(f"query failed: {exc}\n(tables: {', '.join(sorted(views))})") from None
    finally:
        con.close()


def export_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as Parquet or CSV, chosen by the file's suffix."""
    path = Path(path)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        raise UserError(f"{path}: export to .parquet or .csv")
    return path


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
