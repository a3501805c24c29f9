"""What people type is data, never code: SQL metacharacters in every field are stored and shown
verbatim (SQLite and PostgreSQL), and spreadsheet exports never hand a typed formula to Excel.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, inspect, select

from clinic import access, documentation, facilitation, participants
from clinic.errors import Rejected
from store import challenges as challenge_store
from store.schema import audit_log, challenges, notes

EVENT = "wmcon2018"
SQL = [
    "'; DROP TABLE challenges; --",
    '" OR "1"="1',
    "' OR '1'='1' --",
    "Robert'); DELETE FROM assignments WHERE ('1'='1",
    "%' AND 1=0 UNION SELECT ticket, text FROM challenges --",
    "\\'; SELECT pg_sleep(5); --",
    "$$; COMMIT; DROP SCHEMA public CASCADE; $$",
    "_%_ \\% [a-z]* ^$ ?? :param @var",
]
ABOUT = " How do we find a sponsor for our photo contest?"  # so that each one is routed, not refused
FORMULAS = [
    '=HYPERLINK("http://evil.example","Click")',
    "+41 22 123 45 67",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
]
TRIGGERS = documentation.FORMULA_TRIGGERS


def table_counts(clinic) -> dict[str, int]:
    names = inspect(clinic.engine).get_table_names()
    with clinic.engine.connect() as connection:
        return {
            name: connection.exec_driver_sql(f'SELECT COUNT(*) FROM "{name}"').scalar_one()  # names from the schema
            for name in names
        }


@pytest.mark.parametrize("payload", SQL)
def test_sql_metacharacters_in_a_challenge_and_a_name_are_stored_and_shown_verbatim(clinic, payload):
    before = table_counts(clinic)
    answer = participants.submit_challenge(clinic, EVENT, payload + ABOUT, ["en"], name=payload)

    assert answer.text == payload + ABOUT and answer.participant_name == payload
    assert participants.answer_for_ticket(clinic, answer.ticket).text == payload + ABOUT
    board = facilitation.board_snapshot(clinic, EVENT)
    seats = [seat for table in board.tables for seat in table.seats] + list(board.triage)
    assert [(seat.text, seat.participant_name) for seat in seats] == [(payload + ABOUT, payload)]
    after = table_counts(clinic)
    assert set(after) == set(before), "no table was dropped or created"
    assert after["challenges"] == before["challenges"] + 1 and after["assignments"] == before["assignments"] + 1

    edited = participants.edit_challenge(clinic, answer.ticket, f"Edited: {payload}{ABOUT}", ["en"])
    assert edited.text == f"Edited: {payload}{ABOUT}"


@pytest.mark.parametrize("payload", SQL)
def test_sql_metacharacters_in_lookups_find_nothing_and_break_nothing(clinic, payload):
    participants.submit_challenge(clinic, EVENT, "Who else?" + ABOUT, ["en"])
    before = table_counts(clinic)

    for lookup in (participants.answer_for_ticket, participants.withdraw_challenge):
        with pytest.raises(Rejected) as refused:
            lookup(clinic, payload)
        assert refused.value.code == "unknown_ticket"
    with pytest.raises(Rejected) as refused:
        participants.submit_challenge(clinic, payload, "A challenge" + ABOUT, ["en"])
    assert refused.value.code == "unknown_event"
    with pytest.raises(Rejected):
        participants.submit_challenge(clinic, EVENT, "A challenge" + ABOUT, [payload])
    assert clinic.event(payload) is None
    assert access.attempt_sign_in(clinic.engine, access.ROLE_FACILITATOR, payload).role is None

    after = table_counts(clinic)
    assert after["challenges"] == before["challenges"]
    with clinic.engine.connect() as connection:  # the failed sign-in is audited without what was typed
        details = [str(row) for row in connection.execute(select(audit_log))]
    assert not any(payload in detail for detail in details)


def test_sql_metacharacters_in_staff_fields_are_stored_verbatim(clinic):
    answer = participants.submit_challenge(clinic, EVENT, "Our museum wants a contract." + ABOUT, ["en"])
    board = facilitation.board_snapshot(clinic, EVENT)
    seats = [*board.triage, *(seat for table in board.tables for seat in table.seats)]
    [row] = [seat for seat in seats if seat.ticket == answer.ticket]
    for payload in SQL:
        facilitation.add_note(clinic, EVENT, payload, "facilitator", "suggestion", row.challenge_id, None)
    target = 2 if row.table != 2 else 3
    facilitation.seat_at_table(clinic, EVENT, row.challenge_id, row.version, target, "facilitator", SQL[0])

    with clinic.engine.connect() as connection:
        stored_notes = [r.text for r in connection.execute(select(notes.c.text).order_by(notes.c.id))]
        moves = [r.detail for r in connection.execute(select(audit_log).where(audit_log.c.action == "seat"))]
        assert connection.execute(select(func.count()).select_from(challenges)).scalar_one() == 1
    assert stored_notes == SQL
    assert moves and moves[-1]["override"] == SQL[0]
    assert [note["text"] for note in facilitation.board_snapshot(clinic, EVENT).notes] == SQL


# --- Spreadsheet exports -----------------------------------------------------------------------


@pytest.fixture
def formulas_everywhere(clinic) -> list[str]:
    """Challenges, names and notes that start with what a spreadsheet runs; returns what was typed."""
    typed = []
    for n, formula in enumerate(FORMULAS):
        answer = participants.submit_challenge(clinic, EVENT, formula + ABOUT, ["en"], name=formula)
        with clinic.engine.connect() as connection:
            challenge = challenge_store.challenge_by_ticket(connection, answer.ticket)
        facilitation.add_note(clinic, EVENT, formula, "facilitator", ("question", "suggestion")[n % 2], challenge["id"])
        typed += [formula + ABOUT, formula]
    return typed


def cells_of_csv_zip(data: bytes) -> list[str]:
    cells = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8-sig")
            cells += [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    return cells


def test_csv_export_never_starts_a_cell_with_a_formula(clinic, formulas_everywhere):
    cells = cells_of_csv_zip(documentation.to_csv(documentation.event_sheets(clinic, EVENT)))

    assert [cell for cell in cells if cell.startswith(TRIGGERS)] == []
    # What was typed is all there, behind the quote that makes it text.
    stored = {cell.removeprefix("'") for cell in cells}
    assert {typed.lstrip("\t\r") for typed in formulas_everywhere} <= stored
    assert any(cell.startswith("'=") for cell in cells)


def test_xlsx_export_holds_no_formula_cell(clinic, formulas_everywhere):
    workbook = load_workbook(io.BytesIO(documentation.to_xlsx(documentation.event_sheets(clinic, EVENT))))

    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert [text for text in texts if text.startswith(TRIGGERS)] == []
    assert {typed.lstrip("\t\r") for typed in formulas_everywhere} <= {text.removeprefix("'") for text in texts}
