"""Facilitators' use cases: the board snapshot, seating, moving, locking, rounds, notes, audit."""

import pytest

from clinic import facilitation as F
from clinic import participants as P
from clinic.errors import Rejected
from store import challenges as challenge_store

EVENT = "wmcon2018"
ROLE = "facilitator"


def submit(clinic, text, languages=("en",), name=""):
    return P.submit_challenge(clinic, EVENT, text, list(languages), name)


def seat_of(board, ticket):
    for table in board.tables:
        for seat in table.seats:
            if seat.ticket == ticket:
                return table.number, seat
    for seat in board.triage:
        if seat.ticket == ticket:
            return None, seat
    raise AssertionError(f"{ticket} not on the board")


def audit_actions(clinic):
    event = clinic.default_event()
    with clinic.engine.connect() as connection:
        return [entry["action"] for entry in challenge_store.audit_entries(connection, event["id"])]


def test_board_shows_every_active_challenge_once_with_counters(clinic):
    grant = submit(clinic, "We need sponsors and a grant for our edit-a-thons", name="Amina")
    unsure = submit(clinic, "ok then")
    gone = submit(clinic, "How do we sign an MOU contract with the ministry?")
    P.withdraw_challenge(clinic, gone.ticket)
    board = F.board_snapshot(clinic, EVENT)
    assert board.seated == 1 and board.waiting == 1 and board.withdrawn == 1
    table, seat = seat_of(board, grant.ticket)
    assert table == grant.table and seat.participant_name == "Amina" and seat.language == "en"
    assert seat_of(board, unsure.ticket)[0] is None
    tickets = [s.ticket for t in board.tables for s in t.seats] + [s.ticket for s in board.triage]
    assert gone.ticket not in tickets and len(tickets) == len(set(tickets))
    assert board.per_topic == {"grants": 1, seat_of(board, unsure.ticket)[1].topic: 1} or board.per_topic


def test_change_marker_moves_with_every_write(clinic):
    event = clinic.default_event()
    before = F.change_marker(clinic, event["id"])
    submit(clinic, "We need sponsors and a grant")
    after = F.change_marker(clinic, event["id"])
    assert after != before
    assert F.change_marker(clinic, event["id"]) == after  # reading changes nothing


def test_seat_from_triage_checks_language_and_allows_override_with_reason(clinic):
    answer = submit(clinic, "איך נמצא תורמים ומממנים לפרויקט שלנו?", languages=("he",))
    _, seat = seat_of(F.board_snapshot(clinic, EVENT), answer.ticket)
    assert seat.triage_reason == "no_shared_language"
    with pytest.raises(Rejected, match="Nobody at table 1 speaks he"):
        F.seat_at_table(clinic, EVENT, seat.challenge_id, seat.version, 1, ROLE)
    F.seat_at_table(clinic, EVENT, seat.challenge_id, seat.version, 1, ROLE, override_reason="speaks some English")
    table, seat = seat_of(F.board_snapshot(clinic, EVENT), answer.ticket)
    assert table == 1 and seat.method == "manual"
    assert P.answer_for_ticket(clinic, answer.ticket).table == 1
    assert "seat" in audit_actions(clinic)


def test_move_refuses_a_full_table(clinic):
    event = clinic.default_event()
    texts = [f"We need a grant and sponsors for workshop number {i}" for i in range(8)]
    for text in texts:
        submit(clinic, text)
    mover = submit(clinic, "How do we convince the national museum to host a Wikipedian in Residence?")
    board = F.board_snapshot(clinic, EVENT)
    assert next(t for t in board.tables if t.number == 1).full
    _, seat = seat_of(board, mover.ticket)
    with pytest.raises(Rejected, match=r"Table 1 is full \(8/8 seats\)"):
        F.seat_at_table(clinic, EVENT, seat.challenge_id, seat.version, 1, ROLE)
    with clinic.engine.connect() as connection:
        tables, _ = challenge_store.occupancy(connection, event["id"], 1)
    assert tables[1] == 8


