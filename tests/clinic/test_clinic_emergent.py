"""Similar challenges, "me too" and suggested topics in a running clinic (SQLite, and PostgreSQL when asked)."""

from __future__ import annotations

import csv
import random
from dataclasses import fields
from pathlib import Path

import pytest
from sqlalchemy import select

from clinic import emergent, participants
from clinic.access import ROLE_FACILITATOR, ROLE_ORGANIZER
from clinic.errors import Rejected
from clinic.facilitation import set_status
from matching.catalog import expert_id_for
from store import catalog as catalog_store
from store import challenges as challenge_store
from store.schema import me_too as me_too_table

EVENT = "wmcon2018"
DATA = Path(__file__).resolve().parents[2] / "data"

RADIO_EN = "How do we get a local radio station to invite us for an interview about Wikipedia?"
RADIO_EN_2 = "Our local radio station wants to interview us about Wikipedia. How do we prepare for the radio show?"
GRANTS_EN = "How do we find sponsors and donors to fund our photo contest? Which grant should we apply for?"
EXAMPLES_OF_OTHER_TOPICS = [
    "How do we write a memorandum of understanding and a contract with licence clauses?",
    "Comment convaincre la bibliothèque nationale d'accueillir un wikipédien en résidence ?",
    "Hur laddar vi upp museets metadata och öppna data till Wikidata?",
]
# Radio and TV questions that are in no suggestion and no example: where does the new topic send them?
NEW_RADIO = [
    "A radio journalist asked us to explain on air how anyone can edit Wikipedia. What should we say?",
    "Une émission de radio veut parler de notre concours photo. Comment préparer l'interview ?",
    "¿Cómo convencemos a una radio local de hablar de Wikipedia en su programa de la mañana?",
    "The TV channel wants a Wikipedian on their talk show next week. Who should go and what do we say?",
]


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


PLANTED = _rows(DATA / "synthetic" / "radio_tv.csv")
DEV = [row for path in sorted((DATA / "dev").glob("*.csv")) for row in _rows(path)]


def rejected(call, *args, **kwargs) -> Rejected:
    with pytest.raises(Rejected) as caught:
        call(*args, **kwargs)
    return caught.value


def submit(clinic, text, languages=("en",), name=""):
    return participants.submit_challenge(clinic, EVENT, text, list(languages), name=name)


def challenge_id(clinic, ticket: str) -> int:
    with clinic.engine.connect() as connection:
        return challenge_store.challenge_by_ticket(connection, ticket)["id"]


def store_challenges(clinic, rows: list[dict]) -> dict[str, int]:
    """Store challenges as submitted (waiting, with a name and a ticket) in one go; csv id -> challenge id."""
    event = clinic.event(EVENT)
    stored = {}
    with clinic.engine.begin() as connection:
        for i, row in enumerate(rows):
            challenge = challenge_store.insert_challenge(
                connection,
                event["id"],
                ticket=participants.new_ticket(),
                submission_key=participants.new_submission_key(),
                text=row["text"],
                participant_name=f"Participant {i}",
                languages=[row["language"]],
                detected_language=row["language"],
                status=challenge_store.STATUS_WAITING,
            )
            stored[row["id"]] = challenge["id"]
    return stored


@pytest.fixture
def planted(clinic) -> dict[str, int]:
    """The demo clinic with 200 development challenges and the 30 planted radio/TV ones."""
    return store_challenges(clinic, random.Random(0).sample(DEV, 200) + PLANTED)


def planted_ids(stored: dict[str, int]) -> set[int]:
    return {stored[row["id"]] for row in PLANTED}


def radio_suggestion(clinic, stored):
    planted = planted_ids(stored)
    return max(emergent.topic_suggestions(clinic, EVENT), key=lambda s: len(planted & set(s.members)))


# -- similar challenges ---------------------------------------------------------------------------


