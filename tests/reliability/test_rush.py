"""The rush at the start of a clinic, through the use cases, on SQLite and PostgreSQL.

200 participants each submit 5 challenges at the same moment (and tap the button twice on their
first one); 50 participants race for a table's last seat; 50 facilitators' moves race for another.
What must hold: every challenge stored exactly once, no table or expert over capacity, no
"database is locked" (or any other error) reaching a participant.
"""

from __future__ import annotations

import csv
import random
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from clinic import facilitation, participants
from clinic.errors import Rejected
from store import challenges as challenge_store
from store.schema import assignments

EVENT = "wmcon2018"
PARTICIPANTS = 200
SUBMISSIONS_EACH = 5
RACERS = 50
DEV = Path(__file__).resolve().parents[2] / "data" / "dev"


def dev_challenges() -> list[tuple[str, str]]:
    """(text, language) of the held-out development set: real challenges in all six languages."""
    found = []
    for path in sorted(DEV.glob("*.csv")):
        with path.open(encoding="utf-8") as file:
            found += [(row["text"], row["language"]) for row in csv.DictReader(file)]
    return found


def rows_of(clinic, event_code: str) -> list[dict]:
    event = clinic.event(event_code)
    with clinic.engine.connect() as connection:
        return challenge_store.challenges_with_assignments(
            connection, event["id"], event["current_round"], statuses=challenge_store.ACTIVE_STATUSES
        )


def overfilled(clinic, event_code: str) -> tuple[list[int], list[str]]:
    """Tables and experts holding more people than their capacity, as the store counts them."""
    event = clinic.event(event_code)
    catalog = clinic.router(event).catalog_
    with clinic.engine.connect() as connection:
        tables, experts = challenge_store.occupancy(connection, event["id"], event["current_round"])
    capacity = {table.number: table.capacity for table in catalog.tables}
    return (
        [number for number, taken in tables.items() if taken > capacity[number]],
        [expert for expert, load in experts.items() if load > catalog.expert(expert).capacity],
    )


def is_lock_error(error: BaseException) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text or "could not serialize" in text or "deadlock" in text


def backend(clinic) -> str:
    return clinic.engine.dialect.name


def test_200_participants_submitting_5_challenges_each_at_once(clinic, figures, all_at_once):
    event = clinic.event(EVENT)
    catalog = clinic.router(event).catalog_  # fitted before the rush, as in a running app
    pool = dev_challenges()
    plan = []  # per participant: five (text, languages, submission key)
    for person in range(PARTICIPANTS):
        draw = random.Random(person)
        forms = []
        for n in range(SUBMISSIONS_EACH):
            text, language = draw.choice(pool)
            spoken = [language] + ([draw.choice(catalog.language_codes)] if draw.random() < 0.3 else [])
            forms.append((f"{text} [participant {person}, challenge {n}]", spoken, participants.new_submission_key()))
        plan.append(forms)

    def participant(person: int) -> list:
        outcomes = []
        for n, (text, spoken, key) in enumerate(plan[person]):
            try:
                answer = participants.submit_challenge(
                    clinic, EVENT, text, spoken, name=f"P{person}", submission_key=key
                )
                if n == 0:  # the first form is sent twice (a double tap on a phone)
                    again = participants.submit_challenge(
                        clinic, EVENT, text, spoken, name=f"P{person}", submission_key=key
                    )
                    assert again.ticket == answer.ticket
                outcomes.append(answer)
            except Exception as error:  # counted below, never allowed
                outcomes.append(error)
        return outcomes

    started = time.monotonic()
    outcomes = [outcome for per_person in all_at_once(PARTICIPANTS, participant) for outcome in per_person]
    seconds = time.monotonic() - started

    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    answers = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    stored = rows_of(clinic, EVENT)
    keys = Counter(row["submission_key"] for row in stored)
    expected_keys = {key for forms in plan for _, _, key in forms}
    duplicates = sum(count - 1 for count in keys.values()) + sum(
        1 for text, count in Counter(row["text"] for row in stored).items() if count > 1
    )
    tables_over, experts_over = overfilled(clinic, EVENT)
    with clinic.engine.connect() as connection:
        assignment_rows = connection.execute(select(func.count()).select_from(assignments)).scalar_one()
    figures.record(
        f"rush 200x5 [{backend(clinic)}]",
        submissions=PARTICIPANTS * SUBMISSIONS_EACH,
        sent_with_double_taps=PARTICIPANTS * (SUBMISSIONS_EACH + 1),
        stored=len(stored),
        duplicates=duplicates,
        lost=len(expected_keys - set(keys)),
        overfilled_tables=len(tables_over),
        overfilled_experts=len(experts_over),
        lock_errors=sum(1 for error in errors if is_lock_error(error)),
        other_errors=len(errors) - sum(1 for error in errors if is_lock_error(error)),
        seated=sum(answer.seated for answer in answers),
        triaged=sum(not answer.seated for answer in answers),
        seconds=round(seconds, 1),
    )

    assert errors == [], f"{len(errors)} participants saw an error, e.g. {errors[0]!r}"
    assert set(keys) == expected_keys and duplicates == 0, "every challenge stored exactly once"
    assert len(stored) == PARTICIPANTS * SUBMISSIONS_EACH == assignment_rows
    assert (tables_over, experts_over) == ([], [])
    # Each participant was told what the store holds: their own text, at the table the store has.
    by_ticket = {row["ticket"]: row for row in stored}
    assert len(by_ticket) == len(answers)
    for answer in answers:
        row = by_ticket[answer.ticket]
        assert (answer.text, answer.table, answer.expert_name is None) == (
            row["text"],
            row["table_number"],
            row["expert_id"] is None,
        )
        assert answer.seated == (row["status"] == challenge_store.STATUS_ASSIGNED)
    # The room was bigger than the seats: every seat is used, the rest wait for a facilitator.
    assert sum(answer.seated for answer in answers) <= sum(table.capacity for table in catalog.tables)
    assert all(answer.triage_reason for answer in answers if not answer.seated)


