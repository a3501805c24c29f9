"""Process-independent settings of the database itself (the `meta` table): key → text.

Every server process on the same database reads the same values, so a value made by the first
process to start (a generated passcode) is the one all of them use.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store.schema import meta


def read_value(connection: Connection, key: str) -> str | None:
    return connection.execute(select(meta.c.value).where(meta.c.key == key)).scalar()


def add_value_once(connection: Connection, key: str, value: str) -> str:
    """Store `value` under `key` unless a value is there already; return the value that is stored.

    Two processes starting together both propose a value and both get the one that won: SQLite
    serialises the writers (BEGIN IMMEDIATE); PostgreSQL keeps the first row (ON CONFLICT DO NOTHING).
    """
    dialect = connection.dialect.name
    if dialect in ("postgresql", "sqlite"):
        dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        connection.execute(dialect_insert(meta).values(key=key, value=value).on_conflict_do_nothing())
    elif read_value(connection, key) is None:
        connection.execute(insert(meta).values(key=key, value=value))
    stored = read_value(connection, key)
    assert stored is not None
    return stored
