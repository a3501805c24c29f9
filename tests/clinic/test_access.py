"""Staff passcodes (clinic.access): where they come from, how they are compared, how guessing is slowed."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clinic import access
from clinic.access import ROLE_FACILITATOR, ROLE_ORGANIZER
from clinic.setup import Clinic
from store.engine import make_engine
from store.schema import audit_log, meta

GENERATED = re.compile(rf"^[{access.PASSCODE_ALPHABET}]{{5}}-[{access.PASSCODE_ALPHABET}]{{5}}$")


@pytest.fixture(autouse=True)
def no_chosen_passcodes(monkeypatch):
    """Passcodes set in the shell running the tests must not leak into them."""
    for role in access.ROLES:
        monkeypatch.delenv(access.environment_variable(role), raising=False)


@pytest.fixture
def engine(database_url):
    clinic = Clinic.open(database_url, load_demo=False)
    yield clinic.engine
    clinic.engine.dispose()


def audit_rows(engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(audit_log).order_by(audit_log.c.id)).mappings()]


def test_first_start_generates_a_typable_passcode_per_role_and_prints_it(engine, capsys):
    passcodes = access.ensure_passcodes(engine)

    printed = capsys.readouterr().out.splitlines()
    for role in access.ROLES:
        code = passcodes[role].code
        assert GENERATED.match(code), code
        assert passcodes[role].source == access.SOURCE_GENERATED
        assert (
            f"Peer Clinic {role} passcode: {code}  (set {access.environment_variable(role)} to choose your own)"
            in printed
        )
    assert passcodes[ROLE_FACILITATOR].code != passcodes[ROLE_ORGANIZER].code


def test_generated_passcode_is_stored_once_and_shared_by_every_process(engine, database_url):
    first = access.ensure_passcodes(engine, announce=lambda line: None)
    again = access.ensure_passcodes(engine, announce=lambda line: None)
    other_process = make_engine(database_url)  # another server process on the same database
    try:
        other = access.ensure_passcodes(other_process, announce=lambda line: None)
    finally:
        other_process.dispose()

    for role in access.ROLES:
        assert again[role].code == first[role].code == other[role].code
    with engine.connect() as connection:
        stored = dict(connection.execute(select(meta.c.key, meta.c.value)).all())
    assert stored[access.meta_key(ROLE_FACILITATOR)] == first[ROLE_FACILITATOR].code


def test_processes_starting_together_agree_on_one_passcode(engine, database_url):
    found: list[str] = []

    def start():
        process_engine = make_engine(database_url)
        try:
            found.append(access.passcode(process_engine, ROLE_ORGANIZER).code)
        finally:
            process_engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1


def test_environment_variable_wins_over_stored_and_is_not_printed(engine, monkeypatch):
    stored = access.ensure_passcodes(engine, announce=lambda line: None)[ROLE_FACILITATOR].code
    monkeypatch.setenv("PEER_CLINIC_FACILITATOR_PASSCODE", "Tide-Pool-42")
    lines: list[str] = []

    passcodes = access.ensure_passcodes(engine, {"facilitator_passcode": "from-secrets"}, announce=lines.append)

    assert passcodes[ROLE_FACILITATOR].code == "Tide-Pool-42"
    assert passcodes[ROLE_FACILITATOR].source == access.SOURCE_ENVIRONMENT
    assert "Peer Clinic facilitator passcode: set by PEER_CLINIC_FACILITATOR_PASSCODE" in lines
    assert not any("Tide-Pool-42" in line for line in lines)
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, "Tide-Pool-42").role == ROLE_FACILITATOR
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, stored).role is None
    assert (
        access.attempt_sign_in(engine, ROLE_FACILITATOR, "from-secrets", {"facilitator_passcode": "from-secrets"}).role
        is None
    )


def test_secrets_win_over_stored(engine):
    stored = access.ensure_passcodes(engine, announce=lambda line: None)[ROLE_ORGANIZER].code
    secrets = {"organizer_passcode": "harbour-lights"}
    lines: list[str] = []

    passcodes = access.ensure_passcodes(engine, secrets, announce=lines.append)

    assert passcodes[ROLE_ORGANIZER].code == "harbour-lights"
    assert passcodes[ROLE_ORGANIZER].source == access.SOURCE_SECRETS
    assert "Peer Clinic organizer passcode: set by organizer_passcode in .streamlit/secrets.toml" in lines
    assert not any("harbour-lights" in line for line in lines)
    assert access.attempt_sign_in(engine, ROLE_ORGANIZER, "harbour-lights", secrets).role == ROLE_ORGANIZER
    assert access.attempt_sign_in(engine, ROLE_ORGANIZER, stored, secrets).role is None
    # The facilitator chose nothing: the stored passcode still opens the board.
    facilitator = passcodes[ROLE_FACILITATOR]
    assert facilitator.source == access.SOURCE_GENERATED
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, facilitator.code, secrets).role == ROLE_FACILITATOR


def test_a_blank_chosen_passcode_counts_as_none(engine, monkeypatch):
    monkeypatch.setenv("PEER_CLINIC_FACILITATOR_PASSCODE", "  ")
    code = access.passcode(engine, ROLE_FACILITATOR, {"facilitator_passcode": ""})
    assert code.source == access.SOURCE_GENERATED and GENERATED.match(code.code)
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, "  ").role is None
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, "").role is None


def test_passcode_is_accepted_in_any_case_with_or_without_the_dash(engine):
    code = access.passcode(engine, ROLE_FACILITATOR).code
    for typed in (code, code.lower(), code.replace("-", ""), code.lower().replace("-", " "), f" {code} "):
        assert access.attempt_sign_in(engine, ROLE_FACILITATOR, typed).role == ROLE_FACILITATOR, typed


@pytest.mark.parametrize("typed", ["wrong", "ABCDE-FGHJK", "", "-"])
def test_a_wrong_passcode_opens_nothing(engine, typed):
    access.ensure_passcodes(engine, announce=lambda line: None)
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, typed).role is None
    assert access.attempt_sign_in(engine, ROLE_ORGANIZER, typed).role is None


def test_one_character_off_opens_nothing(engine):
    code = access.passcode(engine, ROLE_FACILITATOR).code
    last = code[-1]
    other = next(ch for ch in access.PASSCODE_ALPHABET if ch != last)
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, code[:-1] + other).role is None
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, code[:-1]).role is None
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, code + "2").role is None


def test_organizer_may_do_what_a_facilitator_may_but_not_the_other_way(engine):
    passcodes = access.ensure_passcodes(engine, announce=lambda line: None)
    facilitator, organizer = passcodes[ROLE_FACILITATOR].code, passcodes[ROLE_ORGANIZER].code

    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, organizer).role == ROLE_ORGANIZER
    assert access.attempt_sign_in(engine, ROLE_ORGANIZER, organizer).role == ROLE_ORGANIZER
    assert access.attempt_sign_in(engine, ROLE_ORGANIZER, facilitator).role is None

    assert access.may_act_as(ROLE_ORGANIZER, ROLE_FACILITATOR)
    assert access.may_act_as(ROLE_FACILITATOR, ROLE_FACILITATOR)
    assert not access.may_act_as(ROLE_FACILITATOR, ROLE_ORGANIZER)
    assert not access.may_act_as(None, ROLE_FACILITATOR)
    assert not access.may_act_as("participant", ROLE_FACILITATOR)


def test_sign_ins_are_audited_without_the_passcode(engine):
    passcodes = access.ensure_passcodes(engine, announce=lambda line: None)
    facilitator, organizer = passcodes[ROLE_FACILITATOR].code, passcodes[ROLE_ORGANIZER].code

    access.attempt_sign_in(engine, ROLE_FACILITATOR, facilitator)
    access.attempt_sign_in(engine, ROLE_ORGANIZER, "guess-one")
    access.attempt_sign_in(engine, ROLE_FACILITATOR, organizer)
    access.sign_out(engine, ROLE_ORGANIZER)

    rows = audit_rows(engine)
    assert [(row["role"], row["action"]) for row in rows] == [
        (ROLE_FACILITATOR, "login"),
        (ROLE_ORGANIZER, "login_failed"),
        (ROLE_ORGANIZER, "login"),
        (ROLE_ORGANIZER, "logout"),
    ]
    everything = repr(rows)
    for secret in (facilitator, organizer, facilitator.replace("-", ""), "guess-one"):
        assert secret not in everything


class Clock:
    """The time the audit log records and the throttle reads, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2018, 4, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("store.challenges.now", clock)  # when an attempt is recorded
    monkeypatch.setattr("clinic.access.now", clock)  # when the throttle looks
    return clock


