"""What a participant does: submit a challenge, see where to sit, edit it, withdraw it.

Routing (the expensive part) happens before the transaction; taking the seat happens inside it,
with the event locked, so two people can never both take a table's last seat.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from clinic.errors import Rejected
from clinic.seating import assignment_values, live_occupancy
from clinic.setup import Clinic
from matching.limits import MAX_CHALLENGE_CHARS, MAX_NAME_CHARS
from matching.text import clean_text, normalize, words
from store import catalog as catalog_store
from store import challenges as challenge_store
from store.engine import in_transaction

# Tickets: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L): 32^8 ≈ 10^12
# codes, so a ticket cannot be guessed, yet it can be read aloud or typed from a phone.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_LENGTH = 8

# A challenge in these states can no longer be edited by its author.
CLOSED_STATUSES = (challenge_store.STATUS_WITHDRAWN, challenge_store.STATUS_DONE)


def new_ticket() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))


def normalize_ticket(ticket: str) -> str:
    """Accept a ticket as people type it: any case, with spaces or dashes."""
    return "".join(ch for ch in (ticket or "").upper() if ch.isalnum())[:32]


def format_ticket(ticket: str) -> str:
    return f"{ticket[:4]}-{ticket[4:]}"


def new_submission_key() -> str:
    """One per drawn form: submitting the same form twice stores the challenge once."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Answer:
    """Everything the participant's answer card shows (ids resolved to names)."""

    ticket: str
    event_code: str
    text: str
    participant_name: str
    languages: tuple[str, ...]
    status: str
    topic: str
    topic_name: str
    topic_score: float
    confidence: str
    terms: tuple[str, ...]
    alternatives: tuple[str, ...]
    detected_language: str | None
    table: int | None
    expert_name: str | None
    expert_affiliation: str | None
    language: str | None
    triage_reason: str | None
    round: int
    topic_languages: tuple[str, ...] = ()  # what the experts at this topic's tables speak

    @property
    def seated(self) -> bool:
        return self.table is not None


def validate_challenge(text: str, name: str, languages: Sequence[str], known_languages: Sequence[str]):
    """Cleaned (text, name, languages), or `Rejected` saying what to fix."""
    text = clean_text(text or "")
    name = " ".join(clean_text(name or "").split())
    if not words(normalize(text)):
        raise Rejected("empty", "Please write your challenge: a sentence or two is enough.")
    if len(text) > MAX_CHALLENGE_CHARS:
        raise Rejected(
            "too_long",
            f"Your challenge is {len(text):,} characters long; please shorten it to {MAX_CHALLENGE_CHARS:,}.",
            length=len(text),
            limit=MAX_CHALLENGE_CHARS,
        )
    if len(name) > MAX_NAME_CHARS:
        raise Rejected(
            "name_too_long", f"Please shorten your name to {MAX_NAME_CHARS} characters.", limit=MAX_NAME_CHARS
        )
    chosen = tuple(dict.fromkeys(code for code in languages if code))
    unknown = [code for code in chosen if code not in known_languages]
    if unknown:
        raise Rejected("unknown_language", f"This clinic does not offer: {', '.join(unknown)}.", languages=unknown)
    if not chosen:
        raise Rejected("no_language", "Please pick at least one language you can talk in.")
    return text, name, chosen


def detect_language(clinic: Clinic, event_code: str, text: str) -> str | None:
    """The clinic language the text is written in, to preselect the participant's languages."""
    return clinic.router(clinic.require_event(event_code)).detector_.detect(text)


def submit_challenge(
    clinic: Clinic,
    event_code: str,
    text: str,
    languages: Sequence[str],
    name: str = "",
    submission_key: str | None = None,
) -> Answer:
    """Store a challenge and seat it (or send it to triage) in one transaction."""
    event = clinic.require_event(event_code)
    if not event["submissions_open"]:
        raise Rejected("closed", "Submissions are closed for this clinic. Please ask a facilitator.")
    router = clinic.router(event)
    text, name, languages = validate_challenge(text, name, languages, router.catalog_.language_codes)
    submission_key = submission_key or new_submission_key()
    with clinic.engine.connect() as connection:
        earlier = challenge_store.challenge_by_submission_key(connection, submission_key)
    if earlier:
        return answer_for_ticket(clinic, earlier["ticket"])
    (read,) = router.read([text], [languages])

    def store(connection):
        # Lock first, then look: on PostgreSQL (read committed) a copy of this form sent at the
        # same moment is only visible after its transaction released the lock.
        locked = catalog_store.lock_event(connection, event["id"])
        again = challenge_store.challenge_by_submission_key(connection, submission_key)
        if again:
            return again["ticket"]
        round_number = locked["current_round"]
        route = router.seat(read, live_occupancy(connection, event["id"], round_number))
        challenge = challenge_store.insert_challenge(
            connection,
            event["id"],
            ticket=new_ticket(),
            submission_key=submission_key,
            text=text,
            participant_name=name,
            languages=list(languages),
            detected_language=route.detected_language,
            status=challenge_store.STATUS_ASSIGNED if route.seated else challenge_store.STATUS_WAITING,
        )
        challenge_store.save_assignment(connection, challenge, round_number, **assignment_values(route))
        return challenge["ticket"]

    ticket = in_transaction(clinic.engine, store)
    return answer_for_ticket(clinic, ticket)


