"""Challenges, their assignments per round, occupancy and the audit log."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from store.catalog import now, touch_event
from store.schema import assignments, audit_log, challenges, notes

# A challenge's life: waiting for a seat (or in triage), assigned, at the table, done, withdrawn.
STATUS_WAITING = "waiting"
STATUS_ASSIGNED = "assigned"
STATUS_IN_CONVERSATION = "in_conversation"
STATUS_DONE = "done"
STATUS_WITHDRAWN = "withdrawn"
ACTIVE_STATUSES = (STATUS_WAITING, STATUS_ASSIGNED, STATUS_IN_CONVERSATION)


class StaleVersion(RuntimeError):
    """Someone changed the challenge since it was read."""


def challenge_by_submission_key(connection: Connection, key: str) -> dict | None:
    row = connection.execute(select(challenges).where(challenges.c.submission_key == key)).mappings().first()
    return dict(row) if row else None


def challenge_by_ticket(connection: Connection, ticket: str) -> dict | None:
    row = connection.execute(select(challenges).where(challenges.c.ticket == ticket)).mappings().first()
    return dict(row) if row else None


def insert_challenge(connection: Connection, event_id: int, **values: Any) -> dict:
    stamp = now()
    values = {"event_id": event_id, "created_at": stamp, "updated_at": stamp, **values}
    challenge_id = connection.execute(insert(challenges).values(**values)).inserted_primary_key[0]
    touch_event(connection, event_id)
    return dict(connection.execute(select(challenges).where(challenges.c.id == challenge_id)).mappings().one())


def update_challenge(connection: Connection, challenge: dict, **values: Any) -> dict:
    """Write `values` if the row is still at the version `challenge` was read at."""
    result = connection.execute(
        update(challenges)
        .where(challenges.c.id == challenge["id"], challenges.c.version == challenge["version"])
        .values(**values, version=challenges.c.version + 1, updated_at=now())
    )
    if result.rowcount != 1:
        raise StaleVersion(f"Challenge {challenge['id']} was changed by someone else.")
    touch_event(connection, challenge["event_id"])
    return dict(connection.execute(select(challenges).where(challenges.c.id == challenge["id"])).mappings().one())


def current_assignment(connection: Connection, challenge_id: int, round_number: int) -> dict | None:
    row = (
        connection.execute(
            select(assignments).where(assignments.c.challenge_id == challenge_id, assignments.c.round == round_number)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def save_assignment(connection: Connection, challenge: dict, round_number: int, **values: Any) -> dict:
    """Set the challenge's assignment for the round (replacing an earlier one)."""
    existing = current_assignment(connection, challenge["id"], round_number)
    if existing:
        connection.execute(update(assignments).where(assignments.c.id == existing["id"]).values(**values))
    else:
        connection.execute(
            insert(assignments).values(
                event_id=challenge["event_id"],
                challenge_id=challenge["id"],
                round=round_number,
                created_at=now(),
                **values,
            )
        )
    touch_event(connection, challenge["event_id"])
    return current_assignment(connection, challenge["id"], round_number)


def occupancy(connection: Connection, event_id: int, round_number: int) -> tuple[dict[int, int], dict[str, int]]:
    """Seats taken per table and challenges per expert in a round, counting active challenges only."""
    seated = (
        select(assignments.c.table_number, assignments.c.expert_id)
        .join(challenges, challenges.c.id == assignments.c.challenge_id)
        .where(
            assignments.c.event_id == event_id,
            assignments.c.round == round_number,
            assignments.c.table_number.is_not(None),
            challenges.c.status.in_(ACTIVE_STATUSES),
        )
        .subquery()
    )
    tables = dict(connection.execute(select(seated.c.table_number, func.count()).group_by(seated.c.table_number)).all())
    experts = dict(
        connection.execute(
            select(seated.c.expert_id, func.count()).where(seated.c.expert_id.is_not(None)).group_by(seated.c.expert_id)
        ).all()
    )
    return {int(k): int(v) for k, v in tables.items()}, {str(k): int(v) for k, v in experts.items()}


