"""Staff passcodes (clinic.access): where they come from, how they are compared, how guessing is slowed."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from clinic import access
from clinic.access import ROLE_FACILITATOR, ROLE_ORGANIZER, Throttle
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
    assert access.sign_in(engine, ROLE_FACILITATOR, "Tide-Pool-42") == ROLE_FACILITATOR
    assert access.sign_in(engine, ROLE_FACILITATOR, stored) is None
    assert access.sign_in(engine, ROLE_FACILITATOR, "from-secrets", {"facilitator_passcode": "from-secrets"}) is None


def test_secrets_win_over_stored(engine):
    stored = access.ensure_passcodes(engine, announce=lambda line: None)[ROLE_ORGANIZER].code
    secrets = {"organizer_passcode": "harbour-lights"}
    lines: list[str] = []

    passcodes = access.ensure_passcodes(engine, secrets, announce=lines.append)

    assert passcodes[ROLE_ORGANIZER].code == "harbour-lights"
    assert passcodes[ROLE_ORGANIZER].source == access.SOURCE_SECRETS
    assert "Peer Clinic organizer passcode: set by organizer_passcode in .streamlit/secrets.toml" in lines
    assert not any("harbour-lights" in line for line in lines)
    assert access.sign_in(engine, ROLE_ORGANIZER, "harbour-lights", secrets) == ROLE_ORGANIZER
    assert access.sign_in(engine, ROLE_ORGANIZER, stored, secrets) is None
    # The facilitator chose nothing: the stored passcode still opens the board.
    facilitator = passcodes[ROLE_FACILITATOR]
    assert facilitator.source == access.SOURCE_GENERATED
    assert access.sign_in(engine, ROLE_FACILITATOR, facilitator.code, secrets) == ROLE_FACILITATOR


def test_a_blank_chosen_passcode_counts_as_none(engine, monkeypatch):
    monkeypatch.setenv("PEER_CLINIC_FACILITATOR_PASSCODE", "  ")
    code = access.passcode(engine, ROLE_FACILITATOR, {"facilitator_passcode": ""})
    assert code.source == access.SOURCE_GENERATED and GENERATED.match(code.code)
    assert access.sign_in(engine, ROLE_FACILITATOR, "  ") is None
    assert access.sign_in(engine, ROLE_FACILITATOR, "") is None


def test_passcode_is_accepted_in_any_case_with_or_without_the_dash(engine):
    code = access.passcode(engine, ROLE_FACILITATOR).code
    for typed in (code, code.lower(), code.replace("-", ""), code.lower().replace("-", " "), f" {code} "):
        assert access.sign_in(engine, ROLE_FACILITATOR, typed) == ROLE_FACILITATOR, typed


@pytest.mark.parametrize("typed", ["wrong", "ABCDE-FGHJK", "", "-"])
def test_a_wrong_passcode_opens_nothing(engine, typed):
    access.ensure_passcodes(engine, announce=lambda line: None)
    assert access.sign_in(engine, ROLE_FACILITATOR, typed) is None
    assert access.sign_in(engine, ROLE_ORGANIZER, typed) is None


def test_one_character_off_opens_nothing(engine):
    code = access.passcode(engine, ROLE_FACILITATOR).code
    last = code[-1]
    other = next(ch for ch in access.PASSCODE_ALPHABET if ch != last)
    assert access.sign_in(engine, ROLE_FACILITATOR, code[:-1] + other) is None
    assert access.sign_in(engine, ROLE_FACILITATOR, code[:-1]) is None
    assert access.sign_in(engine, ROLE_FACILITATOR, code + "2") is None


def test_organizer_may_do_what_a_facilitator_may_but_not_the_other_way(engine):
    passcodes = access.ensure_passcodes(engine, announce=lambda line: None)
    facilitator, organizer = passcodes[ROLE_FACILITATOR].code, passcodes[ROLE_ORGANIZER].code

    assert access.sign_in(engine, ROLE_FACILITATOR, organizer) == ROLE_ORGANIZER
    assert access.sign_in(engine, ROLE_ORGANIZER, organizer) == ROLE_ORGANIZER
    assert access.sign_in(engine, ROLE_ORGANIZER, facilitator) is None

    assert access.may_act_as(ROLE_ORGANIZER, ROLE_FACILITATOR)
    assert access.may_act_as(ROLE_FACILITATOR, ROLE_FACILITATOR)
    assert not access.may_act_as(ROLE_FACILITATOR, ROLE_ORGANIZER)
    assert not access.may_act_as(None, ROLE_FACILITATOR)
    assert not access.may_act_as("participant", ROLE_FACILITATOR)


def test_sign_ins_are_audited_without_the_passcode(engine):
    passcodes = access.ensure_passcodes(engine, announce=lambda line: None)
    facilitator, organizer = passcodes[ROLE_FACILITATOR].code, passcodes[ROLE_ORGANIZER].code

    access.sign_in(engine, ROLE_FACILITATOR, facilitator)
    access.sign_in(engine, ROLE_ORGANIZER, "guess-one")
    access.sign_in(engine, ROLE_FACILITATOR, organizer)
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


def test_throttle_lets_five_typos_through_then_waits_longer_each_time():
    throttle = Throttle()
    now = 1000.0
    for _ in range(4):
        assert throttle.check(now) == 0
        assert throttle.failed(now) == 0
    assert throttle.failed(now) == 2  # the fifth wrong passcode
    assert throttle.check(now) == 2
    assert throttle.check(now + 1.5) == pytest.approx(0.5)
    assert throttle.check(now + 2) == 0

    waits = []
    for _ in range(7):
        now += throttle.check(now)
        waits.append(throttle.failed(now))
    assert waits == [4, 8, 16, 32, 60, 60, 60]


def test_throttle_forgets_failures_after_a_right_passcode():
    throttle = Throttle()
    for second in range(6):
        throttle.failed(float(second))
    assert throttle.check(5.0) > 0

    throttle.succeeded()

    assert throttle.check(5.0) == 0
    for _ in range(4):
        assert throttle.failed(5.0) == 0
    assert throttle.failed(5.0) == 2