def test_50_participants_racing_for_the_last_seat(clinic, race_event, figures, all_at_once):
    """Table 1 (French) has one seat left: exactly one racer gets it; bilingual racers go to table 2
    (English), French-only ones to the facilitators' triage."""
    clinic.router(clinic.event(race_event.code))
    first, second = race_event.catalog.tables[0], race_event.catalog.tables[1]
    early = [
        participants.submit_challenge(clinic, race_event.code, f"{race_event.french_text} ({i})", ["fr"])
        for i in range(first.capacity - 1)
    ]
    assert [answer.table for answer in early] == [first.number] * (first.capacity - 1)

    bilingual = {i for i in range(RACERS) if i % 2 == 0}
    outcomes = all_at_once(
        RACERS,
        lambda i: participants.submit_challenge(
            clinic,
            race_event.code,
            f"{race_event.french_text} (racer {i})",
            ["fr", "en"] if i in bilingual else ["fr"],
            name=f"racer {i}",
        ),
    )

    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert errors == [], errors[:3]
    at_first = [i for i, answer in enumerate(outcomes) if answer.table == first.number]
    at_second = [i for i, answer in enumerate(outcomes) if answer.table == second.number]
    triaged = [i for i, answer in enumerate(outcomes) if not answer.seated]
    tables_over, experts_over = overfilled(clinic, race_event.code)
    figures.record(
        f"last seat race [{backend(clinic)}]",
        racers=RACERS,
        got_the_last_seat=len(at_first),
        other_table=len(at_second),
        triage=len(triaged),
        overfilled_tables=len(tables_over),
        lock_errors=sum(1 for error in errors if is_lock_error(error)),
    )

    assert len(at_first) == 1
    assert set(at_second) <= bilingual and all(outcomes[i].language == "en" for i in at_second)
    # Table 2 has room for every bilingual racer but the one who may have won table 1.
    assert len(at_second) == len(bilingual - set(at_first))
    assert set(triaged) == set(range(RACERS)) - bilingual - set(at_first)
    assert all(outcomes[i].triage_reason == "tables_full" for i in triaged)
    assert (tables_over, experts_over) == ([], [])
    assert len(rows_of(clinic, race_event.code)) == first.capacity - 1 + RACERS


