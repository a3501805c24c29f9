"""Events and their catalogs (languages, topics, experts, tables, labelled examples) in the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from matching.catalog import Catalog, Example, Expert, Language, Table, Topic
from store.schema import assignments, clinic_tables, events, examples, experts, languages, topics

EVENT_FIELDS = (
    "code",
    "title",
    "conference",
    "date",
    "minutes",
    "rounds",
    "minutes_per_round",
    "default_language",
    "submissions_open",
    "learn_from_corrections",
)


def now() -> datetime:
    return datetime.now(UTC)


def create_event(connection: Connection, settings: Mapping[str, Any]) -> int:
    values = {key: settings[key] for key in EVENT_FIELDS if key in settings}
    return connection.execute(insert(events).values(**values, created_at=now())).inserted_primary_key[0]


def event_by_code(connection: Connection, code: str) -> dict | None:
    row = connection.execute(select(events).where(events.c.code == code)).mappings().first()
    return dict(row) if row else None


def event_by_id(connection: Connection, event_id: int) -> dict | None:
    row = connection.execute(select(events).where(events.c.id == event_id)).mappings().first()
    return dict(row) if row else None


def list_events(connection: Connection) -> list[dict]:
    return [dict(row) for row in connection.execute(select(events).order_by(events.c.id)).mappings()]


def count_events(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(events)).scalar_one()


def lock_event(connection: Connection, event_id: int) -> dict:
    """Take the event's row lock until commit: seat decisions of one event happen one at a time.

    On PostgreSQL this is `SELECT ... FOR UPDATE`; on SQLite the transaction already holds the
    write lock (BEGIN IMMEDIATE), and the clause is left out.
    """
    row = connection.execute(select(events).where(events.c.id == event_id).with_for_update()).mappings().one()
    return dict(row)


def touch_event(connection: Connection, event_id: int, catalog_changed: bool = False) -> None:
    """Record that something live views show has changed (and, if so, the catalog)."""
    values: dict[str, Any] = {"change_counter": events.c.change_counter + 1}
    if catalog_changed:
        values["catalog_version"] = events.c.catalog_version + 1
    connection.execute(update(events).where(events.c.id == event_id).values(**values))


def change_marker(connection: Connection, event_id: int) -> tuple[int, int]:
    """(change counter, catalog version): the cheap "has anything changed" query."""
    row = connection.execute(
        select(events.c.change_counter, events.c.catalog_version).where(events.c.id == event_id)
    ).one()
    return int(row[0]), int(row[1])


def save_catalog(connection: Connection, event_id: int, catalog: Catalog) -> None:
    """Replace the event's catalog with `catalog` (within the caller's transaction)."""
    for table in (languages, topics, experts):
        connection.execute(delete(table).where(table.c.event_id == event_id))
    _save_tables(connection, event_id, catalog.tables)
    connection.execute(delete(examples).where(examples.c.event_id == event_id, examples.c.source == "sample"))
    if catalog.languages:
        connection.execute(
            insert(languages),
            [{"event_id": event_id, "position": i, **vars(language)} for i, language in enumerate(catalog.languages)],
        )
    if catalog.topics:
        connection.execute(
            insert(topics),
            [
                {
                    "event_id": event_id,
                    "topic_id": topic.id,
                    "name": topic.name,
                    "description": topic.description,
                    "keywords": {code: list(words) for code, words in topic.keywords.items()},
                    "names": dict(topic.names),
                    "descriptions": dict(topic.descriptions),
                    "active": topic.active,
                    "position": i,
                }
                for i, topic in enumerate(catalog.topics)
            ],
        )
    if catalog.experts:
        connection.execute(
            insert(experts),
            [
                {
                    "event_id": event_id,
                    "expert_id": e.id,
                    "name": e.name,
                    "affiliation": e.affiliation,
                    "topics": list(e.topics),
                    "languages": list(e.languages),
                    "expertise": e.expertise,
                    "capacity": e.capacity,
                    "present": e.present,
                    "table_number": e.table,
                    "position": i,
                }
                for i, e in enumerate(catalog.experts)
            ],
        )
    samples = [x for x in catalog.examples if not x.id.startswith("confirmed:")]
    if samples:
        connection.execute(
            insert(examples),
            [
                {
                    "event_id": event_id,
                    "text": x.text,
                    "topic_id": x.topic,
                    "language": x.language,
                    "source": "sample",
                    "label": x.id,
                }
                for x in samples
            ],
        )
    touch_event(connection, event_id, catalog_changed=True)


def _save_tables(connection: Connection, event_id: int, tables: tuple[Table, ...]) -> None:
    """Update the event's tables in place, so their locks and the people seated at them stay.

    Assignments at a removed table lose their table first: the foreign key's ON DELETE SET NULL
    cannot do it, as it would also clear the (NOT NULL) event id of the composite key.
    """
    existing = set(
        connection.execute(select(clinic_tables.c.number).where(clinic_tables.c.event_id == event_id)).scalars()
    )
    wanted = {t.number for t in tables}
    removed = existing - wanted
    if removed:
        connection.execute(
            update(assignments)
            .where(assignments.c.event_id == event_id, assignments.c.table_number.in_(removed))
            .values(table_number=None)
        )
        connection.execute(
            delete(clinic_tables).where(clinic_tables.c.event_id == event_id, clinic_tables.c.number.in_(removed))
        )
    for t in tables:
        if t.number in existing:
            connection.execute(
                update(clinic_tables)
                .where(clinic_tables.c.event_id == event_id, clinic_tables.c.number == t.number)
                .values(topic_id=t.topic, capacity=t.capacity)
            )
    added = [
        {"event_id": event_id, "number": t.number, "topic_id": t.topic, "capacity": t.capacity}
        for t in tables
        if t.number not in existing
    ]
    if added:
        connection.execute(insert(clinic_tables), added)


def load_catalog(connection: Connection, event_id: int) -> Catalog:
    def rows(table, *order):
        return connection.execute(select(table).where(table.c.event_id == event_id).order_by(*order)).mappings()

    return Catalog(
        languages=tuple(
            Language(code=r["code"], name=r["name"], native_name=r["native_name"], direction=r["direction"])
            for r in rows(languages, languages.c.position)
        ),
        topics=tuple(
            Topic(
                id=r["topic_id"],
                name=r["name"],
                description=r["description"],
                keywords={code: tuple(words) for code, words in (r["keywords"] or {}).items()},
                names=dict(r["names"] or {}),
                descriptions=dict(r["descriptions"] or {}),
                active=bool(r["active"]),
            )
            for r in rows(topics, topics.c.position)
        ),
        experts=tuple(
            Expert(
                id=r["expert_id"],
                name=r["name"],
                affiliation=r["affiliation"],
                topics=tuple(r["topics"] or ()),
                languages=tuple(r["languages"] or ()),
                expertise=r["expertise"],
                capacity=r["capacity"],
                present=bool(r["present"]),
                table=r["table_number"],
            )
            for r in rows(experts, experts.c.position)
        ),
        tables=tuple(
            Table(number=r["number"], topic=r["topic_id"], capacity=r["capacity"])
            for r in rows(clinic_tables, clinic_tables.c.number)
        ),
        examples=tuple(
            Example(
                text=r["text"],
                topic=r["topic_id"],
                language=r["language"],
                id=r["label"] if r["source"] == "sample" else f"confirmed:{r['id']}",
            )
            for r in rows(examples, examples.c.id)
        ),
    )


def set_table_locked(connection: Connection, event_id: int, number: int, locked: bool) -> None:
    connection.execute(
        update(clinic_tables)
        .where(clinic_tables.c.event_id == event_id, clinic_tables.c.number == number)
        .values(locked=locked)
    )
    touch_event(connection, event_id)


def locked_tables(connection: Connection, event_id: int) -> set[int]:
    rows = connection.execute(
        select(clinic_tables.c.number).where(clinic_tables.c.event_id == event_id, clinic_tables.c.locked.is_(True))
    )
    return {int(row[0]) for row in rows}


def start_round(connection: Connection, event_id: int, round_number: int) -> None:
    connection.execute(
        update(events).where(events.c.id == event_id).values(current_round=round_number, round_started_at=now())
    )
    touch_event(connection, event_id)


def add_example(connection: Connection, event_id: int, text: str, topic: str, language: str | None,
                source: str, label: str = "") -> None:  # fmt: skip
    """A labelled challenge; confirmed ones reach the router at the next `learn` (catalog version bump)."""
    connection.execute(
        insert(examples).values(
            event_id=event_id, text=text, topic_id=topic, language=language, source=source, label=label
        )
    )


def count_examples(connection: Connection, event_id: int, source: str) -> int:
    return connection.execute(
        select(func.count()).select_from(examples).where(examples.c.event_id == event_id, examples.c.source == source)
    ).scalar_one()


def update_event(connection: Connection, event_id: int, values: Mapping[str, Any]) -> None:
    connection.execute(update(events).where(events.c.id == event_id).values(**values))
    touch_event(connection, event_id)
