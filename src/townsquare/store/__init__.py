"""The run store: one SQLite database per run, written append-only, read anywhere.

``RunWriter`` records a run step by step; ``RunReader`` reads it back as
DataFrames; ``resolve_run``/``list_runs`` find runs; ``export_parquet`` copies
tables out for other tools.
"""

from townsquare.store.export import export_parquet
from townsquare.store.reader import RunReader, list_runs, resolve_run
from townsquare.store.schema import APPLICATION_ID, RUN_FILE, SCHEMA_VERSION, TABLES
from townsquare.store.sqlite import RunWriter, new_run_id

__all__ = [
    "APPLICATION_ID",
    "RUN_FILE",
    "SCHEMA_VERSION",
    "TABLES",
    "RunReader",
    "RunWriter",
    "export_parquet",
    "list_runs",
    "new_run_id",
    "resolve_run",
]
