"""townsquare query reads only the run tables and writes nothing into run folders (#20)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from townsquare.errors import UserError
from townsquare.experiments import query


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith("-shm")}


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "COPY (SELECT 1 AS a) TO '{out}/copied.csv'",
    "ATTACH '{out}/attached.duckdb' AS x",
    "SET enable_external_access = true",
    "INSTALL sqlite",
    "SELECT * FROM read_parquet('{out}/*.parquet')",
])
def test_file_access_beyond_the_run_tables_is_refused(runs_folder: Path, tmp_path: Path,
                                                      sql: str) -> None:
    with pytest.raises(UserError, match="query failed"):
        query(sql.format(out=tmp_path), runs_folder)
    assert list(tmp_path.iterdir()) == []


def test_queries_leave_run_folders_untouched(runs_folder: Path) -> None:
    before = _digest(runs_folder)
    counts = query("SELECT run_id, COUNT(*) AS n FROM events GROUP BY run_id", runs_folder)
    assert len(counts) == 2
    assert _digest(runs_folder) == before
    assert not any(p.name == "parquet" for p in runs_folder.rglob("*"))


def test_a_symlinked_run_elsewhere_is_not_queried(runs_folder: Path, tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    os.symlink(runs_folder / "run-1", served / "linked")
    assert query("SELECT COUNT(*) AS n FROM runs", served)["n"].tolist() == [0]
