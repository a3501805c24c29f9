"""The database out of reach for a while: the participant is told, nothing is half-stored, and the
same form sent again once it is back is stored exactly once.

An outage is made for real, for this test's database only: SQLite's folder is moved away (new
connections cannot open the file), PostgreSQL is reached through a local proxy that is cut (every
connection dropped, new ones refused) or made to swallow packets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from streamlit.testing.v1 import AppTest

from clinic import participants, setup
from clinic.i18n import translate
from clinic.setup import Clinic
from store.engine import DATABASE_URL_VARIABLE, make_engine
from store.schema import challenges

EVENT = "wmcon2018"
TEXT = "How do we find sponsors and write a grant application to fund the prizes of our photo contest?"
APP = Path(__file__).resolve().parents[2] / "app.py"
SUBMIT = "Find my table"
UNAVAILABLE = translate("en", "error.unavailable")


class Outage:
    """Takes the test database out of reach and brings it back."""

    def __init__(self, database_url: str, proxy=None):
        self.proxy = proxy
        self.url = proxy.url(database_url) if proxy else database_url
        self.folder = None if proxy else Path(make_url(database_url).database).parent
        self.down_since: float | None = None

    def down(self, *engines: Engine) -> None:
        for engine in engines:  # SQLite keeps pooled files open: close them, as a dead disk would
            engine.dispose()
        if self.proxy:
            self.proxy.cut()
        else:
            self.folder.rename(self.folder.with_name(self.folder.name + "-away"))
        self.down_since = time.monotonic()

    def up(self) -> None:
        if self.down_since is None:
            return
        if self.proxy:
            self.proxy.restore()
        else:
            self.folder.with_name(self.folder.name + "-away").rename(self.folder)
        self.down_since = None


@pytest.fixture
def outage(request, database_url) -> Iterator[Outage]:
    proxy = request.getfixturevalue("pg_proxy") if database_url.startswith("postgresql") else None
    outage = Outage(database_url, proxy)
    yield outage
    outage.up()


def count_challenges(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(challenges)).scalar_one()
    finally:
        engine.dispose()


def test_an_outage_fails_the_submission_loudly_and_the_same_form_is_stored_once_after(
    clinic, database_url, outage, figures
):
    app = Clinic(make_engine(outage.url))
    app._routers = clinic._routers  # the router fitted before the outage, as a running server has it
    before = participants.submit_challenge(app, EVENT, TEXT + " (before)", ["en"])
    key = participants.new_submission_key()

    outage.down(app.engine)
    started = time.monotonic()
    with pytest.raises(OperationalError):
        participants.submit_challenge(app, EVENT, TEXT, ["en"], submission_key=key)
    seconds_to_fail = time.monotonic() - started
    with pytest.raises(OperationalError):  # the ticket view fails the same way, not with a wrong answer
        participants.answer_for_ticket(app, before.ticket)
    outage.up()

    answer = participants.submit_challenge(app, EVENT, TEXT, ["en"], submission_key=key)
    again = participants.submit_challenge(app, EVENT, TEXT, ["en"], submission_key=key)
    assert again.ticket == answer.ticket and answer.text == TEXT
    assert participants.answer_for_ticket(app, before.ticket).ticket == before.ticket
    assert count_challenges(database_url) == 2
    figures.record(
        f"database outage [{app.engine.dialect.name}]",
        failed_after_seconds=round(seconds_to_fail, 2),
        stored_after_recovery=count_challenges(database_url),
        duplicates=0,
    )
    assert seconds_to_fail < 5
    app.engine.dispose()


def test_connections_dropped_between_two_requests_are_replaced_unseen(clinic, database_url, pg_proxy):
    """PostgreSQL restarted (or a proxy reset its connections) while nobody was submitting: the
    next participant notices nothing (the pool checks each connection before lending it)."""
    app = Clinic(make_engine(pg_proxy.url(database_url)))
    app._routers = clinic._routers
    for i in range(3):  # fill the pool with live connections
        participants.submit_challenge(app, EVENT, f"{TEXT} ({i})", ["en"])

    pg_proxy.restore()  # drops every open connection, then forwards again

    answer = participants.submit_challenge(app, EVENT, TEXT, ["en"])
    assert participants.answer_for_ticket(app, answer.ticket).text == TEXT
    assert count_challenges(database_url) == 4
    app.engine.dispose()


def test_a_database_that_swallows_packets_fails_the_submission_in_seconds_not_never(
    clinic, database_url, pg_proxy, figures
):
    """A network that drops packets instead of refusing them: connecting gives up after the
    engine's connect timeout, so the participant is told to try again instead of waiting forever."""
    app = Clinic(make_engine(pg_proxy.url(database_url)))
    app._routers = clinic._routers
    participants.submit_challenge(app, EVENT, TEXT + " (before)", ["en"])

    pg_proxy.hang()
    outcome: list[BaseException | object] = []
    started = time.monotonic()
    worker = threading.Thread(
        target=lambda: outcome.append(_attempt(lambda: participants.submit_challenge(app, EVENT, TEXT, ["en"]))),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=30)
    seconds, finished = time.monotonic() - started, list(outcome)
    pg_proxy.restore()  # (this also ends a submission still waiting)

    assert finished, "the submission was still waiting for the database after 30 s"
    assert isinstance(finished[0], OperationalError), finished
    figures.record("database swallowing packets [postgresql]", failed_after_seconds=round(seconds, 1))
    assert count_challenges(database_url) == 1
    app.engine.dispose()