@pytest.fixture
def facilitator_code(engine) -> str:
    return access.passcode(engine, ROLE_FACILITATOR).code


def test_the_policy_lets_typos_through_then_doubles_the_wait_up_to_a_minute():
    waits = [access.wait_after_failures(failures) for failures in range(13)]
    assert waits == [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60]
    assert access.wait_after_failures(10_000) == access.MAX_DELAY_SECONDS


def test_a_client_without_a_known_address_gets_the_shared_key():
    assert access.client_key(None) == access.client_key("") == access.client_key("  ") == access.UNKNOWN_CLIENT
    assert access.client_key(object()) == access.UNKNOWN_CLIENT  # what AppTest's stand-in client gives
    assert access.client_key("203.0.113.7") == "203.0.113.7"
    assert access.client_key("2001:db8::7") == "2001:db8::7"


def test_five_typos_go_through_then_even_the_right_passcode_waits(engine, clock, facilitator_code):
    for _ in range(access.FREE_FAILURES - 1):
        outcome = access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess", client="203.0.113.7")
        assert (outcome.role, outcome.checked, outcome.wait) == (None, True, 0)
    fifth = access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess", client="203.0.113.7")
    assert (fifth.checked, fifth.wait) == (True, 2)

    clock.advance(1.5)
    too_soon = access.attempt_sign_in(engine, ROLE_FACILITATOR, facilitator_code, client="203.0.113.7")
    assert (too_soon.role, too_soon.checked) == (None, False)  # not even compared
    assert too_soon.wait == pytest.approx(0.5)  # measured from the last failure

    clock.advance(0.5)
    assert (
        access.attempt_sign_in(engine, ROLE_FACILITATOR, facilitator_code, client="203.0.113.7").role
        == ROLE_FACILITATOR
    )


