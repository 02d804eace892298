"""The run store: one SQLite database per run, written append-only, read anywhere.

(Or, for a ``postgresql://`` URL, one schema per run in that database:
``create_writer``/``open_reader`` choose; see townsquare.store.postgres.)

``RunWriter`` records a run step by step; ``RunReader`` reads it back as
DataFrames; ``resolve_run``/``list_runs`` find runs; ``export_parquet`` copies
tables out for other tools.
"""

from townsquare.store.backend import create_writer, open_reader, reopen_writer, run_ref
from townsquare.store.export import export_parquet
from townsquare.store.postgres import PostgresRun, PostgresRunReader, PostgresRunWriter
from townsquare.store.reader import RunReader, list_runs, resolve_run
from townsquare.store.schema import APPLICATION_ID, RUN_FILE, SCHEMA_VERSION, TABLES
from townsquare.store.sqlite import RunWriter, new_run_id

__all__ = [
    "APPLICATION_ID",
    "RUN_FILE",
    "SCHEMA_VERSION",
    "TABLES",
    "PostgresRun",
    "PostgresRunReader",
    "PostgresRunWriter",
    "RunReader",
    "RunWriter",
    "create_writer",
    "export_parquet",
    "list_runs",
    "new_run_id",
    "open_reader",
    "reopen_writer",
    "resolve_run",
    "run_ref",
]