def _attempt(work):
    try:
        return work()
    except BaseException as error:
        return error


# --- The participant page during an outage ---------------------------------------------------


@pytest.fixture
def page_on(database_url, monkeypatch) -> Iterator[tuple[AppTest, list[Clinic]]]:
    """Open the participant page (app.py) on `url`; returns it and the Clinic it opened (to take
    that clinic's connections down with the database)."""
    opened: list[Clinic] = []
    real_open = setup.Clinic.open.__func__

    def open_and_keep(cls, url=None, load_demo=True):
        clinic = real_open(cls, url, load_demo)
        opened.append(clinic)
        return clinic

    monkeypatch.setattr(setup.Clinic, "open", classmethod(open_and_keep))

    def open_page(url: str) -> tuple[AppTest, Clinic]:
        monkeypatch.setenv(DATABASE_URL_VARIABLE, url)
        st.cache_resource.clear()
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        at.text_area(key="challenge_text").set_value(TEXT).run()
        at.multiselect(key="languages").set_value(["en"]).run()
        return at, opened[-1]

    yield open_page
    for clinic in opened:
        clinic.engine.dispose()
    st.cache_resource.clear()


def press(at: AppTest, label: str) -> AppTest:
    [button] = [button for button in at.button if button.label == label]
    button.click().run()
    return at


def test_a_write_lock_held_too_long_makes_the_page_say_press_again_and_loses_nothing(
    page_on, database_url, monkeypatch
):
    """Another process holds SQLite's write lock past every retry: the participant reads "press
    the button again", the text stays in the box, and pressing again once it is free stores it once."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL waits for row locks without a timeout: there is no retry to exhaust")
    monkeypatch.setattr("store.engine.SQLITE_BUSY_TIMEOUT_MS", 50)
    at, clinic = page_on(database_url)
    holder = clinic.engine.connect()
    holder.execution_options(peer_clinic_write=True)
    transaction = holder.begin()  # BEGIN IMMEDIATE: the write lock
    try:
        press(at, SUBMIT)
    finally:
        transaction.rollback()
        holder.close()

    assert not at.exception, at.exception
    assert [error.value for error in at.error] == [UNAVAILABLE]
    assert at.text_area(key="challenge_text").value == TEXT  # nothing to type again
    assert not at.query_params.get("ticket") and count_challenges(database_url) == 0

    press(at, SUBMIT)
    assert not at.exception and not at.error, [error.value for error in at.error]
    assert at.query_params.get("ticket")
    assert count_challenges(database_url) == 1


def test_a_database_outage_on_pressing_submit_says_try_again_and_keeps_the_text(page_on, outage, database_url):
    at, clinic = page_on(outage.url)

    outage.down(clinic.engine)
    press(at, SUBMIT)
    failed_cleanly = not at.exception and bool(at.error)
    outage.up()
    at.run()  # the participant presses again once it is back

    assert failed_cleanly, at.exception
    assert at.text_area(key="challenge_text").value == TEXT
    press(at, SUBMIT)
    assert at.query_params.get("ticket") and count_challenges(database_url) == 1


def test_a_ticket_opened_during_an_outage_says_try_again(page_on, outage):
    at, clinic = page_on(outage.url)
    press(at, SUBMIT)
    assert at.query_params.get("ticket")

    outage.down(clinic.engine)
    at.run()  # the phone reconnects, or the participant reloads the ticket link

    assert not at.exception, at.exception
    assert at.error, "the participant is told what is wrong"


def test_the_outage_notice_speaks_the_participants_language_and_its_button_brings_the_page_back(page_on, outage):
    at, clinic = page_on(outage.url)
    at.session_state["lang"] = "sv"  # chosen earlier in the session
    at.run()
    assert not at.error  # no notice while the database is up

    outage.down(clinic.engine)
    at.run()
    assert not at.exception, at.exception
    assert [error.value for error in at.error] == [translate("sv", "error.database_unreachable")]
    [again] = [button for button in at.button if button.label == translate("sv", "error.try_again")]

    outage.up()
    again.click().run()
    assert not at.error and not at.exception
    assert at.text_area(key="challenge_text").value == TEXT


def test_an_edit_saved_during_an_outage_is_kept_and_saved_once_it_is_back(page_on, outage, database_url):
    at, clinic = page_on(outage.url)
    press(at, SUBMIT)
    ticket = at.query_params["ticket"]
    edited = TEXT + " We also need a letter of support."
    at.text_area(key="edit_text").set_value(edited)

    outage.down(clinic.engine)
    [save] = [button for button in at.button if button.label == translate("en", "edit.save")]
    save.click().run()
    assert not at.exception, at.exception
    assert [error.value for error in at.error] == [translate("en", "error.database_unreachable")]

    outage.up()
    at.run()  # "Try again"
    assert at.text_area(key="edit_text").value == edited
    [save] = [button for button in at.button if button.label == translate("en", "edit.save")]
    save.click().run()
    assert not at.error, [error.value for error in at.error]
    app = Clinic(make_engine(database_url))
    try:
        assert participants.answer_for_ticket(app, ticket).text == edited
    finally:
        app.engine.dispose()
    assert at.text_area(key="edit_text").value == edited  # the form now starts from the stored text
