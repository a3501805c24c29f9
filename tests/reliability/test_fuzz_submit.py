"""The submit use case on random input: either refused in words, or stored whole and valid.

Every generated form (text, name, languages) goes through `participants.submit_challenge` into a
real database (SQLite and PostgreSQL). After each one the store is checked: the stored text is the
cleaned text (no control characters, nothing cut), the languages are the clinic's, the seat exists
and has room, the ticket opens the same card; a refusal stores nothing. The database fills up as
the examples run, so later cases meet full tables.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from clinic import participants
from clinic.errors import Rejected
from matching.limits import MAX_CHALLENGE_CHARS, MAX_NAME_CHARS
from matching.text import clean_text, normalize, words
from store import challenges as challenge_store
from store.schema import assignments, challenges

EVENT = "wmcon2018"
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
TICKET = re.compile(f"[{participants.TICKET_ALPHABET}]{{{participants.TICKET_LENGTH}}}")

# What people paste: markup, SQL, spreadsheet formulas, right-to-left text, emoji, control characters.
# Lone surrogates are left out: a browser sends UTF-8, so they never reach the page (the router's
# fuzz covers them).
NASTY = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "&lt;b&gt; &amp; &#60;",
    "'; DROP TABLE challenges; --",
    '" OR 1=1 --',
    "%_\\",
    '=HYPERLINK("http://x","y")',
    "+1-2@SUM(A1)",
    "مرحبا بكم",
    "שלום",
    "👩🏽\u200d💻",
    "\x00\x07\u202e\ufeff",
    "\r\n\t",
    "   ",
]
WORDS = ["sponsor", "museum", "partenariat", "subvención", "متحف", "מוזיאון", "bibliotek", "Wikidata", "radio"]
SENTENCES = st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(NASTY), st.text(max_size=15)), min_size=1).map(
    lambda pieces: " ".join(["How", "do", "we", *pieces, "?"])
)  # always a word or two: most of these are stored, so the store's checks run often
TEXTS = st.one_of(
    SENTENCES,
    SENTENCES,
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=20)), max_size=8).map(" ".join),
    st.sampled_from(["", " ", "\x00", "a", "How do we find a sponsor?"]),
    st.integers(MAX_CHALLENGE_CHARS - 2, MAX_CHALLENGE_CHARS + 3).map(lambda n: ("Sponsor? " * 300)[:n]),
)
NAMES = st.one_of(st.text(max_size=90), st.sampled_from(NASTY))
CODES = ["en", "fr", "es", "ar", "sv", "he"]
LANGUAGES = st.one_of(
    st.lists(st.sampled_from(CODES), min_size=1, max_size=4),
    st.lists(st.sampled_from(CODES), min_size=1, max_size=4),
    st.lists(st.one_of(st.sampled_from([*CODES, ""]), st.text(max_size=3)), max_size=4),
)


def count(clinic, table) -> int:
    with clinic.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def check_stored(clinic, answer, text: str, name: str, languages: list[str]) -> None:
    """The stored row is whole and exactly what the participant was told."""
    event = clinic.event(EVENT)
    catalog = clinic.router(event).catalog_
    with clinic.engine.connect() as connection:
        row = challenge_store.challenge_by_ticket(connection, answer.ticket)
        assignment = challenge_store.current_assignment(connection, row["id"], event["current_round"])
        tables, experts = challenge_store.occupancy(connection, event["id"], event["current_round"])
    assert TICKET.fullmatch(row["ticket"])
    assert row["text"] == clean_text(text) == answer.text
    assert words(normalize(row["text"])) and len(row["text"]) <= MAX_CHALLENGE_CHARS
    assert row["participant_name"] == " ".join(clean_text(name).split())
    assert len(row["participant_name"]) <= MAX_NAME_CHARS
    assert row["languages"] == list(dict.fromkeys(code for code in languages if code))
    assert set(row["languages"]) <= set(catalog.language_codes) and row["languages"]
    assert row["detected_language"] is None or row["detected_language"] in catalog.language_codes
    assert assignment is not None and assignment["topic_id"] in {topic.id for topic in catalog.topics}
    if assignment["table_number"] is None:
        assert row["status"] == challenge_store.STATUS_WAITING and assignment["triage_reason"]
    else:
        assert row["status"] == challenge_store.STATUS_ASSIGNED
        table = next(t for t in catalog.tables if t.number == assignment["table_number"])
        assert tables[table.number] <= table.capacity
        assert catalog.expert(assignment["expert_id"]).table == table.number
        assert assignment["language"] in row["languages"]
    assert all(load <= catalog.expert(expert).capacity for expert, load in experts.items())
    assert participants.answer_for_ticket(clinic, answer.ticket) == answer


@pytest.fixture
def fuzz_clinic(clinic):
    clinic.router(clinic.event(EVENT))  # fitted once, before the first example
    return clinic


@settings(FUZZ, max_examples=800)
@given(text=TEXTS, name=NAMES, languages=LANGUAGES)
def test_random_forms_are_refused_or_stored_whole(fuzz_clinic, figures, text, name, languages):
    clinic = fuzz_clinic
    backend = clinic.engine.dialect.name
    figures.add("fuzz cases", f"submit [{backend}]", 1)
    before = count(clinic, challenges), count(clinic, assignments)
    try:
        answer = participants.submit_challenge(clinic, EVENT, text, languages, name=name)
    except Rejected as refused:
        figures.add(f"fuzz submit outcomes [{backend}]", f"refused {refused.code}", 1)
        assert refused.code in {"empty", "too_long", "name_too_long", "unknown_language", "no_language"}
        assert refused.message
        assert (count(clinic, challenges), count(clinic, assignments)) == before, "a refusal stored something"
        return
    assert (count(clinic, challenges), count(clinic, assignments)) == (before[0] + 1, before[1] + 1)
    check_stored(clinic, answer, text, name, languages)
    figures.add(f"fuzz submit outcomes [{backend}]", "stored seated" if answer.seated else "stored in triage", 1)


@settings(FUZZ, max_examples=2000)
@given(text=TEXTS, name=NAMES, languages=LANGUAGES)
def test_validation_refuses_with_a_known_reason_or_returns_clean_values(figures, text, name, languages):
    """The checks in front of the store, on their own (fast, so many more cases)."""
    figures.add("fuzz cases", "validate", 1)
    known = ("en", "fr", "es", "ar", "sv", "he")
    try:
        cleaned, clean_name, chosen = participants.validate_challenge(text, name, languages, known)
    except Rejected as refused:
        assert refused.code in {"empty", "too_long", "name_too_long", "unknown_language", "no_language"}
        return
    assert cleaned == clean_text(cleaned) and words(normalize(cleaned)) and len(cleaned) <= MAX_CHALLENGE_CHARS
    assert "\x00" not in cleaned + clean_name and len(clean_name) <= MAX_NAME_CHARS
    assert chosen and set(chosen) <= set(known) and len(set(chosen)) == len(chosen)
