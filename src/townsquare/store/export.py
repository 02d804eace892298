"""Export a run's tables to Parquet, one file per table, without touching the run.

Rows are streamed from a read-only connection in batches, so a table larger
than memory exports too; column types follow the declared SQL types.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from townsquare.store.backend import open_reader
from townsquare.store.postgres import PostgresRun

ARROW_TYPES = {"INTEGER": pa.int64(), "REAL": pa.float64(), "TEXT": pa.string()}


def export_parquet(run: Path | str | PostgresRun, out_dir: Path | None = None) -> list[Path]:
    """Write ``<table>.parquet`` for every table of ``run``; default ``<run_dir>/parquet``.

    Returns the written paths, in table order. The database is opened
    read-only and is never modified.
    """
    with open_reader(run) as reader:  # a run folder/file, or a PostgresRun
        out = Path(out_dir) if out_dir is not None else reader.run_dir / "parquet"
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in reader.tables():
            types = reader.column_types(name)
            schema = pa.schema(
                [(col, ARROW_TYPES.get(sql, pa.string())) for col, sql in types.items()]
            )
            path = out / f"{name}.parquet"
            with pq.ParquetWriter(path, schema) as writer:
                writer.write_table(schema.empty_table())
                for batch in reader.iter_rows(name):
                    columns = zip(*batch, strict=True)
                    arrays = [
                        pa.array(c, type=t) for c, t in zip(columns, schema.types, strict=True)
                    ]
                    writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            paths.append(path)
    return paths
