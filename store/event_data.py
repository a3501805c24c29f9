"""Everything one event holds, read whole (the organizers' "export everything"), and the writes
that erase its participants' personal data after the event.

What is personal data, and what the erasure puts in its place, is decided in
`clinic.documentation`; this module only reads and writes the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update

from store.catalog import now, touch_event
from store.schema import assignments, challenges, examples, metadata

# Credentials, not data: whoever holds a challenge's ticket (or the key of the form that sent it)
# may edit or withdraw it, so no export carries them.
SECRET_COLUMNS: dict[str, tuple[str, ...]] = {"challenges": ("ticket", "submission_key")}


def event_tables() -> list[Table]:
    """Every table whose rows belong to an event, parents before children (so a new table is
    exported without anyone remembering to add it here)."""
    return [table for table in metadata.sorted_tables if "event_id" in table.c]


def rows_of_event(connection: Connection, event_id: int, names: Sequence[str] | None = None) -> dict[str, list[dict]]:
    """Table name -> the event's rows (in primary-key order), without the secret columns."""
    found: dict[str, list[dict]] = {}
    for table in event_tables():
        if names is not None and table.name not in names:
            continue
        hidden = SECRET_COLUMNS.get(table.name, ())
        columns = [column for column in table.c if column.name not in hidden]
        query = select(*columns).where(table.c.event_id == event_id).order_by(*table.primary_key.columns)
        found[table.name] = [dict(row) for row in connection.execute(query).mappings()]
    return found


def rewrite_challenges(connection: Connection, event_id: int, rewrite: Callable[[dict], dict[str, Any]]) -> int:
    """Overwrite each challenge of the event with `rewrite(challenge)`; returns how many.

    Each challenge's version moves on, so a board that still shows the old row cannot act on it.
    """
    rows = connection.execute(select(challenges).where(challenges.c.event_id == event_id).order_by(challenges.c.id))
    count = 0
    for row in [dict(row) for row in rows.mappings()]:
        connection.execute(
            update(challenges)
            .where(challenges.c.id == row["id"])
            .values(**rewrite(row), version=challenges.c.version + 1, updated_at=now())
        )
        count += 1
    touch_event(connection, event_id)
    return count


def forget_routing_terms(connection: Connection, event_id: int) -> None:
    """Clear the words of challenge texts that assignments keep to explain a route."""
    connection.execute(update(assignments).where(assignments.c.event_id == event_id).values(terms=[]))


def delete_examples(connection: Connection, event_id: int, source: str) -> int:
    """Delete the event's labelled examples from `source` (e.g. copies of challenge texts); returns how many."""
    result = connection.execute(delete(examples).where(examples.c.event_id == event_id, examples.c.source == source))
    return int(result.rowcount or 0)
