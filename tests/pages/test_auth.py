"""The passcode gate (pages/_auth.py) in front of a tiny staff page, as a browser session meets it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto
from streamlit.testing.v1 import AppTest

from clinic import access
from store.engine import DATABASE_URL_VARIABLE, make_engine
from store.schema import audit_log

FACILITATOR_CODE = "board-4-tide"
ORGANIZER_CODE = "catalog-9-harbour"
SECRET = "SECRET BOARD"
# The first run opens the database (schema + demo clinic): more than AppTest's 3 s on a slow machine.
RUN_TIMEOUT = 30


def staff_page(role: str) -> None:
    """A staff screen: the gate first, then what only staff may see."""
    import streamlit as st

    from pages._auth import logout_button, require_role

    require_role(role)
    st.write("SECRET BOARD")
    logout_button()


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv(DATABASE_URL_VARIABLE, url)
    monkeypatch.setenv(access.environment_variable(access.ROLE_FACILITATOR), FACILITATOR_CODE)
    monkeypatch.setenv(access.environment_variable(access.ROLE_ORGANIZER), ORGANIZER_CODE)
    st.cache_resource.clear()  # pages._ui.open_clinic keeps one Clinic (engine) per process
    yield url
    st.cache_resource.clear()


def open_page(role: str = access.ROLE_FACILITATOR) -> AppTest:
    at = AppTest.from_function(staff_page, args=(role,), default_timeout=RUN_TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join(element.value for element in at.markdown)


def shows_page(at: AppTest) -> bool:
    return SECRET in texts(at)


def type_passcode(at: AppTest, code: str) -> AppTest:
    at.text_input[0].input(code)
    [submit] = [button for button in at.button if button.label == "Open"]
    submit.click().run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    return [element.value for element in at.error]


def test_without_a_passcode_only_the_form_shows(database_url):
    at = open_page()

    assert not shows_page(at)
    assert [field.label for field in at.text_input] == ["Passcode"]
    assert at.text_input[0].proto.type == TextInputProto.PASSWORD  # shown as dots
    assert [button.label for button in at.button] == ["Open"]  # not even the sign-out button
    assert not errors(at)


def test_a_wrong_passcode_shows_an_error_and_keeps_the_page_closed(database_url):
    at = type_passcode(open_page(), "board-4-tidf")

    assert errors(at) == ["Wrong passcode."]
    assert not shows_page(at)
    assert [field.label for field in at.text_input] == ["Passcode"]  # the form stays, to try again


def test_the_right_passcode_opens_the_page_in_any_case_without_the_dashes(database_url):
    at = type_passcode(open_page(), "BOARD4TIDE")

    assert shows_page(at)
    assert not errors(at)
    assert not at.text_input  # the form is gone
    assert at.session_state["peer_clinic_role"] == access.ROLE_FACILITATOR
    assert not at.query_params  # the role lives in the session, not in the URL

    at.run()  # the next rerun (any click on the board) stays open
    assert shows_page(at)


def test_organizer_passcode_opens_a_facilitator_screen(database_url):
    at = type_passcode(open_page(access.ROLE_FACILITATOR), ORGANIZER_CODE)

    assert shows_page(at)
    assert at.session_state["peer_clinic_role"] == access.ROLE_ORGANIZER


def test_facilitator_passcode_does_not_open_an_organizer_screen(database_url):
    at = type_passcode(open_page(access.ROLE_ORGANIZER), FACILITATOR_CODE)
    assert errors(at) == ["Wrong passcode."]
    assert not shows_page(at)

    type_passcode(at, ORGANIZER_CODE)
    assert shows_page(at)


def test_a_facilitator_session_is_asked_again_at_an_organizer_screen(database_url):
    at = AppTest.from_function(staff_page, args=(access.ROLE_ORGANIZER,), default_timeout=RUN_TIMEOUT)
    at.session_state["peer_clinic_role"] = access.ROLE_FACILITATOR
    at.run()

    assert not shows_page(at)
    assert [field.label for field in at.text_input] == ["Passcode"]


def test_sign_out_returns_to_the_form(database_url):
    at = type_passcode(open_page(), FACILITATOR_CODE)
    assert shows_page(at)

    [sign_out] = [button for button in at.button if button.label == "Sign out"]
    sign_out.click().run()

    assert not at.exception, at.exception
    assert not shows_page(at)
    assert [field.label for field in at.text_input] == ["Passcode"]
    assert "peer_clinic_role" not in at.session_state


def test_repeated_failures_make_even_the_right_passcode_wait(database_url, monkeypatch):
    clock = {"now": datetime(2018, 4, 20, 9, 0, tzinfo=UTC)}
    monkeypatch.setattr("store.challenges.now", lambda: clock["now"])  # when a failure is recorded
    monkeypatch.setattr("clinic.access.now", lambda: clock["now"])  # when the throttle looks
    at = open_page()
    for _ in range(access.FREE_FAILURES):
        type_passcode(at, "guess")
    assert "Wait 2 s" in at.warning[0].value

    type_passcode(at, FACILITATOR_CODE)  # too soon: not even checked
    assert not shows_page(at)
    assert errors(at) == ["Too many wrong passcodes. Wait 2 s before trying again."]

    clock["now"] += timedelta(seconds=2)
    type_passcode(at, FACILITATOR_CODE)
    assert shows_page(at)


def test_sign_ins_are_audited_without_what_was_typed(database_url):
    at = type_passcode(open_page(), "guess-7")
    type_passcode(at, FACILITATOR_CODE)

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = [dict(row) for row in connection.execute(select(audit_log).order_by(audit_log.c.id)).mappings()]
    finally:
        engine.dispose()
    assert [(row["role"], row["action"]) for row in rows] == [("facilitator", "login_failed"), ("facilitator", "login")]
    assert "guess-7" not in repr(rows) and FACILITATOR_CODE not in repr(rows)


def test_secrets_passcode_opens_the_page_when_no_variable_is_set(database_url, monkeypatch):
    monkeypatch.delenv(access.environment_variable(access.ROLE_FACILITATOR))
    at = AppTest.from_function(staff_page, args=(access.ROLE_FACILITATOR,), default_timeout=RUN_TIMEOUT)
    at.secrets["facilitator_passcode"] = "from-the-secrets-file"
    at.run()

    type_passcode(at, "FROM THE SECRETS FILE")  # spaces count as dashes; any case
    assert shows_page(at)
