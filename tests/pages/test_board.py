"""The facilitators' board page in AppTest: gate, tables, triage, one-click seating, rounds."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from clinic import access
from clinic import participants as P
from clinic.setup import Clinic
from pages._board_view import format_clock

CODE = "fac-code-1"


@pytest.fixture
def board(new_session, database, monkeypatch) -> AppTest:
    monkeypatch.setenv(access.environment_variable(access.ROLE_FACILITATOR), CODE)
    at = new_session()
    at.switch_page("pages/board.py")
    at.run()
    return at


def sign_in(at: AppTest) -> AppTest:
    at.text_input[0].input(CODE)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(element.value for element in at.markdown)


def texts(at: AppTest) -> list[str]:
    return [element.value for element in at.text]


def test_board_shows_only_the_passcode_form_without_a_passcode(board):
    assert "Table 1" not in markdown(board)
    assert [element.type for element in board.main if element.type == "metric"] == []
    assert len(board.text_input) == 1


def test_board_lists_every_table_and_the_seated_challenge(board, database):
    clinic = Clinic.open(database.url)
    answer = P.submit_challenge(clinic, "wmcon2018", "We need sponsors and a grant <b>now</b>", ["en"], "Amina")
    sign_in(board)
    shown = markdown(board)
    for number in range(1, 9):
        assert f"**Table {number}**" in shown
    assert "We need sponsors and a grant <b>now</b>" in texts(board)  # participant text shown literally
    assert [m.value for m in board.metric][:2] == ["1", "0"]
    assert answer.table == 1


def test_one_click_seats_a_triage_challenge(board, database):
    clinic = Clinic.open(database.url)
    waiting = P.submit_challenge(clinic, "wmcon2018", "ok then", ["en"])
    assert waiting.table is None
    sign_in(board)
    seat_button = next(b for b in board.button if b.label.startswith("Seat at table"))
    target = int(seat_button.label.split()[3])
    seat_button.click()
    board.run()
    assert not board.exception
    assert P.answer_for_ticket(clinic, waiting.ticket).table == target
    assert any(f"Seated at table {target}" in s.value for s in board.success)


def test_start_round_one_starts_the_clock(board, database):
    sign_in(board)
    board.button(key="start_clock").click()
    board.run()
    assert not board.exception
    assert "Start next round" in [b.label for b in board.button]


def test_format_clock():
    assert format_clock(None) == "–:–"
    assert format_clock(125) == "02:05"
    assert format_clock(-61) == "−01:01"
