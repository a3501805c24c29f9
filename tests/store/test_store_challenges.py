"""Challenges, their seats per round, occupancy and the audit log, as the store keeps them."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from matching import Catalog, Expert, Language, Table, Topic
from store import catalog as catalog_store
from store import challenges as challenge_store
from store.engine import create_schema
from store.schema import challenges

CATALOG = Catalog(
    languages=(Language("en", "English", "English"), Language("fr", "French", "Français")),
    topics=(Topic("grants", "Grants"), Topic("data", "Data")),
    experts=(
        Expert("ana", "Ana", topics=("grants",), languages=("en", "fr"), table=1),
        Expert("ben", "Ben", topics=("grants",), languages=("en",), table=1),
        Expert("cy", "Cy", topics=("data",), languages=("en",), table=2),
    ),
    tables=(Table(1, "grants", capacity=3), Table(2, "data", capacity=3)),
)

_numbers = itertools.count(1)


@pytest.fixture
def db(engine):
    create_schema(engine)
    return engine


@pytest.fixture
def event_id(db):
    with db.begin() as connection:
        event_id = catalog_store.create_event(connection, {"code": "wmcon2018", "title": "Clinic"})
        catalog_store.save_catalog(connection, event_id, CATALOG)
    return event_id


def add_challenge(connection, event_id, text="How do we find funders?", **values):
    n = next(_numbers)
    values = {"ticket": f"T{n:07d}", "submission_key": f"key-{n}", "text": text, "languages": ["en"], **values}
    return challenge_store.insert_challenge(connection, event_id, **values)


def seat(connection, challenge, table, expert, round_number=1, **values):
    return challenge_store.save_assignment(
        connection, challenge, round_number, table_number=table, expert_id=expert, topic_id="grants", **values
    )


def test_a_new_challenge_is_stored_at_version_1_and_found_by_ticket_and_key(db, event_id):
    with db.begin() as connection:
        marker = catalog_store.change_marker(connection, event_id)[0]
        stored = add_challenge(
            connection,
            event_id,
            ticket="ABCD2345",
            submission_key="form-1",
            participant_name="Emna",
            languages=["ar", "fr"],
            detected_language="fr",
        )
        assert catalog_store.change_marker(connection, event_id)[0] > marker  # the board will show it

    with db.connect() as connection:
        by_ticket = challenge_store.challenge_by_ticket(connection, "ABCD2345")
        by_key = challenge_store.challenge_by_submission_key(connection, "form-1")
        assert challenge_store.challenge_by_ticket(connection, "ZZZZ9999") is None
        assert challenge_store.challenge_by_submission_key(connection, "form-2") is None
    assert by_ticket == by_key == stored
    assert stored["version"] == 1
    assert stored["status"] == challenge_store.STATUS_WAITING
    assert stored["languages"] == ["ar", "fr"]
    assert stored["participant_name"] == "Emna"
    assert stored["created_at"] is not None and stored["updated_at"] is not None


def test_the_same_submission_key_cannot_be_stored_twice(db, event_id):
    """The database itself guarantees a form submitted twice makes one challenge."""
    with db.begin() as connection:
        add_challenge(connection, event_id, submission_key="form-1")
    with pytest.raises(IntegrityError), db.begin() as connection:
        add_challenge(connection, event_id, submission_key="form-1")
    with db.connect() as connection:
        assert connection.execute(select(func.count()).select_from(challenges)).scalar_one() == 1


def test_tickets_are_unique(db, event_id):
    with db.begin() as connection:
        add_challenge(connection, event_id, ticket="ABCD2345")
    with pytest.raises(IntegrityError), db.begin() as connection:
        add_challenge(connection, event_id, ticket="ABCD2345")


def test_update_challenge_writes_and_bumps_the_version(db, event_id):
    with db.begin() as connection:
        read = add_challenge(connection, event_id)
        updated = challenge_store.update_challenge(connection, read, text="Where do we find sponsors?")
    assert updated["text"] == "Where do we find sponsors?"
    assert updated["version"] == read["version"] + 1
    assert updated["updated_at"] >= read["updated_at"]


def test_updating_from_a_stale_read_is_refused(db, event_id):
    """Two facilitators (or a facilitator and the participant) must not overwrite each other silently."""
    with db.begin() as connection:
        read = add_challenge(connection, event_id)
    with db.begin() as connection:
        challenge_store.update_challenge(connection, read, status=challenge_store.STATUS_WITHDRAWN)

    with pytest.raises(challenge_store.StaleVersion), db.begin() as connection:
        challenge_store.update_challenge(connection, read, text="Overwritten?")

    with db.connect() as connection:
        now = challenge_store.challenge_by_ticket(connection, read["ticket"])
    assert now["status"] == challenge_store.STATUS_WITHDRAWN
    assert now["text"] == read["text"]
    assert now["version"] == 2


def test_save_assignment_replaces_the_seat_of_the_same_round(db, event_id):
    with db.begin() as connection:
        challenge = add_challenge(connection, event_id)
        first = seat(connection, challenge, 1, "ana", language="fr", topic_score=0.8, confidence="high")
        moved = seat(connection, challenge, 2, "cy", language="en", method="manual", locked=True)
        next_round = seat(connection, challenge, 1, "ben", round_number=2)

    assert moved["id"] == first["id"]
    assert (moved["table_number"], moved["expert_id"], moved["language"]) == (2, "cy", "en")
    assert (moved["method"], moved["locked"]) == ("manual", True)
    assert next_round["id"] != first["id"]
    with db.connect() as connection:
        assert challenge_store.current_assignment(connection, challenge["id"], 1)["table_number"] == 2
        assert challenge_store.current_assignment(connection, challenge["id"], 2)["table_number"] == 1
        assert challenge_store.current_assignment(connection, challenge["id"], 3) is None


def test_assignment_json_columns_round_trip(db, event_id):
    with db.begin() as connection:
        challenge = add_challenge(connection, event_id)
        stored = seat(
            connection,
            challenge,
            None,
            None,
            alternatives=[["data", 0.25], ["exit", 0.1]],
            terms=["subvención", "تمويل", "מימון", "💶"],
            candidates=[1, 2],
            triage_reason="low_confidence",
        )
    assert stored["alternatives"] == [["data", 0.25], ["exit", 0.1]]
    assert stored["terms"] == ["subvención", "تمويل", "מימון", "💶"]
    assert stored["candidates"] == [1, 2]
    assert stored["table_number"] is None
    assert stored["triage_reason"] == "low_confidence"


def test_occupancy_counts_seated_active_challenges_of_the_round(db, event_id):
    with db.begin() as connection:
        for status, table, expert in [
            (challenge_store.STATUS_ASSIGNED, 1, "ana"),
            (challenge_store.STATUS_ASSIGNED, 1, "ana"),
            (challenge_store.STATUS_IN_CONVERSATION, 1, "ben"),
            (challenge_store.STATUS_WAITING, 2, "cy"),
        ]:
            seat(connection, add_challenge(connection, event_id, status=status), table, expert)
        # None of these takes a seat in round 1:
        seat(connection, add_challenge(connection, event_id, status=challenge_store.STATUS_WITHDRAWN), 1, "ana")
        seat(connection, add_challenge(connection, event_id, status=challenge_store.STATUS_DONE), 1, "ben")
        seat(connection, add_challenge(connection, event_id), None, None)  # triage
        seat(connection, add_challenge(connection, event_id), 2, "cy", round_number=2)
        add_challenge(connection, event_id)  # not routed yet

        tables, experts = challenge_store.occupancy(connection, event_id, 1)

    assert tables == {1: 3, 2: 1}
    assert experts == {"ana": 2, "ben": 1, "cy": 1}


def test_withdrawing_frees_the_seat(db, event_id):
    with db.begin() as connection:
        challenge = add_challenge(connection, event_id, status=challenge_store.STATUS_ASSIGNED)
        seat(connection, challenge, 1, "ana")
        assert challenge_store.occupancy(connection, event_id, 1) == ({1: 1}, {"ana": 1})
        challenge_store.update_challenge(connection, challenge, status=challenge_store.STATUS_WITHDRAWN)
        assert challenge_store.occupancy(connection, event_id, 1) == ({}, {})


def test_occupancy_is_per_event(db, event_id):
    with db.begin() as connection:
        other = catalog_store.create_event(connection, {"code": "wmcon2019", "title": "Next year"})
        catalog_store.save_catalog(connection, other, CATALOG)
        seat(connection, add_challenge(connection, other, status=challenge_store.STATUS_ASSIGNED), 1, "ana")
        seat(connection, add_challenge(connection, event_id, status=challenge_store.STATUS_ASSIGNED), 2, "cy")

        assert challenge_store.occupancy(connection, event_id, 1) == ({2: 1}, {"cy": 1})
        assert challenge_store.occupancy(connection, other, 1) == ({1: 1}, {"ana": 1})


def test_challenges_with_assignments_lists_active_challenges_with_their_seat(db, event_id):
    with db.begin() as connection:
        seated = add_challenge(connection, event_id, status=challenge_store.STATUS_ASSIGNED)
        seat(connection, seated, 1, "ana", language="fr", method="manual", locked=True)
        unrouted = add_challenge(connection, event_id)
        withdrawn = add_challenge(connection, event_id, status=challenge_store.STATUS_WITHDRAWN)
        seat(connection, withdrawn, 2, "cy")

        board = challenge_store.challenges_with_assignments(connection, event_id, 1)
        everything = challenge_store.challenges_with_assignments(
            connection, event_id, 1, statuses=(*challenge_store.ACTIVE_STATUSES, challenge_store.STATUS_WITHDRAWN)
        )

    assert [row["id"] for row in board] == [seated["id"], unrouted["id"]]
    first, second = board
    assert (first["table_number"], first["expert_id"], first["conversation_language"]) == (1, "ana", "fr")
    assert (first["locked"], first["method"]) == (True, "manual")
    assert first["text"] == seated["text"]
    assert second["table_number"] is None and second["expert_id"] is None
    assert [row["id"] for row in everything] == [seated["id"], unrouted["id"], withdrawn["id"]]


def test_audit_entries_record_who_did_what_in_order(db, event_id):
    with db.begin() as connection:
        other = catalog_store.create_event(connection, {"code": "other", "title": "Other"})
        challenge_store.record_audit(
            connection,
            event_id,
            "facilitator",
            "move",
            "challenge:7",
            from_table=1,
            to_table=2,
            reason="Besoin d'un expert francophone",
        )
        challenge_store.record_audit(connection, event_id, "organizer", "import_catalog")
        challenge_store.record_audit(connection, other, "organizer", "erase_personal_data")

    with db.connect() as connection:
        entries = challenge_store.audit_entries(connection, event_id)
    assert [(e["role"], e["action"], e["target"]) for e in entries] == [
        ("facilitator", "move", "challenge:7"),
        ("organizer", "import_catalog", ""),
    ]
    assert entries[0]["detail"] == {"from_table": 1, "to_table": 2, "reason": "Besoin d'un expert francophone"}
    assert entries[1]["detail"] == {}
    assert entries[0]["at"] is not None


VERBATIM_TEXTS = {
    "arabic": "كيف نقنع المتحف بمشاركة مجموعاته الرقمية على ويكيميديا كومنز؟",
    "hebrew_with_niqqud": "אֵיךְ מְשַׁכְנְעִים מוּזֵיאוֹן לְשַׁתֵּף אוֹסְפִים?",
    "mixed_direction": "Our partner (מוזיאון ישראל) wants a MOU / مذكرة تفاهم by 2018-05-01.",
    "emoji": "Funding 💶💶 for our 🏳️‍🌈 editathon with 👩🏽‍💻 volunteers 🎉",
    "sql": "Robert'); DROP TABLE challenges;-- \" OR 1=1 -- % _ \\ ;",
    "markup": "<script>alert('x')</script> **bold** [link](javascript:alert(1)) <b>&amp;</b> =SUM(A1:A9)",
    "whitespace": "Line one\n\n\tIndented line two   with  spaces",
    "long": "ș" * 1999 + "\U0001f600",
}


@pytest.mark.parametrize("text", VERBATIM_TEXTS.values(), ids=VERBATIM_TEXTS.keys())
def test_text_is_stored_verbatim(db, event_id, text):
    """What the participant typed comes back byte for byte: no escaping, trimming or re-encoding."""
    with db.begin() as connection:
        stored = add_challenge(connection, event_id, text=text, participant_name=text[:80])
        challenge_store.record_audit(connection, event_id, "participant", "submit", text, text=text)
    with db.connect() as connection:
        again = challenge_store.challenge_by_ticket(connection, stored["ticket"])
        entry = challenge_store.audit_entries(connection, event_id)[-1]
        # The SQL text really is data: every table is still there.
        assert connection.execute(select(func.count()).select_from(challenges)).scalar_one() == 1
    assert again["text"] == text
    assert again["participant_name"] == text[:80]
    assert entry["target"] == text
    assert entry["detail"] == {"text": text}