def challenges_with_assignments(
    connection: Connection, event_id: int, round_number: int, statuses: Sequence[str] = ACTIVE_STATUSES
) -> list[dict]:
    """Every challenge of the event in these statuses, with its assignment for the round (if any)."""
    query = (
        select(
            challenges,
            assignments.c.table_number,
            assignments.c.expert_id,
            assignments.c.language.label("conversation_language"),
            assignments.c.topic_id,
            assignments.c.topic_score,
            assignments.c.confidence,
            assignments.c.triage_reason,
            assignments.c.candidates,
            assignments.c.locked,
            assignments.c.method,
        )
        .select_from(
            challenges.outerjoin(
                assignments,
                and_(assignments.c.challenge_id == challenges.c.id, assignments.c.round == round_number),
            )
        )
        .where(challenges.c.event_id == event_id, challenges.c.status.in_(statuses))
        .order_by(challenges.c.id)
    )
    return [dict(row) for row in connection.execute(query).mappings()]


def record_audit(
    connection: Connection, event_id: int | None, role: str, action: str, target: str = "", **detail: Any
) -> None:
    connection.execute(
        insert(audit_log).values(event_id=event_id, at=now(), role=role, action=action, target=target, detail=detail)
    )


def audit_entries(connection: Connection, event_id: int) -> list[dict]:
    rows = connection.execute(select(audit_log).where(audit_log.c.event_id == event_id).order_by(audit_log.c.id))
    return [dict(row) for row in rows.mappings()]


def failures_since_success(
    connection: Connection, target: str, failure: str, success: str, since: datetime
) -> tuple[int, datetime | None]:
    """How many `failure` entries `target` has had after its last `success` and not before `since`,
    and when the latest of them was (UTC): the passcode throttle's memory, which every browser
    session and server process on the database shares.

    "After" goes by row id, not time, so a failure and a success in the same microsecond still
    come in the order they were written.
    """
    last_success = (
        select(func.max(audit_log.c.id))
        .where(audit_log.c.target == target, audit_log.c.action == success)
        .scalar_subquery()
    )
    count, latest = connection.execute(
        select(func.count(), func.max(audit_log.c.at)).where(
            audit_log.c.target == target,
            audit_log.c.action == failure,
            # `at` is always written in UTC: SQLite keeps it as naive text, so compare UTC with UTC.
            audit_log.c.at >= since.astimezone(UTC),
            audit_log.c.id > func.coalesce(last_success, 0),
        )
    ).one()
    if latest is not None and latest.tzinfo is None:  # SQLite returns naive datetimes; we always store UTC
        latest = latest.replace(tzinfo=UTC)
    return int(count), latest


def lock_audit_target(connection: Connection, target: str) -> None:
    """Hold `target`'s lock until commit, so two transactions that read its entries and then add
    one (two sign-ins from one address at once) take turns instead of both reading the old count.

    On PostgreSQL this is a transaction-level advisory lock keyed by the target; on SQLite the
    transaction already holds the write lock (BEGIN IMMEDIATE), and nothing more is needed.
    """
    if connection.dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"peer_clinic audit target {target}".encode()).digest()
    connection.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True))))


def challenge_by_id(connection: Connection, challenge_id: int) -> dict | None:
    row = connection.execute(select(challenges).where(challenges.c.id == challenge_id)).mappings().first()
    return dict(row) if row else None


def tables_sat_at(connection: Connection, challenge_id: int, before_round: int) -> set[int]:
    """Tables this challenge was seated at in earlier rounds (so a new round seats it elsewhere)."""
    rows = connection.execute(
        select(assignments.c.table_number).where(
            assignments.c.challenge_id == challenge_id,
            assignments.c.round < before_round,
            assignments.c.table_number.is_not(None),
        )
    )
    return {int(row[0]) for row in rows}


def add_note(connection: Connection, event_id: int, **values: Any) -> None:
    connection.execute(insert(notes).values(event_id=event_id, created_at=now(), **values))
    touch_event(connection, event_id)


def notes_of_event(connection: Connection, event_id: int) -> list[dict]:
    rows = connection.execute(select(notes).where(notes.c.event_id == event_id).order_by(notes.c.id))
    return [dict(row) for row in rows.mappings()]
