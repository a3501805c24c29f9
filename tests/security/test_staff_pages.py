"""Every staff screen app.py serves refuses without the passcode (AppTest; the real browser is in
tests/e2e/test_security_browser.py), and what the passcode form keeps of a typed passcode: nothing.

The list of screens is read from app.py itself, so a screen added later is checked too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from clinic import access, participants
from clinic.setup import Clinic
from store.engine import DATABASE_URL_VARIABLE

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
FACILITATOR_CODE = "sec-board-3318"
ORGANIZER_CODE = "sec-organize-6604"
PLANTED = "A challenge only staff may read: how do we find a sponsor? (planted)"
PLANTED_NAME = "Planted Participant"


def pages_of_app() -> dict[str, dict]:
    """Each st.Page(...) in app.py: its script path and keyword arguments (url_path, default, ...)."""
    found = {}
    for node in ast.walk(ast.parse(APP.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page" and node.args:
            keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords if isinstance(k.value, ast.Constant)}
            found[ast.literal_eval(node.args[0])] = keywords
    return found


PAGES = pages_of_app()
STAFF_PAGES = sorted(path for path, options in PAGES.items() if not options.get("default"))
# The role each staff screen needs, as its script asks for it (require_role(ROLE_...)).
NEEDS = {
    path: (access.ROLE_ORGANIZER if "require_role(ROLE_ORGANIZER)" in (ROOT / path).read_text() else None)
    or access.ROLE_FACILITATOR
    for path in STAFF_PAGES
}


def test_app_serves_staff_screens_and_one_participant_page():
    assert [path for path, options in PAGES.items() if options.get("default")] == ["pages/submit.py"]
    assert {"pages/board.py", "pages/display.py"} <= set(STAFF_PAGES)
    for path in STAFF_PAGES:  # each asks for a role first thing, before it reads the clinic
        source = (ROOT / path).read_text()
        assert "require_role(" in source, f"{path} has no passcode gate"
        gate = source.index("require_role(")
        for reader in ("open_clinic()", "current_event()", "board_snapshot(", "organizing."):
            assert reader not in source[:gate], f"{path} calls {reader} before its passcode gate"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv(DATABASE_URL_VARIABLE, url)
    monkeypatch.setenv(access.environment_variable(access.ROLE_FACILITATOR), FACILITATOR_CODE)
    monkeypatch.setenv(access.environment_variable(access.ROLE_ORGANIZER), ORGANIZER_CODE)
    st.cache_resource.clear()
    clinic = Clinic.open(url)
    participants.submit_challenge(clinic, "wmcon2018", PLANTED, ["en"], name=PLANTED_NAME)
    clinic.engine.dispose()
    yield url
    st.cache_resource.clear()


def open_screen(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(path)
    at.run()
    assert not at.exception, at.exception
    return at


def everything_shown(at: AppTest) -> str:
    """Every value and label the page put on screen."""
    parts = []
    for kind in ("markdown", "text", "caption", "title", "header", "subheader", "code", "error", "warning", "info"):
        parts += [str(element.value) for element in getattr(at, kind)]
    parts += [widget.label for widget in [*at.button, *at.selectbox, *at.text_input, *at.text_area]]
    parts += [str(frame.value) for frame in at.dataframe]
    return "\n".join(parts)


def passcode_form_only(at: AppTest) -> None:
    assert [field.label for field in at.text_input] == ["Passcode"]
    assert [button.label for button in at.button] == ["Open"]
    shown = everything_shown(at)
    for secret in (PLANTED, PLANTED_NAME, "Table 1", "seated", "Join from your phone", "wmcon2018"):
        assert secret not in shown, f"{secret!r} shown before the passcode"
    assert not at.dataframe and not at.selectbox and not at.text_area and not at.tabs


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_staff_screen_opened_without_a_passcode_shows_only_the_passcode_form(database, path):
    at = open_screen(path)
    passcode_form_only(at)


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_wrong_passcode_keeps_the_screen_closed(database, path):
    at = open_screen(path)
    for attempt in ("", "wrong", FACILITATOR_CODE[:-1], FACILITATOR_CODE + "x", "' OR '1'='1"):
        at.text_input[0].input(attempt)
        at.button[0].click().run()
        assert not at.exception, at.exception
        passcode_form_only(at)


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_the_right_passcode_opens_the_screen_and_leaves_no_trace_of_itself(database, path):
    at = open_screen(path)
    at.text_input[0].input(FACILITATOR_CODE if NEEDS[path] == access.ROLE_FACILITATOR else ORGANIZER_CODE)
    at.button[0].click().run()
    assert not at.exception, at.exception

    assert "Passcode" not in [field.label for field in at.text_input]
    assert "wmcon2018" in everything_shown(at) or "Table 1" in everything_shown(at)
    stored = repr(at.session_state.to_dict())
    assert not any(code in stored for code in (FACILITATOR_CODE, ORGANIZER_CODE))
    assert not any(code in repr(dict(at.query_params)) for code in (FACILITATOR_CODE, ORGANIZER_CODE))


def test_the_facilitator_passcode_does_not_open_an_organizer_screen(database):
    for path in [path for path in STAFF_PAGES if NEEDS[path] == access.ROLE_ORGANIZER]:
        at = open_screen(path)
        at.text_input[0].input(FACILITATOR_CODE)
        at.button[0].click().run()
        passcode_form_only(at)


def test_after_five_failures_even_the_right_passcode_waits(database):
    at = open_screen("pages/board.py")
    for _ in range(access.FREE_FAILURES + 1):
        at.text_input[0].input("not-the-code")
        at.button[0].click().run()
    assert any("Wait" in warning.value for warning in [*at.warning, *at.error])

    at.text_input[0].input(FACILITATOR_CODE)
    at.button[0].click().run()

    passcode_form_only(at)
    assert any("Too many wrong passcodes" in error.value for error in at.error)


def test_the_throttle_survives_a_reload(database):
    at = open_screen("pages/board.py")
    for _ in range(access.FREE_FAILURES + 1):
        at.text_input[0].input("not-the-code")
        at.button[0].click().run()

    reloaded = open_screen("pages/board.py")  # a new session, as after pressing F5
    reloaded.text_input[0].input(FACILITATOR_CODE)
    reloaded.button[0].click().run()

    passcode_form_only(reloaded)
    assert any("Too many wrong passcodes" in error.value for error in reloaded.error)
