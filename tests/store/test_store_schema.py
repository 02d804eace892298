"""Schema declarations and the meta value encoding."""

from __future__ import annotations

import sqlite3

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare.store.schema import (
    SCHEMA,
    TABLES,
    decode_meta,
    encode_meta,
    quote,
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=50, deadline=None)
@given(value=JSON)
def test_meta_values_round_trip_exactly(value: object) -> None:
    assert decode_meta(encode_meta(value)) == value


def test_plain_strings_stay_readable_and_json_lookalikes_are_quoted() -> None:
    assert encode_meta("running") == "running"
    assert encode_meta("seed = 1\n[population]\n") == "seed = 1\n[population]\n"
    assert encode_meta("1") == '"1"'
    assert decode_meta(encode_meta("null")) == "null"
    assert encode_meta(["a", "b"]) == '["a", "b"]'
    assert encode_meta(np.int64(7)) == "7"
    assert decode_meta(encode_meta(np.arange(3))) == [0, 1, 2]


def test_every_table_and_index_is_valid_sql() -> None:
    conn = sqlite3.connect(":memory:")
    for table in TABLES:
        conn.execute(table.ddl())
        for ddl in table.index_ddl():
            conn.execute(ddl)
        info = conn.execute(f"PRAGMA table_info({quote(table.name)})").fetchall()
        assert [row[1] for row in info] == list(table.column_names)
        if table.per_step:
            assert "step" in table.required
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "posts_root" in names
    # rows arrive in step order: no step index on the append-only tables (the rewind
    # bisects their rowid), and snapshot tables are their own (step, ...) index
    assert not {"events_step", "posts_step", "state_step", "attitudes_step"} & names
    for name in ("state", "attitudes", "beliefs", "exposures"):
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        assert sql.endswith("WITHOUT ROWID") and SCHEMA[name].key[0] == "step"
    assert SCHEMA["agents"].columns[-1].default == "'heuristic'"


def test_quote_escapes_identifiers() -> None:
    conn = sqlite3.connect(":memory:")
    name = 'interest_"odd" topic'
    conn.execute(f"CREATE TABLE t ({quote(name)} REAL)")
    assert conn.execute("PRAGMA table_info(t)").fetchone()[1] == name