def test_50_facilitator_moves_racing_for_the_last_seat(clinic, race_event, figures, all_at_once):
    """Facilitators on several laptops seat 50 waiting people at a table with one seat left: one
    move wins, the others are refused in words ("Table 3 is full") and nobody is left half-moved."""
    clinic.router(clinic.event(race_event.code))
    glam = race_event.catalog.tables[2]
    museum = "Comment convaincre le musée et la bibliothèque de partager leurs archives ?"
    for i in range(glam.capacity - 1):
        assert participants.submit_challenge(clinic, race_event.code, f"{museum} ({i})", ["fr"]).table == glam.number
    # Fifty people in triage (French only, table 1 full) wait for a facilitator.
    for i in range(race_event.catalog.tables[0].capacity):
        participants.submit_challenge(clinic, race_event.code, f"{race_event.french_text} ({i})", ["fr"])
    waiting = [
        participants.submit_challenge(clinic, race_event.code, f"{race_event.french_text} [{i}]", ["fr"])
        for i in range(50)
    ]
    assert not any(answer.seated for answer in waiting)
    seats = {
        row["ticket"]: row for row in rows_of(clinic, race_event.code) if row["ticket"] in {a.ticket for a in waiting}
    }

    def move(i: int) -> str:
        row = seats[waiting[i].ticket]
        try:
            facilitation.seat_at_table(clinic, race_event.code, row["id"], row["version"], glam.number, "facilitator")
        except Rejected as refused:
            return refused.code
        return "seated"

    outcomes = all_at_once(len(waiting), move)

    assert not [outcome for outcome in outcomes if isinstance(outcome, BaseException)], outcomes
    assert Counter(outcomes) == {"seated": 1, "cannot_seat": len(waiting) - 1}
    tables_over, experts_over = overfilled(clinic, race_event.code)
    assert (tables_over, experts_over) == ([], [])
    # The losers are still waiting where they were, in triage, with a route to seat them by hand.
    after = {row["ticket"]: row for row in rows_of(clinic, race_event.code)}
    winner = waiting[outcomes.index("seated")].ticket
    assert after[winner]["table_number"] == glam.number
    assert all(after[a.ticket]["table_number"] is None for a in waiting if a.ticket != winner)
    figures.record(
        f"facilitator last seat race [{backend(clinic)}]",
        moves=len(waiting),
        seated=outcomes.count("seated"),
        refused_in_words=outcomes.count("cannot_seat"),
        overfilled_tables=len(tables_over),
    )


def test_a_long_writer_makes_submissions_wait_not_fail(clinic, figures, all_at_once):
    """Another process (an organizer's import, a backup) holds the write lock for a second: the
    submissions made meanwhile wait for it and are stored; none sees "database is locked"."""
    clinic.router(clinic.event(EVENT))
    held = 1.5
    holder = clinic.engine.connect()
    holder.execution_options(peer_clinic_write=True)
    transaction = holder.begin()
    if backend(clinic) == "postgresql":
        holder.exec_driver_sql("LOCK TABLE challenges IN EXCLUSIVE MODE")
    else:  # BEGIN IMMEDIATE already holds SQLite's write lock; write something to be sure
        holder.exec_driver_sql("UPDATE events SET change_counter = change_counter")

    def release():
        time.sleep(held)
        transaction.commit()
        holder.close()

    started = time.monotonic()
    outcomes = all_at_once(21, lambda i: release() if i == 20 else participants.submit_challenge(
        clinic, EVENT, f"How do we find a sponsor for our photo contest? ({i})", ["en"]
    ))  # fmt: skip
    seconds = time.monotonic() - started

    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    figures.record(
        f"writer holding the lock {held}s [{backend(clinic)}]",
        submissions=20,
        stored=len(rows_of(clinic, EVENT)),
        lock_errors=sum(1 for error in errors if is_lock_error(error)),
        seconds=round(seconds, 1),
    )
    assert errors == [], errors[:3]
    assert len(rows_of(clinic, EVENT)) == 20
    assert seconds >= held  # they really waited for the lock


def test_lock_errors_beyond_the_retries_reach_the_caller_as_operational_errors(clinic, monkeypatch):
    """If the database stays locked past every retry, the use case raises OperationalError (which
    the participant page turns into "press the button again"), and stores nothing."""
    if backend(clinic) != "sqlite":
        pytest.skip("PostgreSQL waits for row locks without a timeout: there is no retry to exhaust")
    monkeypatch.setattr("store.engine.SQLITE_BUSY_TIMEOUT_MS", 50)
    clinic.engine.dispose()  # new connections take the short busy timeout
    clinic.router(clinic.event(EVENT))
    holder = clinic.engine.connect()
    holder.execution_options(peer_clinic_write=True)
    transaction = holder.begin()
    holder.exec_driver_sql("UPDATE events SET change_counter = change_counter")
    try:
        started = time.monotonic()
        try:
            participants.submit_challenge(clinic, EVENT, "How do we find a sponsor for our photo contest?", ["en"])
        except OperationalError as error:
            assert "locked" in str(error).lower()
        else:
            raise AssertionError("a submission went through while another connection held the write lock")
        assert time.monotonic() - started >= 0.05 * (1 + 2 + 4 + 8)  # it retried with backoff first
    finally:
        transaction.rollback()
        holder.close()
    assert rows_of(clinic, EVENT) == []
