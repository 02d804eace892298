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
import re
from pathlib import Path

import duckdb
import pandas as pd

from townsquare.cache_dir import user_cache_dir
from townsquare.errors import UserError
from townsquare.store import RUN_FILE, RunReader, export_parquet
from townsquare.store.schema import TABLES, quote


def run_folders(runs_dir: str | Path) -> list[Path]:
    """Run folders directly inside ``runs_dir`` (those holding a run database), sorted."""
    folder = Path(runs_dir)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder of runs")
    return sorted(p for p in folder.iterdir() if (p / RUN_FILE).is_file())


def parquet_cache(run_dir: Path) -> Path:
    """Where the Parquet copy of a run's tables is cached (outside the run folder)."""
    key = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:24]
    return user_cache_dir() / "query" / key


def ensure_parquet(run_dir: Path) -> Path:
    """The run's cached Parquet folder, exported (again) if missing or older than the database."""
    out = parquet_cache(run_dir)
    database = run_dir / RUN_FILE
    wal = database.with_name(database.name + "-wal")
    stamp = max(p.stat().st_mtime for p in (database, wal) if p.exists())
    files = list(out.glob("*.parquet")) if out.is_dir() else []
    if not files or min(f.stat().st_mtime for f in files) < stamp:
        export_parquet(run_dir, out)
    return out


def runs_table(runs_dir: str | Path) -> pd.DataFrame:
    """One row per run: ``run_id``, scenario, status, seed, agents, steps and summary measures."""
    rows = []
    for folder in run_folders(runs_dir):
        with RunReader(folder) as reader:
            meta = reader.meta()
        row = {"run_id": folder.name}
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
    folder = Path(runs_dir)
    runs = run_folders(folder)
    con = duckdb.connect()
    readable: list[str] = []
    by_table: dict[str, list[tuple[str, Path]]] = {}
    for run_dir in runs if run_tables else []:
        for path in sorted(ensure_parquet(run_dir).glob("*.parquet")):
            by_table.setdefault(path.stem, []).append((run_dir.name, path))
            readable.append(str(path))
    for table, parts in by_table.items():
        union = " UNION ALL BY NAME ".join(
            f"SELECT {_literal(run_id)} AS run_id, * FROM read_parquet({_literal(str(path))})"
            for run_id, path in parts
        )
        con.execute(f"CREATE VIEW {quote(table)} AS {union}")
    summary = runs_table(folder) if runs else pd.DataFrame({"run_id": pd.Series(dtype=str)})
    con.register("_runs_frame", summary)
    con.execute("CREATE VIEW runs AS SELECT * FROM _runs_frame")
    results = folder / "results.parquet"
    if results.is_file():
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
        if run_folders(runs_dir):
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