def edit_challenge(clinic: Clinic, ticket: str, text: str, languages: Sequence[str], name: str | None = None) -> Answer:
    """Change the text or languages of one's challenge; it is routed again (unless a facilitator locked it)."""
    challenge = challenge_for_ticket(clinic, ticket)
    if challenge["status"] in CLOSED_STATUSES:
        raise Rejected("not_editable", "This challenge is closed and can no longer be edited.")
    with clinic.engine.connect() as connection:
        event = catalog_store.event_by_id(connection, challenge["event_id"])
    router = clinic.router(event)
    name = challenge["participant_name"] if name is None else name
    text, name, languages = validate_challenge(text, name, languages, router.catalog_.language_codes)
    (read,) = router.read([text], [languages])

    def store(connection):
        locked_event = catalog_store.lock_event(connection, event["id"])
        round_number = locked_event["current_round"]
        current = challenge_store.challenge_by_ticket(connection, challenge["ticket"])
        if current["status"] in CLOSED_STATUSES:  # withdrawn (or done) since it was read above
            raise Rejected("not_editable", "This challenge is closed and can no longer be edited.")
        assignment = challenge_store.current_assignment(connection, current["id"], round_number)
        updates = {
            "text": text,
            "participant_name": name,
            "languages": list(languages),
            "detected_language": read.detected_language,
        }
        if assignment and assignment["locked"]:
            challenge_store.update_challenge(connection, current, **updates)
            return
        if assignment:  # free the old seat before choosing again
            challenge_store.save_assignment(connection, current, round_number, table_number=None, expert_id=None)
        route = router.seat(read, live_occupancy(connection, event["id"], round_number))
        status = challenge_store.STATUS_ASSIGNED if route.seated else challenge_store.STATUS_WAITING
        current = challenge_store.update_challenge(connection, current, **updates, status=status)
        challenge_store.save_assignment(connection, current, round_number, **assignment_values(route))

    in_transaction(clinic.engine, store)
    return answer_for_ticket(clinic, challenge["ticket"])


def withdraw_challenge(clinic: Clinic, ticket: str) -> Answer:
    """Take one's challenge back: the seat is freed at once."""
    challenge = challenge_for_ticket(clinic, ticket)

    def store(connection):
        # Freeing a seat is a seat decision too: wait for an edit of this challenge to finish.
        catalog_store.lock_event(connection, challenge["event_id"])
        current = challenge_store.challenge_by_ticket(connection, challenge["ticket"])
        if current["status"] != challenge_store.STATUS_WITHDRAWN:
            challenge_store.update_challenge(connection, current, status=challenge_store.STATUS_WITHDRAWN)

    in_transaction(clinic.engine, store)
    return answer_for_ticket(clinic, challenge["ticket"])


def challenge_for_ticket(clinic: Clinic, ticket: str) -> dict:
    """The stored challenge a ticket opens, or Rejected("unknown_ticket")."""
    with clinic.engine.connect() as connection:
        challenge = challenge_store.challenge_by_ticket(connection, normalize_ticket(ticket))
    if challenge is None:
        raise Rejected("unknown_ticket", "No challenge has this ticket. Please check the code.")
    return challenge


def answer_for_ticket(clinic: Clinic, ticket: str) -> Answer:
    """The participant's card as the store holds it now."""
    challenge = challenge_for_ticket(clinic, ticket)
    with clinic.engine.connect() as connection:
        event = catalog_store.event_by_id(connection, challenge["event_id"])
        assignment = challenge_store.current_assignment(connection, challenge["id"], event["current_round"]) or {}
    catalog = clinic.router(event).catalog_
    topic_id = assignment.get("topic_id") or ""
    topic_names = {topic.id: topic.name for topic in catalog.topics}
    expert = next((e for e in catalog.experts if e.id == assignment.get("expert_id")), None)
    return Answer(
        ticket=challenge["ticket"],
        event_code=event["code"],
        text=challenge["text"],
        participant_name=challenge["participant_name"],
        languages=tuple(challenge["languages"] or ()),
        status=challenge["status"],
        topic=topic_id,
        topic_name=topic_names.get(topic_id, topic_id),
        topic_score=float(assignment.get("topic_score") or 0.0),
        confidence=assignment.get("confidence") or "low",
        terms=tuple(assignment.get("terms") or ()),
        alternatives=tuple(a[0] for a in assignment.get("alternatives") or ()),
        detected_language=challenge["detected_language"],
        table=assignment.get("table_number"),
        expert_name=expert.name if expert else None,
        expert_affiliation=expert.affiliation if expert else None,
        language=assignment.get("language"),
        triage_reason=assignment.get("triage_reason"),
        round=event["current_round"],
        topic_languages=tuple(
            dict.fromkeys(
                code
                for table in catalog.tables
                if table.topic == topic_id
                for host in catalog.hosts(table.number)
                for code in host.languages
            )
        ),
    )


def event_languages(clinic: Clinic, event_code: str):
    """The languages a participant can pick, in the organizers' order."""
    return clinic.router(clinic.require_event(event_code)).catalog_.languages


def topic_names(clinic: Clinic, event_code: str, language: str | None) -> dict[str, str]:
    """Topic id -> name in `language` where the catalog has it, else in the default."""
    catalog = clinic.router(clinic.require_event(event_code)).catalog_
    return {topic.id: topic.name_in(language) for topic in catalog.topics}


def event_language_codes(clinic: Clinic, event_code: str) -> tuple[str, ...]:
    return tuple(language.code for language in event_languages(clinic, event_code))
