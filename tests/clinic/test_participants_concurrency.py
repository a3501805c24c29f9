"""Many participants at once: no table over capacity, every challenge stored once, no errors."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from clinic import participants
from clinic.errors import Rejected
from store import challenges as challenge_store
from store.schema import challenges

EVENT = "wmcon2018"
GRANTS_EN = "How do we find sponsors and donors to fund our photo contest? Which grant should we apply for?"
PARTICIPANTS = 30


def all_at_once(count: int, work):
    """Run work(i) in `count` threads released together; every result, or the first error raised."""
    start = threading.Barrier(count)

    def run(i):
        start.wait(timeout=30)
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def occupancy(clinic):
    event = clinic.event(EVENT)
    with clinic.engine.connect() as connection:
        return challenge_store.occupancy(connection, event["id"], event["current_round"])


def stored(clinic):
    with clinic.engine.connect() as connection:
        return [dict(r) for r in connection.execute(select(challenges)).mappings()]


def test_many_participants_racing_for_the_last_seat(clinic):
    catalog = clinic.router(clinic.event(EVENT)).catalog_  # fitted before the rush, as in a running app
    table = next(t for t in catalog.tables if t.topic == "grants")
    early = [participants.submit_challenge(clinic, EVENT, GRANTS_EN, ["en"]) for _ in range(table.capacity - 1)]
    assert {a.table for a in early} == {table.number}  # one seat left

    keys = [participants.new_submission_key() for _ in range(PARTICIPANTS)]
    answers = all_at_once(
        PARTICIPANTS,
        lambda i: participants.submit_challenge(
            clinic, EVENT, f"{GRANTS_EN} (participant {i})", ["en"], name=f"P{i}", submission_key=keys[i]
        ),
    )

    at_table = [a for a in answers if a.table == table.number]
    assert len(at_table) == 1
    assert all(a.triage_reason == "tables_full" and not a.seated for a in answers if a not in at_table)
    tables, experts = occupancy(clinic)
    assert tables[table.number] == table.capacity
    capacity = {t.number: t.capacity for t in catalog.tables}
    assert all(taken <= capacity[number] for number, taken in tables.items())
    assert all(load <= catalog.expert(expert).capacity for expert, load in experts.items())
    rows = stored(clinic)
    assert len(rows) == table.capacity - 1 + PARTICIPANTS
    assert sorted(r["submission_key"] for r in rows if r["participant_name"]) == sorted(keys)
    assert len({a.ticket for a in answers}) == PARTICIPANTS
    # Each participant's answer is their own challenge.
    assert all(a.participant_name == f"P{i}" for i, a in enumerate(answers))


def test_many_participants_at_once_fill_tables_without_overfilling_them(clinic):
    """A whole room submits in the same second: every seat is used once, the rest wait in triage."""
    catalog = clinic.router(clinic.event(EVENT)).catalog_
    texts = {
        "grants": GRANTS_EN,
        "formalities": "How do we write a memorandum of understanding and a contract with licence clauses?",
        "data": "We want to donate a dataset of open government data to Wikidata with a batch upload.",
    }
    answers = all_at_once(
        PARTICIPANTS, lambda i: participants.submit_challenge(clinic, EVENT, list(texts.values())[i % 3], ["en"])
    )

    tables, _ = occupancy(clinic)
    for number, taken in tables.items():
        assert taken <= next(t.capacity for t in catalog.tables if t.number == number)
    assert sum(a.seated for a in answers) == sum(tables.values())
    seated_per_table = {}
    for answer in answers:
        if answer.seated:
            seated_per_table[answer.table] = seated_per_table.get(answer.table, 0) + 1
    assert seated_per_table == tables
    assert len(stored(clinic)) == PARTICIPANTS


def test_a_form_sent_several_times_at_once_is_stored_once(clinic):
    """A participant on a shaky connection taps Submit repeatedly: one challenge, one seat, one ticket."""
    clinic.router(clinic.event(EVENT))
    key = participants.new_submission_key()
    answers = all_at_once(
        8, lambda i: participants.submit_challenge(clinic, EVENT, GRANTS_EN, ["en"], submission_key=key)
    )

    assert len({a.ticket for a in answers}) == 1
    assert len(stored(clinic)) == 1
    assert sum(occupancy(clinic)[0].values()) == 1


def test_withdrawing_while_editing_on_another_device_stays_withdrawn(clinic):
    """Edit on the laptop, withdraw on the phone, at the same moment: the withdrawal holds.

    Every withdraw is told "withdrawn", so the challenge must end withdrawn and seatless; an edit
    that comes after it is refused as `not_editable`, never an error and never a resurrection.
    """
    edited = "How do we write a memorandum of understanding and a contract with licence clauses?"
    for attempt in range(3):  # each attempt is a fresh race on a fresh challenge
        ticket = participants.submit_challenge(clinic, EVENT, GRANTS_EN, ["en"]).ticket

        def act(i, ticket=ticket):
            try:
                if i % 2:
                    return participants.withdraw_challenge(clinic, ticket).status
                return participants.edit_challenge(clinic, ticket, edited, ["en"]).status
            except Rejected as error:
                return error.code

        outcomes = all_at_once(10, act)

        assert set(outcomes[1::2]) == {challenge_store.STATUS_WITHDRAWN}
        assert set(outcomes[0::2]) <= {challenge_store.STATUS_ASSIGNED, "not_editable"}
        final = participants.answer_for_ticket(clinic, ticket)
        assert final.status == challenge_store.STATUS_WITHDRAWN, f"attempt {attempt}: withdrawn, then revived"
        assert sum(occupancy(clinic)[0].values()) == 0
