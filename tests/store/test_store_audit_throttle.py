"""The audit-log queries behind the passcode throttle (store.challenges), on SQLite and PostgreSQL:
what is counted, from when, and that two sign-ins from one client take turns."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from store import challenges as challenge_store
from store.engine import create_schema
from store.schema import audit_log

NINE = datetime(2018, 4, 20, 9, 0, tzinfo=UTC)
GUESSER = "client:203.0.113.7"
FACILITATOR = "client:198.51.100.23"


@pytest.fixture
def db(engine):
    create_schema(engine)
    return engine


def add_entries(db, *entries: tuple[str, str, datetime]) -> None:
    """Audit rows (target, action, at), written in this order."""
    with db.begin() as connection:
        for target, action, at in entries:
            connection.execute(insert(audit_log).values(at=at, role="facilitator", action=action, target=target))


def failures(db, target: str, since: datetime) -> tuple[int, datetime | None]:
    with db.connect() as connection:
        return challenge_store.failures_since_success(connection, target, "login_failed", "login", since)


def at(seconds: float) -> datetime:
    return NINE + timedelta(seconds=seconds)


def test_nothing_on_record_counts_nothing(db):
    assert failures(db, GUESSER, NINE) == (0, None)


def test_counts_the_targets_failures_since_its_last_success_and_says_when_the_latest_was(db):
    add_entries(
        db,
        (GUESSER, "login_failed", at(1)),
        (GUESSER, "login", at(2)),  # what came before this no longer counts
        (GUESSER, "login_failed", at(3)),
        (FACILITATOR, "login_failed", at(4)),  # another client's
        (GUESSER, "logout", at(5)),  # neither a failure nor a sign-in
        (GUESSER, "login_failed", at(6.25)),
        (FACILITATOR, "login", at(7)),  # another client's success starts nothing over here
    )

    assert failures(db, GUESSER, NINE) == (2, at(6.25))
    assert failures(db, FACILITATOR, NINE) == (0, None)


def test_only_failures_since_the_window_began_count(db):
    add_entries(db, *[(GUESSER, "login_failed", at(second)) for second in (0, 60, 120, 180)])

    assert failures(db, GUESSER, at(60)) == (3, at(180))
    assert failures(db, GUESSER, at(181)) == (0, None)


def test_the_latest_failure_comes_back_in_utc_whatever_zone_since_is_given_in(db):
    """`at` is written in UTC; SQLite keeps it as text without a zone, PostgreSQL as timestamptz.
    Either way the window's start compares as the same instant, and the answer is an aware UTC time."""
    add_entries(db, (GUESSER, "login_failed", at(30)), (GUESSER, "login_failed", at(90)))
    paris = timezone(timedelta(hours=2))

    count, latest = failures(db, GUESSER, at(60).astimezone(paris))  # 11:01 in Paris is 09:01 UTC

    assert count == 1
    assert latest == at(90) and latest.utcoffset() == timedelta(0)


def test_a_failure_in_the_same_microsecond_as_the_success_after_it_is_forgotten(db):
    """Order goes by the order rows were written, not by their (possibly equal) times."""
    add_entries(db, (GUESSER, "login_failed", at(1)), (GUESSER, "login", at(1)))
    assert failures(db, GUESSER, NINE) == (0, None)
    add_entries(db, (GUESSER, "login_failed", at(1)))
    assert failures(db, GUESSER, NINE) == (1, at(1))


def test_two_transactions_locking_one_target_take_turns_and_other_targets_do_not_wait(db):
    if db.dialect.name != "postgresql":
        pytest.skip("on SQLite, BEGIN IMMEDIATE already makes writers take turns; the lock adds nothing")
    events: list[str] = []
    held = threading.Event()

    def first():
        with db.begin() as connection:
            challenge_store.lock_audit_target(connection, GUESSER)
            held.set()
            time.sleep(0.5)
            events.append("first commits")

    holder = threading.Thread(target=first)
    holder.start()
    held.wait(5)
    with db.begin() as connection:
        challenge_store.lock_audit_target(connection, FACILITATOR)  # another client: no waiting
        events.append("other target locked")
    with db.begin() as connection:
        challenge_store.lock_audit_target(connection, GUESSER)
        events.append("second locked")
    holder.join()

    assert events == ["other target locked", "first commits", "second locked"]
