"""The run store: one SQLite database per run, written append-only, read anywhere.

(Or, for a ``postgresql://`` URL, one schema per run in that database.) Both are
a :class:`StoreBackend` (:class:`SqliteStore`, :class:`PostgresStore`);
``store_backend`` picks one, and ``create_writer``/``open_reader`` go through it.

A backend's writer (a :class:`RunStoreWriter`: ``SqliteRunWriter``,
``PostgresRunWriter``) records a run step by step; its reader (a
:class:`RunTables`: ``SqliteRunReader``, ``PostgresRunReader``) reads it back as
DataFrames; ``resolve_run``/``list_runs`` find runs; ``export_parquet`` copies
tables out for other tools.
"""

from townsquare.store.backend import (
    create_writer,
    list_runs,
    open_reader,
    reopen_writer,
    resolve_run,
    run_ref,
    store_backend,
)
from townsquare.store.export import export_parquet
from townsquare.store.postgres import PostgresRun, PostgresRunReader, PostgresRunWriter
from townsquare.store.postgres.store import PostgresStore
from townsquare.store.protocols import RunStoreWriter, StoreBackend
from townsquare.store.reader import SqliteRunReader
from townsquare.store.schema import APPLICATION_ID, RUN_FILE, SCHEMA_VERSION, TABLES
from townsquare.store.sqlite import SqliteRunWriter, new_run_id
from townsquare.store.sqlite_store import SqliteStore
from townsquare.store.tables import RunTables

__all__ = [
    "APPLICATION_ID",
    "RUN_FILE",
    "SCHEMA_VERSION",
    "TABLES",
    "PostgresRun",
    "PostgresRunReader",
    "PostgresRunWriter",
    "PostgresStore",
    "RunStoreWriter",
    "RunTables",
    "SqliteRunReader",
    "SqliteRunWriter",
    "SqliteStore",
    "StoreBackend",
    "create_writer",
    "export_parquet",
    "list_runs",
    "new_run_id",
    "open_reader",
    "reopen_writer",
    "resolve_run",
    "run_ref",
    "store_backend",
]