def test_two_facilitators_on_the_same_challenge_first_one_wins(clinic):
    answer = submit(clinic, "We need sponsors and a grant")
    _, seen = seat_of(F.board_snapshot(clinic, EVENT), answer.ticket)
    F.seat_at_table(clinic, EVENT, seen.challenge_id, seen.version, 3, ROLE)
    with pytest.raises(Rejected) as refused:
        F.seat_at_table(clinic, EVENT, seen.challenge_id, seen.version, 2, ROLE)
    assert refused.value.code == "stale"
    assert seat_of(F.board_snapshot(clinic, EVENT), answer.ticket)[0] == 3


def test_done_and_withdraw_free_the_seat_and_are_audited(clinic):
    first = submit(clinic, "We need sponsors and a grant")
    second = submit(clinic, "Looking for a grant to pay for travel")
    board = F.board_snapshot(clinic, EVENT)
    _, a = seat_of(board, first.ticket)
    _, b = seat_of(board, second.ticket)
    F.set_status(clinic, EVENT, a.challenge_id, a.version, "done", ROLE)
    F.set_status(clinic, EVENT, b.challenge_id, b.version, "withdrawn", ROLE)
    board = F.board_snapshot(clinic, EVENT)
    assert board.seated == 0 and board.done == 1 and board.withdrawn == 1
    assert P.answer_for_ticket(clinic, first.ticket).status == "done"
    assert {"done", "withdrawn"} <= set(audit_actions(clinic))
    with pytest.raises(Rejected):
        F.set_status(clinic, EVENT, a.challenge_id, a.version + 1, "assigned", ROLE)


def test_next_round_keeps_locked_drops_done_and_never_repeats_a_table(clinic):
    locked = submit(clinic, "We need sponsors and a grant for our budget")
    moving = submit(clinic, "Our grant money ends: how do we find new sponsors?")
    finished = submit(clinic, "Looking for a grant to pay for travel")
    board = F.board_snapshot(clinic, EVENT)
    _, lock_seat = seat_of(board, locked.ticket)
    F.set_locked(clinic, EVENT, lock_seat.challenge_id, lock_seat.version, True, ROLE)
    _, done_seat = seat_of(board, finished.ticket)
    F.set_status(clinic, EVENT, done_seat.challenge_id, done_seat.version, "done", ROLE)
    first_table = seat_of(board, moving.ticket)[0]

    result = F.start_next_round(clinic, EVENT, ROLE)

    board = F.board_snapshot(clinic, EVENT)
    assert board.round == 2 and result["round"] == 2 and result["kept"] == 1
    assert seat_of(board, locked.ticket)[0] == locked.table and seat_of(board, locked.ticket)[1].locked
    assert seat_of(board, moving.ticket)[0] != first_table
    assert board.done == 1 and finished.ticket not in [s.ticket for t in board.tables for s in t.seats]
    assert board.seconds_left is not None and board.seconds_left > 0
    assert "start_round" in audit_actions(clinic)


def test_locked_table_takes_nobody_automatically(clinic):
    F.lock_table(clinic, EVENT, 1, True, ROLE)
    answer = submit(clinic, "We need sponsors and a grant for our budget")
    assert answer.table is None and answer.triage_reason == "tables_full"
    F.lock_table(clinic, EVENT, 1, False, ROLE)
    assert submit(clinic, "Another grant and sponsor question").table == 1


def test_notes_are_stored_verbatim_and_shown_on_the_board(clinic):
    answer = submit(clinic, "How do we approach radio and TV stations to promote Wikipedia?")
    _, seat = seat_of(F.board_snapshot(clinic, EVENT), answer.ticket)
    F.add_note(
        clinic, EVENT, "Suggest a quiz <b>competition</b> for listeners", ROLE, "suggestion", seat.challenge_id, 2
    )
    with pytest.raises(Rejected):
        F.add_note(clinic, EVENT, "   ", ROLE)
    (note,) = F.board_snapshot(clinic, EVENT).notes
    assert (
        note["text"] == "Suggest a quiz <b>competition</b> for listeners" and note["challenge_id"] == seat.challenge_id
    )