def test_similar_challenges_are_mutual_and_ignore_withdrawn_ones(clinic):
    first = submit(clinic, RADIO_EN, name="Amina")
    second = submit(clinic, RADIO_EN_2, name="Bongani")
    submit(clinic, GRANTS_EN, name="Carla")
    a, b = challenge_id(clinic, first.ticket), challenge_id(clinic, second.ticket)

    (near_a,) = emergent.similar_to(clinic, EVENT, a)
    (near_b,) = emergent.similar_to(clinic, EVENT, b)
    assert (near_a.challenge_id, near_b.challenge_id) == (b, a)
    assert near_a.similarity == near_b.similarity > 0
    assert [s.challenge_id for s in emergent.similar_to_text(clinic, EVENT, RADIO_EN)][:1] == [a]

    participants.withdraw_challenge(clinic, second.ticket)

    assert emergent.similar_to(clinic, EVENT, a) == []
    assert b not in [s.challenge_id for s in emergent.similar_to_text(clinic, EVENT, RADIO_EN_2)]
    # Asked about, a withdrawn challenge still has active ones like it; it is never one of them.
    assert [s.challenge_id for s in emergent.similar_to(clinic, EVENT, b)] == [a]


def test_a_challenge_closed_by_a_facilitator_is_no_longer_similar_to_anything(clinic):
    first = submit(clinic, RADIO_EN)
    second = submit(clinic, RADIO_EN_2)
    with clinic.engine.connect() as connection:
        board_version = challenge_store.challenge_by_ticket(connection, second.ticket)["version"]
    set_status(clinic, EVENT, challenge_id(clinic, second.ticket), board_version, "done", ROLE_FACILITATOR)
    assert emergent.similar_for_ticket(clinic, first.ticket) == []


def test_what_a_participant_is_shown_carries_no_name_and_no_ticket(clinic):
    mine = submit(clinic, RADIO_EN, name="Amina Diallo")
    theirs = submit(clinic, RADIO_EN_2, name="Bongani Zulu")

    shown = emergent.similar_for_ticket(clinic, mine.ticket)

    assert [s.challenge_id for s in shown] == [challenge_id(clinic, theirs.ticket)]
    assert {f.name for f in fields(shown[0])} == {"challenge_id", "text", "similarity", "me_too"}
    assert shown[0].text == RADIO_EN_2
    for secret in ("Amina", "Bongani", mine.ticket, theirs.ticket):
        assert secret not in repr(shown)
        assert secret not in repr(emergent.similar_to_text(clinic, EVENT, RADIO_EN))


def test_an_unknown_challenge_or_event_is_refused(clinic):
    assert rejected(emergent.similar_to, clinic, EVENT, 999_999).code == "unknown_challenge"
    assert rejected(emergent.similar_to_text, clinic, "nope", RADIO_EN).code == "unknown_event"
    assert emergent.similar_to_text(clinic, EVENT, "  ?! ") == []


def test_the_board_names_even_a_pair_of_near_duplicates(clinic):
    first = submit(clinic, RADIO_EN)
    second = submit(clinic, RADIO_EN_2)
    for text in (GRANTS_EN, *EXAMPLES_OF_OTHER_TOPICS):
        submit(clinic, text)

    (group,) = emergent.similar_groups(clinic, EVENT)

    assert set(group.challenge_ids) == {challenge_id(clinic, first.ticket), challenge_id(clinic, second.ticket)}
    # Words both use and the others do not ("radio" is a word of half the demo topics: not news here).
    assert group.terms and all(term in RADIO_EN and term in RADIO_EN_2 for term in group.terms)
    assert group.others(group.challenge_ids[0]) == 1


# -- me too ------------------------------------------------------------------------------------


def test_me_too_counts_each_supporter_once_and_can_be_taken_back(clinic):
    asked = submit(clinic, RADIO_EN, name="Amina")
    mine = submit(clinic, RADIO_EN_2, name="Bongani")
    other = challenge_id(clinic, asked.ticket)
    key = emergent.new_supporter_key()

    assert emergent.me_too(clinic, mine.ticket, other) == 1
    assert emergent.me_too(clinic, mine.ticket, other) == 1  # twice counts once
    assert emergent.me_too(clinic, None, other, supporter_key=key) == 2  # someone without a challenge
    assert emergent.me_too_counts(clinic, EVENT) == {other: 2}
    assert emergent.joined(clinic, ticket=mine.ticket) == {other}
    assert emergent.joined(clinic, supporter_key=key) == {other}
    (shown,) = emergent.similar_for_ticket(clinic, mine.ticket)
    assert shown.me_too == 2

    assert emergent.undo_me_too(clinic, mine.ticket, other) == 1
    assert emergent.me_too_counts(clinic, EVENT) == {other: 1}


