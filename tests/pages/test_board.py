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
    assert "seated" not in markdown(board)
    assert len(board.text_input) == 1


def test_board_lists_every_table_and_the_seated_challenge(board, database):
    clinic = Clinic.open(database.url)
    answer = P.submit_challenge(clinic, "wmcon2018", "We need sponsors and a grant <b>now</b>", ["en"], "Amina")
    sign_in(board)
    shown = markdown(board)
    for number in range(1, 9):
        assert f"**Table {number}**" in shown
    assert "We need sponsors and a grant <b>now</b>" in texts(board)  # participant text shown literally
    assert "**1** seated · **0** in triage" in shown
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


def seated(database, text="We need sponsors and a grant for our workshops", languages=("en",)):
    clinic = Clinic.open(database.url)
    answer = P.submit_challenge(clinic, "wmcon2018", text, list(languages), "Amina")
    with clinic.engine.connect() as connection:
        from store import challenges as challenge_store

        challenge = challenge_store.challenge_by_ticket(connection, answer.ticket)
    return clinic, answer, str(challenge["id"])


def test_move_from_the_actions_menu(board, database):
    clinic, answer, key = seated(database)
    sign_in(board)
    board.selectbox(key=f"move_{key}").set_value(3)
    board.button(key=f"do_move_{key}").click()
    board.run()
    assert not board.exception
    assert P.answer_for_ticket(clinic, answer.ticket).table == 3
    assert any("Moved to the chosen table" in s.value for s in board.success)


def test_move_to_a_table_without_a_shared_language_needs_a_reason(board, database):
    clinic, answer, key = seated(database, "איך נמצא תורמים ומממנים לפרויקט?", ("he",))
    sign_in(board)
    key = next(b.key for b in board.button if b.key and b.key.startswith("do_move_")).removeprefix("do_move_")
    board.selectbox(key=f"move_{key}").set_value(2)
    board.button(key=f"do_move_{key}").click()
    board.run()
    assert any("Nobody at table 2 speaks he" in e.value for e in board.error)
    assert P.answer_for_ticket(clinic, answer.ticket).table != 2
    key = next(b.key for b in board.button if b.key and b.key.startswith("do_move_")).removeprefix("do_move_")
    board.selectbox(key=f"move_{key}").set_value(2)
    board.text_input(key=f"why_{key}").input("She also speaks English")
    board.button(key=f"do_move_{key}").click()
    board.run()
    assert P.answer_for_ticket(clinic, answer.ticket).table == 2


def test_lock_done_withdraw_and_note_from_the_actions_menu(board, database):
    clinic, answer, key = seated(database)
    sign_in(board)
    board.button(key=f"lock_{key}").click()
    board.run()
    assert any("Locked." in s.value for s in board.success)
    key = next(b.key for b in board.button if b.key and b.key.startswith("save_note_")).removeprefix("save_note_")
    board.text_area(key=f"note_{key}").input("Make a list of TV stations")
    board.button(key=f"save_note_{key}").click()
    board.run()
    assert "suggestion: Make a list of TV stations" in " ".join(texts(board))
    key = next(b.key for b in board.button if b.key and b.key.startswith("done_")).removeprefix("done_")
    board.button(key=f"done_{key}").click()
    board.run()
    assert P.answer_for_ticket(clinic, answer.ticket).status == "done"
    other = P.submit_challenge(clinic, "wmcon2018", "Looking for a grant for travel", ["en"])
    board.run()
    key = next(b.key for b in board.button if b.key and b.key.startswith("withdraw_")).removeprefix("withdraw_")
    board.button(key=f"withdraw_{key}").click()
    board.run()
    assert P.answer_for_ticket(clinic, other.ticket).status == "withdrawn"


def test_lock_table_closes_it_to_new_participants(board, database):
    sign_in(board)
    board.button(key="lock_table_1").click()
    board.run()
    assert any("Table 1 locked" in s.value for s in board.success)
    clinic = Clinic.open(database.url)
    assert P.submit_challenge(clinic, "wmcon2018", "We need a grant and sponsors", ["en"]).table is None


def test_two_facilitators_on_the_same_challenge_the_second_is_told(new_session, board, database, monkeypatch):
    clinic, answer, key = seated(database)
    sign_in(board)
    other = new_session()
    other.switch_page("pages/board.py")
    other.run()
    sign_in(other)
    board.selectbox(key=f"move_{key}").set_value(3)
    board.button(key=f"do_move_{key}").click()
    board.run()
    other.selectbox(key=f"move_{key}").set_value(5)
    other.button(key=f"do_move_{key}").click()
    other.run()
    assert any("Someone else changed this challenge" in e.value for e in other.error)
    assert P.answer_for_ticket(clinic, answer.ticket).table == 3
    assert "We need sponsors and a grant for our workshops" in texts(other)  # the board shows the winner's state


def test_next_round_from_the_board(board, database):
    clinic, answer, _ = seated(database)
    sign_in(board)
    board.button(key="start_clock").click()
    board.run()
    board.button(key="start_round").click()
    board.run()
    assert not board.exception
    assert any("Round 2 started" in s.value for s in board.success)
    assert P.answer_for_ticket(clinic, answer.ticket).round == 2


def test_optimise_button_previews_then_applies(board, database):
    clinic = Clinic.open(database.url)
    for i in range(9):
        P.submit_challenge(clinic, "wmcon2018", f"We need a grant and sponsors for workshop {i}", ["en"])
    sign_in(board)
    board.button(key="optimise_preview").click()
    board.run()
    assert not board.exception
    assert any("raise table 1's capacity" in w.value for w in board.warning)
    assert any("seated, 1 in triage after it" in c.value for c in board.caption)