def test_each_wrong_passcode_after_the_wait_doubles_the_next_one(engine, clock):
    waits = []
    for _ in range(access.FREE_FAILURES + 7):
        outcome = access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess", client="203.0.113.7")
        assert outcome.checked
        waits.append(outcome.wait)
        clock.advance(outcome.wait)
    assert waits == [0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60]


def test_attempts_during_the_wait_are_neither_checked_nor_counted(engine, clock):
    for _ in range(access.FREE_FAILURES):
        access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess")
    for _ in range(10):
        clock.advance(0.1)
        assert not access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess").checked

    clock.advance(1.0)
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess").wait == 4  # the sixth failure, not the 16th
    assert [row["action"] for row in audit_rows(engine)] == ["login_failed"] * (access.FREE_FAILURES + 1)


def test_the_wait_holds_for_another_server_process_on_the_same_database(engine, database_url, clock):
    for _ in range(access.FREE_FAILURES):
        access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess", client="203.0.113.7")
    code = access.passcode(engine, ROLE_FACILITATOR).code

    other_process = make_engine(database_url)
    try:
        outcome = access.attempt_sign_in(other_process, ROLE_FACILITATOR, code, client="203.0.113.7")
    finally:
        other_process.dispose()
    assert (outcome.role, outcome.checked, outcome.wait) == (None, False, 2)


def test_two_clients_are_throttled_independently(engine, clock, facilitator_code):
    for _ in range(access.FREE_FAILURES + 2):
        access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess", client="203.0.113.7")
        clock.advance(0.1)
    assert not access.attempt_sign_in(engine, ROLE_FACILITATOR, facilitator_code, client="203.0.113.7").checked

    # A facilitator on another address is not slowed down by the guesser, nor their typos by its count.
    typo = access.attempt_sign_in(engine, ROLE_FACILITATOR, "tpyo", client="198.51.100.23")
    assert (typo.checked, typo.wait) == (True, 0)
    granted = access.attempt_sign_in(engine, ROLE_FACILITATOR, facilitator_code, client="198.51.100.23")
    assert granted.role == ROLE_FACILITATOR

    # ... and signing in there did not start the guesser's count over.
    assert not access.attempt_sign_in(engine, ROLE_FACILITATOR, facilitator_code, client="203.0.113.7").checked


def test_a_right_passcode_starts_the_count_over(engine, clock, facilitator_code):
    for _ in range(access.FREE_FAILURES):
        access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess")
    clock.advance(2)
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, facilitator_code).role == ROLE_FACILITATOR

    for _ in range(access.FREE_FAILURES - 1):
        assert access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess").wait == 0
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess").wait == 2


def test_failures_older_than_the_window_are_forgotten(engine, clock, facilitator_code):
    for _ in range(access.FREE_FAILURES + 5):  # up to the 60 s cap
        clock.advance(access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess").wait)
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess").wait == access.MAX_DELAY_SECONDS

    clock.advance(access.THROTTLE_WINDOW.total_seconds() + 1)
    assert access.attempt_sign_in(engine, ROLE_FACILITATOR, "tpyo").wait == 0  # a typo, one of five again


def test_sign_ins_are_audited_with_the_client_key_and_without_the_passcode(engine, facilitator_code):
    access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess-two", client="203.0.113.7")
    access.attempt_sign_in(engine, ROLE_FACILITATOR, facilitator_code, client="203.0.113.7")
    access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess-three")

    rows = audit_rows(engine)
    assert [(row["action"], row["target"]) for row in rows] == [
        ("login_failed", "client:203.0.113.7"),
        ("login", "client:203.0.113.7"),
        ("login_failed", "client:unknown"),
    ]
    for secret in (facilitator_code, "guess-two", "guess-three"):
        assert secret not in repr(rows)


def test_attempts_at_the_same_moment_from_one_client_are_checked_one_at_a_time(engine, database_url, clock):
    """A script sending many attempts at once must not have each of them read the count before any
    is recorded: with four failures on record, one more attempt is checked, the rest wait."""
    for _ in range(access.FREE_FAILURES - 1):
        access.attempt_sign_in(engine, ROLE_FACILITATOR, "guess")
    outcomes: list[access.SignInOutcome] = []
    start = threading.Barrier(8)

    def attempt():
        process_engine = make_engine(database_url)
        try:
            start.wait()
            outcomes.append(access.attempt_sign_in(process_engine, ROLE_FACILITATOR, "guess"))
        finally:
            process_engine.dispose()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcome.checked for outcome in outcomes) == [False] * 7 + [True]
    assert len([row for row in audit_rows(engine) if row["action"] == "login_failed"]) == access.FREE_FAILURES