def test_me_too_stores_no_name_ticket_or_session_key(clinic):
    asked = submit(clinic, RADIO_EN, name="Amina")
    mine = submit(clinic, RADIO_EN_2, name="Bongani")
    key = emergent.new_supporter_key()
    emergent.me_too(clinic, mine.ticket, challenge_id(clinic, asked.ticket))
    emergent.me_too(clinic, None, challenge_id(clinic, asked.ticket), supporter_key=key)

    with clinic.engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(select(me_too_table)).mappings()]
    assert len(rows) == 2
    for secret in ("Amina", "Bongani", asked.ticket, mine.ticket, key):
        assert secret not in repr(rows)


def test_me_too_refuses_ones_own_closed_and_unknown_challenges(clinic):
    mine = submit(clinic, RADIO_EN)
    other = submit(clinic, RADIO_EN_2)
    assert rejected(emergent.me_too, clinic, mine.ticket, challenge_id(clinic, mine.ticket)).code == "own_challenge"
    assert rejected(emergent.me_too, clinic, mine.ticket, 999_999).code == "unknown_challenge"
    assert rejected(emergent.me_too, clinic, "NOTATICKET", challenge_id(clinic, other.ticket)).code == "unknown_ticket"
    assert rejected(emergent.me_too, clinic, None, challenge_id(clinic, other.ticket)).code == "no_supporter"
    participants.withdraw_challenge(clinic, other.ticket)
    assert rejected(emergent.me_too, clinic, mine.ticket, challenge_id(clinic, other.ticket)).code == "closed_challenge"


def test_me_too_shows_on_the_board_at_once(clinic):
    asked = submit(clinic, RADIO_EN)
    with clinic.engine.connect() as connection:
        before = catalog_store.change_marker(connection, clinic.event(EVENT)["id"])
    emergent.me_too(clinic, None, challenge_id(clinic, asked.ticket), supporter_key=emergent.new_supporter_key())
    with clinic.engine.connect() as connection:
        after = catalog_store.change_marker(connection, clinic.event(EVENT)["id"])
    assert after[0] > before[0] and after[1] == before[1]  # the board redraws; the router stays


# -- the planted event: board groups, suggestions, a new topic ----------------------------------


def test_the_board_groups_the_planted_challenges(clinic, planted):
    groups = emergent.similar_groups(clinic, EVENT)
    radio = max(groups, key=lambda g: len(planted_ids(planted) & set(g.challenge_ids)))
    assert len(planted_ids(planted) & set(radio.challenge_ids)) >= 0.8 * len(PLANTED)
    assert "radio" in radio.terms
    one = next(iter(planted_ids(planted) & set(radio.challenge_ids)))
    assert emergent.group_of(groups, one) is radio and radio.others(one) == radio.size - 1
    members = [m for g in groups for m in g.challenge_ids]
    assert len(members) == len(set(members))


