"""Opening connections to a PostgreSQL run store (psycopg 3, an optional dependency)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from townsquare.errors import StoreError
from townsquare.store.postgres.layout import REGISTRY, redact_url, scrub
from townsquare.store.schema import quote

if TYPE_CHECKING:
    import psycopg

INSTALL_HINT = "install it with: pip install 'townsquare[postgres]'"


def driver() -> type[psycopg.Connection]:
    """psycopg's connection class, or a StoreError saying how to install it."""
    try:
        import psycopg
    except ImportError:
        raise StoreError(f"a PostgreSQL store needs the psycopg package; {INSTALL_HINT}") from None
    return psycopg.Connection


def connect(url: str) -> psycopg.Connection:
    """An autocommit connection; errors name the database without its password."""
    connection = driver()
    try:
        return connection.connect(url, autocommit=True, application_name="townsquare")
    except Exception as exc:  # psycopg.Error, or a malformed URL
        message = scrub(str(exc), url).strip()
        raise StoreError(f"cannot connect to {redact_url(url)}: {message}") from None


def registry_name(conn: psycopg.Connection, url: str) -> str:
    """The qualified registry table, in the connection's default schema."""
    row = conn.execute("SELECT current_schema()").fetchone()
    if row is None or row[0] is None:
        raise StoreError(
            f"{redact_url(url)}: the connection has no schema in its search_path "
            f"to hold the {REGISTRY} table"
        )
    return f"{quote(row[0])}.{quote(REGISTRY)}"