def test_start_clock_starts_the_first_round_without_moving_anyone(clinic):
    answer = submit(clinic, "We need sponsors and a grant")
    assert F.board_snapshot(clinic, EVENT).seconds_left is None
    F.start_clock(clinic, EVENT, ROLE)
    board = F.board_snapshot(clinic, EVENT)
    assert board.round == 1 and 0 < board.seconds_left <= 35 * 60
    assert seat_of(board, answer.ticket)[0] == answer.table


def test_optimise_round_keeps_locked_seats_and_names_the_shortage(clinic):
    for i in range(8):
        submit(clinic, f"We need a grant and sponsors for workshop {i}", languages=("en", "fr"))
    overflow = submit(clinic, "Our sponsor wants its logo everywhere: how much money is fair?", languages=("en", "fr"))
    assert overflow.triage_reason == "tables_full"
    board = F.board_snapshot(clinic, EVENT)
    _, locked = seat_of(board, board.tables[0].seats[0].ticket)
    F.set_locked(clinic, EVENT, locked.challenge_id, locked.version, True, ROLE)

    plan = F.plan_round(clinic, EVENT)
    # Nine grant questions, eight grant seats: the plan keeps the locked one, seats the eight best
    # fits and names the knob to turn.
    assert plan.seated == 8 and plan.triaged == 1
    assert all(move.challenge != locked.challenge_id for move in plan.moves)
    assert any("raise table 1's capacity" in diagnosis for diagnosis in plan.diagnoses)
    assert F.apply_round_plan(clinic, EVENT, plan, ROLE) == len(plan.moves)

    board = F.board_snapshot(clinic, EVENT)
    assert board.seated == 8 and board.waiting == 1
    assert locked.challenge_id in [seat.challenge_id for seat in board.tables[0].seats]
    assert all(table.used <= table.capacity for table in board.tables)
    assert "optimise_round" in audit_actions(clinic)


def test_optimise_refuses_a_stale_preview_and_leaves_low_confidence_in_triage(clinic):
    unsure = submit(clinic, "ok then")
    plan = F.plan_round(clinic, EVENT)
    submit(clinic, "Looking for a grant to pay for travel")
    with pytest.raises(Rejected) as refused:
        F.apply_round_plan(clinic, EVENT, plan, ROLE)
    assert refused.value.code == "stale"
    plan = F.plan_round(clinic, EVENT)
    F.apply_round_plan(clinic, EVENT, plan, ROLE)
    assert P.answer_for_ticket(clinic, unsure.ticket).table is None


def test_optimise_seats_similar_challenges_together_when_it_costs_nothing(clinic):
    from dataclasses import replace

    from clinic import catalog_io
    from matching.catalog import Table

    event = clinic.default_event()
    catalog = clinic.router(event).catalog_
    experts = tuple(replace(e, table=9) if e.id == "georgina-fields" else e for e in catalog.experts)
    second_grants = replace(catalog, tables=catalog.tables + (Table(9, "grants", 8),), experts=experts)
    catalog_io.save_catalog_edit(clinic, EVENT, second_grants, "organizer")
    answers = [submit(clinic, f"We need a grant and sponsors for our budget, part {i}") for i in range(4)]
    board = F.board_snapshot(clinic, EVENT)
    tables = {seat_of(board, a.ticket)[1].challenge_id: seat_of(board, a.ticket)[0] for a in answers}
    assert set(tables.values()) == {1, 9}  # the router spread them over both grants tables
    ids = sorted(tables)
    pair = next((a, b) for a in ids for b in ids if a < b and tables[a] != tables[b])
    plan = F.plan_round(clinic, EVENT, groups=[set(pair)])
    F.apply_round_plan(clinic, EVENT, plan, ROLE, groups=[set(pair)])
    board = F.board_snapshot(clinic, EVENT)
    after = {seat.challenge_id: table.number for table in board.tables for seat in table.seats}
    assert after[pair[0]] == after[pair[1]]