def test_a_planted_cluster_is_suggested_and_becomes_a_topic_the_router_uses(clinic, planted):
    suggestion = radio_suggestion(clinic, planted)
    recall = len(planted_ids(planted) & set(suggestion.members)) / len(PLANTED)
    print(f"planted recall {recall:.2f} in '{suggestion.name}' ({suggestion.size} members): {suggestion.reason}")
    assert recall >= 0.8
    assert "radio" in suggestion.terms
    event = clinic.event(EVENT)
    old_router = clinic.router(event)

    table = emergent.create_topic_from_suggestion(
        clinic, EVENT, suggestion, "radio-tv", "Radio and TV", ROLE_ORGANIZER, expert_id=expert_id_for("Felix Nartey")
    )

    router = clinic.router(event)
    assert router is not old_router and "radio-tv" in router.classifier_.topics_
    assert any(t.number == table and t.topic == "radio-tv" for t in router.catalog_.tables)
    assert [e.name for e in router.catalog_.hosts(table)] == ["Felix Nartey"]
    texts = [row["text"] for row in PLANTED]
    routed = [route.topic for route in router.route(texts)]
    assert routed.count("radio-tv") >= 0.9 * len(texts)
    fresh = [route.topic for route in router.route(NEW_RADIO)]
    print(f"planted routed to the new topic: {routed.count('radio-tv')}/{len(texts)}; new radio/TV texts: {fresh}")
    assert fresh.count("radio-tv") >= 3
    answer = submit(clinic, NEW_RADIO[0], ["en"])
    assert (answer.topic, answer.table) == ("radio-tv", table)
    # The suggestion does not come back, though its members now crowd the new table.
    assert suggestion.key not in [s.key for s in emergent.topic_suggestions(clinic, EVENT)]
    with clinic.engine.connect() as connection:
        (audit,) = [e for e in challenge_store.audit_entries(connection, event["id"]) if e["action"] == "create_topic"]
        examples = catalog_store.count_examples(connection, event["id"], "confirmed")
    assert audit["target"] == "topic:radio-tv" and audit["role"] == ROLE_ORGANIZER
    assert audit["detail"]["examples"] == suggestion.size == examples


def test_creating_a_topic_is_for_organizers_and_checks_what_it_is_given(clinic, planted):
    suggestion = radio_suggestion(clinic, planted)
    create = emergent.create_topic_from_suggestion
    with clinic.engine.connect() as connection:
        version = catalog_store.change_marker(connection, clinic.event(EVENT)["id"])[1]
    assert rejected(create, clinic, EVENT, suggestion, "radio", "Radio", ROLE_FACILITATOR).code == "forbidden"
    assert rejected(create, clinic, EVENT, suggestion, "Radio TV!", "Radio", ROLE_ORGANIZER).code == "bad_topic_id"
    assert rejected(create, clinic, EVENT, suggestion, "outreach", "Radio", ROLE_ORGANIZER).code == "topic_exists"
    assert rejected(create, clinic, EVENT, suggestion, "radio", "  ", ROLE_ORGANIZER).code == "no_topic_name"
    unknown = rejected(create, clinic, EVENT, suggestion, "radio", "Radio", ROLE_ORGANIZER, expert_id="nobody")
    assert unknown.code == "unknown_expert"
    with clinic.engine.connect() as connection:
        assert catalog_store.change_marker(connection, clinic.event(EVENT)["id"])[1] == version  # nothing changed
    # Without an expert the table waits for a host: the topic routes, nobody is seated there yet.
    table = create(clinic, EVENT, suggestion, "radio", "Radio", ROLE_ORGANIZER, capacity=6)
    catalog = clinic.router(clinic.event(EVENT)).catalog_
    assert next(t for t in catalog.tables if t.number == table).capacity == 6
    assert catalog.hosts(table) == ()


def test_a_dismissed_suggestion_stays_dismissed_as_it_grows(clinic, planted):
    suggestion = radio_suggestion(clinic, planted)
    assert rejected(emergent.dismiss_suggestion, clinic, EVENT, suggestion, ROLE_FACILITATOR).code == "forbidden"

    emergent.dismiss_suggestion(clinic, EVENT, suggestion, ROLE_ORGANIZER)
    store_challenges(clinic, [{"id": f"more-{i}", "language": "en", "text": text} for i, text in enumerate(NEW_RADIO)])

    remaining = emergent.topic_suggestions(clinic, EVENT)
    assert not any(len(planted_ids(planted) & set(s.members)) >= 10 for s in remaining)
    with clinic.engine.connect() as connection:
        actions = [e["action"] for e in challenge_store.audit_entries(connection, clinic.event(EVENT)["id"])]
    assert "dismiss_suggestion" in actions


def test_overlap_warnings_are_quiet_for_the_demo_topics(clinic, planted):
    assert emergent.topic_overlap_warnings(clinic, EVENT) == []
