"""The database: its tables, its version stamp and its transactions."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.exc import OperationalError

from store.engine import SchemaMismatch, create_schema, in_transaction, make_engine, safe_url
from store.schema import SCHEMA_VERSION, events, meta, metadata


def test_create_schema_makes_every_table_and_stamps_the_version(engine):
    create_schema(engine)

    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        stamp = connection.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one()
    assert stamp == str(SCHEMA_VERSION)


def test_create_schema_again_keeps_the_data_and_one_stamp(engine):
    """Restarting the app must not wipe the clinic or stamp the version twice."""
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(insert(events).values(code="kept", title="Kept", created_at=func.now()))

    create_schema(engine)

    with engine.connect() as connection:
        assert connection.execute(select(events.c.code)).scalars().all() == ["kept"]
        assert connection.execute(select(func.count()).select_from(meta)).scalar_one() == 1


@pytest.mark.parametrize("other_version", [SCHEMA_VERSION + 1, SCHEMA_VERSION - 1])
def test_a_database_of_another_version_is_refused(engine, other_version):
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(other_version)))

    with pytest.raises(SchemaMismatch, match=f"version {other_version}.*needs {SCHEMA_VERSION}"):
        create_schema(engine)

    with engine.connect() as connection:  # refused, not "repaired"
        assert connection.execute(select(meta.c.value)).scalar_one() == str(other_version)


def test_in_transaction_applies_all_or_nothing(engine):
    create_schema(engine)

    def half_done(connection):
        connection.execute(insert(events).values(code="half", title="Half", created_at=func.now()))
        raise ValueError("the second half failed")

    with pytest.raises(ValueError, match="second half"):
        in_transaction(engine, half_done)

    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(events)).scalar_one() == 0


def _locked() -> OperationalError:
    return OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))


def test_in_transaction_retries_when_the_database_is_busy(engine):
    create_schema(engine)
    calls = []

    def work(connection):
        calls.append(1)
        if len(calls) < 3:
            raise _locked()
        connection.execute(insert(events).values(code="retried", title="Retried", created_at=func.now()))
        return "done"

    assert in_transaction(engine, work) == "done"
    assert len(calls) == 3
    with engine.connect() as connection:
        assert connection.execute(select(events.c.code)).scalars().all() == ["retried"]


def test_in_transaction_gives_up_after_its_attempts(engine):
    calls = []

    def always_busy(connection):
        calls.append(1)
        raise _locked()

    with pytest.raises(OperationalError, match="database is locked"):
        in_transaction(engine, always_busy, attempts=2)
    assert len(calls) == 2


def test_in_transaction_does_not_retry_other_errors(engine):
    calls = []

    def broken(connection):
        calls.append(1)
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: nowhere"))

    with pytest.raises(OperationalError, match="no such table"):
        in_transaction(engine, broken)
    assert len(calls) == 1


def test_postgresql_urls_use_psycopg_3():
    engine = make_engine("postgresql://clinic:secret@db.example.org:5432/clinic")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_safe_url_hides_the_password():
    shown = safe_url("postgresql://clinic:s3cret-pass@db.example.org/clinic")
    assert shown == "postgresql://clinic:***@db.example.org/clinic"


def test_sqlite_runs_in_wal_mode(tmp_path):
    """Readers (the board) never wait for a writer (a participant submitting)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
