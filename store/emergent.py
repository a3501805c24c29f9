""" "Me too" links between challenges, and organizers' decisions about suggested topics."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, func, insert, select

from store.catalog import now, touch_event
from store.challenges import ACTIVE_STATUSES
from store.schema import challenges, me_too, suggestion_decisions

DECISION_DISMISSED = "dismissed"
DECISION_CREATED = "created"


def active_challenges(connection: Connection, event_id: int) -> list[dict]:
    """Id, text and detected language of the event's active challenges (never names or tickets)."""
    rows = connection.execute(
        select(challenges.c.id, challenges.c.text, challenges.c.detected_language)
        .where(challenges.c.event_id == event_id, challenges.c.status.in_(ACTIVE_STATUSES))
        .order_by(challenges.c.id)
    ).mappings()
    return [dict(row) for row in rows]


def _supporter(supporter_challenge_id: int | None, supporter_key: str | None):
    if (supporter_challenge_id is None) == (supporter_key is None):
        raise ValueError("A supporter is either a challenge or a key, not both or neither.")
    if supporter_challenge_id is not None:
        return me_too.c.supporter_challenge_id == supporter_challenge_id
    return me_too.c.supporter_key == supporter_key


def add_me_too(
    connection: Connection,
    event_id: int,
    challenge_id: int,
    supporter_challenge_id: int | None = None,
    supporter_key: str | None = None,
) -> bool:
    """Link a supporter to the challenge they join; False if they had already (nothing changes).

    The caller holds the event's lock, so two clicks of the same person cannot both insert.
    """
    known = connection.execute(
        select(me_too.c.id).where(
            me_too.c.challenge_id == challenge_id, _supporter(supporter_challenge_id, supporter_key)
        )
    ).first()
    if known:
        return False
    connection.execute(
        insert(me_too).values(
            event_id=event_id,
            challenge_id=challenge_id,
            supporter_challenge_id=supporter_challenge_id,
            supporter_key=supporter_key,
            created_at=now(),
        )
    )
    touch_event(connection, event_id)
    return True


def remove_me_too(
    connection: Connection,
    event_id: int,
    challenge_id: int,
    supporter_challenge_id: int | None = None,
    supporter_key: str | None = None,
) -> bool:
    """Undo a "me too"; False if there was none."""
    result = connection.execute(
        delete(me_too).where(
            me_too.c.event_id == event_id,
            me_too.c.challenge_id == challenge_id,
            _supporter(supporter_challenge_id, supporter_key),
        )
    )
    if result.rowcount:
        touch_event(connection, event_id)
    return bool(result.rowcount)


def me_too_counts(connection: Connection, event_id: int) -> dict[int, int]:
    """Challenge id -> how many said "me too" to it (challenges nobody joined are left out)."""
    rows = connection.execute(
        select(me_too.c.challenge_id, func.count()).where(me_too.c.event_id == event_id).group_by(me_too.c.challenge_id)
    )
    return {int(challenge_id): int(count) for challenge_id, count in rows}


def joined_by(
    connection: Connection, supporter_challenge_id: int | None = None, supporter_key: str | None = None
) -> set[int]:
    """The challenges this supporter said "me too" to."""
    rows = connection.execute(
        select(me_too.c.challenge_id).where(_supporter(supporter_challenge_id, supporter_key))
    ).scalars()
    return {int(challenge_id) for challenge_id in rows}


def me_too_links(connection: Connection, event_id: int) -> list[dict]:
    """Every "me too" of the event (challenge joined, supporting challenge or None), oldest first:
    what the documentation export needs to merge supporters under the question they joined."""
    rows = connection.execute(
        select(me_too.c.challenge_id, me_too.c.supporter_challenge_id, me_too.c.created_at)
        .where(me_too.c.event_id == event_id)
        .order_by(me_too.c.id)
    ).mappings()
    return [dict(row) for row in rows]


def add_suggestion_decision(
    connection: Connection,
    event_id: int,
    key: str,
    members: Sequence[int],
    decision: str,
    role: str,
    topic_id: str | None = None,
) -> None:
    """Remember what organizers did with a suggestion (a later decision on the same key replaces it)."""
    connection.execute(
        delete(suggestion_decisions).where(
            suggestion_decisions.c.event_id == event_id, suggestion_decisions.c.suggestion_key == key
        )
    )
    connection.execute(
        insert(suggestion_decisions).values(
            event_id=event_id,
            suggestion_key=key,
            members=[int(member) for member in members],
            decision=decision,
            topic_id=topic_id,
            role=role,
            created_at=now(),
        )
    )
    touch_event(connection, event_id)


def suggestion_decisions_of(connection: Connection, event_id: int) -> list[dict]:
    rows = connection.execute(
        select(suggestion_decisions)
        .where(suggestion_decisions.c.event_id == event_id)
        .order_by(suggestion_decisions.c.id)
    ).mappings()
    return [dict(row) for row in rows]
