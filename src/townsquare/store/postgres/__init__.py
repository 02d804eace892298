"""The PostgreSQL run store: for runs and sweeps that many processes write at once.

Select it with a ``postgresql://`` URL (the scenario's ``store`` field); each
run is a schema of its own and ``townsquare_runs`` lists them. Needs the
optional ``psycopg`` driver (``pip install 'townsquare[postgres]'``), imported
only when a connection is opened, so this package loads without it.
"""

from townsquare.store.postgres.layout import PostgresRun, is_store_url, redact_url, schema_name
from townsquare.store.postgres.reader import (
    PostgresRunReader,
    list_postgres_runs,
    resolve_postgres_run,
)
from townsquare.store.postgres.writer import PostgresRunWriter, drop_postgres_run

__all__ = [
    "PostgresRun",
    "PostgresRunReader",
    "PostgresRunWriter",
    "drop_postgres_run",
    "is_store_url",
    "list_postgres_runs",
    "redact_url",
    "resolve_postgres_run",
    "schema_name",
]
