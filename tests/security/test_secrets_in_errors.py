"""Database errors, which end up in the server's log, never carry the values of the statement that
failed: participants' words, the tickets that open their challenges, generated passcodes.

(PostgreSQL's own error DETAIL still names the value of a violated unique key, e.g. a ticket drawn
twice: about one chance in 10^12 per submission.)"""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from store import catalog as catalog_store
from store import meta as meta_store
from store.catalog import now
from store.engine import create_schema, make_engine, safe_url
from store.schema import challenges

SECRET_TEXT = "A private worry about our funder, typed by a participant"
TICKET = "K7PQ2XWZ"


def test_a_failed_insert_says_what_failed_without_the_values(database_url):
    engine = make_engine(database_url)
    create_schema(engine)
    try:
        with engine.begin() as connection:
            event_id = catalog_store.create_event(connection, {"code": "e", "title": "E"})
        row = {
            "event_id": event_id, "ticket": TICKET, "submission_key": "k" * 32, "text": SECRET_TEXT,
            "created_at": now(), "updated_at": now(),
        }  # fmt: skip
        with engine.begin() as connection:
            connection.execute(insert(challenges).values(**row))
        with pytest.raises(DBAPIError) as failed, engine.begin() as connection:
            connection.execute(insert(challenges).values(**row))  # the same ticket again: refused

        message = str(failed.value)
        assert "INSERT INTO challenges" in message  # still says what failed
        assert "parameters hidden" in message and SECRET_TEXT not in message
        if engine.dialect.name == "sqlite":  # PostgreSQL's own DETAIL line names the duplicate key's value
            assert TICKET not in message
    finally:
        engine.dispose()


def test_a_failed_passcode_write_does_not_print_the_passcode(database_url):
    engine = make_engine(database_url)
    try:  # no schema: the write fails
        with pytest.raises(DBAPIError) as failed, engine.begin() as connection:
            meta_store.add_value_once(connection, "passcode_facilitator", "ABCDE-FGHJK")
        assert "ABCDE-FGHJK" not in str(failed.value)
    finally:
        engine.dispose()


def test_database_urls_are_shown_without_their_password():
    shown = safe_url("postgresql://clinic:s3cret-pw@db.example:5432/peerclinic")
    assert "s3cret-pw" not in shown and "db.example" in shown
