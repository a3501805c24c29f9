"""One engine per process: SQLite file by default, PostgreSQL when a URL says so.

SQLite runs in WAL mode (readers never wait for the writer) and every write transaction starts
with `BEGIN IMMEDIATE`, so two participants taking the last seat queue for the write lock instead of
both reading "one seat left". PostgreSQL serialises the same decisions with `SELECT ... FOR UPDATE`
on the event row (see `store.queries.lock_event`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from store.schema import SCHEMA_VERSION, meta, metadata

DATABASE_URL_VARIABLE = "PEER_CLINIC_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///peer_clinic.db"
SQLITE_BUSY_TIMEOUT_MS = 15_000
WRITE_OPTION = "peer_clinic_write"
# A PostgreSQL server out of reach behind a network that drops packets: give up connecting after
# this long, so the participant is told to try again instead of waiting minutes for the OS to give up.
PG_CONNECT_TIMEOUT_S = 5
# How long a request waits for a free pooled connection. Streamlit runs every browser session's
# script in a thread of its own, so the rush at the start (200 people pressing at once, each write
# queueing for the event lock) can keep every pooled connection busy for longer than SQLAlchemy's
# default 30 s on a slow machine; a participant is better served by a slow answer than by an error.
POOL_TIMEOUT_S = 120
# Error messages (and so the server's log) never carry a statement's values: they are participants'
# words, tickets that open their challenges, and the generated staff passcodes.
HIDE_PARAMETERS = True

T = TypeVar("T")


class SchemaMismatch(RuntimeError):
    """The database was made by another version of Peer Clinic."""


def database_url() -> str:
    return os.environ.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL


def safe_url(url: str) -> str:
    """The URL without its password, for logs and screens."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        in_memory = make_url(url).database in (None, "", ":memory:")  # one connection per thread: no pool
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            hide_parameters=HIDE_PARAMETERS,
            **({} if in_memory else {"pool_timeout": POOL_TIMEOUT_S}),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            # Writers take the write lock at BEGIN, so read-then-write decisions queue instead of
            # failing; readers begin a plain (deferred) transaction and never wait in WAL mode.
            immediate = connection.get_execution_options().get(WRITE_OPTION, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args=connect_args,
        hide_parameters=HIDE_PARAMETERS,
    )


def create_schema(engine: Engine) -> None:
    """Create missing tables and stamp the schema version; refuse a database of another version."""
    metadata.create_all(engine)
    with engine.begin() as connection:
        found = connection.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        if found is None:
            connection.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
        elif int(found) != SCHEMA_VERSION:
            raise SchemaMismatch(f"The database has schema version {found}; this Peer Clinic needs {SCHEMA_VERSION}.")


def _is_transient(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return any(
        phrase in text
        for phrase in ("database is locked", "could not serialize", "deadlock detected", "database is busy")
    )


def in_transaction(engine: Engine, work: Callable[[Connection], T], attempts: int = 5) -> T:
    """Run `work` in one transaction, retrying with backoff when the database says "busy".

    The work must be safe to repeat: it runs again from the start after a rollback.
    """
    for attempt in range(attempts):
        try:
            with engine.connect() as connection:
                connection.execution_options(**{WRITE_OPTION: True})
                with connection.begin():
                    return work(connection)
        except OperationalError as error:
            if attempt == attempts - 1 or not _is_transient(error):
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")
