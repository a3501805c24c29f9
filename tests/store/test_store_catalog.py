"""Events and their catalogs, as the organizer saves them and the router reads them back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from matching import Catalog, Expert, Language, Table, Topic, load_catalog
from store import catalog as catalog_store
from store.engine import create_schema
from store.schema import examples

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture
def db(engine):
    create_schema(engine)
    return engine


@pytest.fixture(scope="module")
def demo_catalog() -> Catalog:
    return load_catalog(DEMO)


def new_event(connection, code="wmcon2018", **settings):
    return catalog_store.create_event(connection, {"code": code, "title": f"Clinic {code}", **settings})


def test_create_event_and_find_it_by_code_and_id(db):
    with db.begin() as connection:
        event_id = new_event(
            connection,
            "wmcon2018",
            conference="Wikimedia Conference 2018",
            rounds=3,
            submissions_open=False,
            ignored_key="not a column",
        )

    with db.connect() as connection:
        by_code = catalog_store.event_by_code(connection, "wmcon2018")
        by_id = catalog_store.event_by_id(connection, event_id)
        assert catalog_store.event_by_code(connection, "nope") is None
        assert catalog_store.event_by_id(connection, event_id + 1) is None
    assert by_code == by_id
    assert by_code["conference"] == "Wikimedia Conference 2018"
    assert by_code["rounds"] == 3
    assert by_code["submissions_open"] is False
    # What a new event starts with.
    assert by_code["current_round"] == 1
    assert by_code["minutes_per_round"] == 35
    assert by_code["default_language"] == "en"
    assert by_code["created_at"] is not None


def test_events_are_listed_oldest_first_and_counted(db):
    with db.begin() as connection:
        for code in ("wmcon2018", "wmcon2019", "wmcon2020"):
            new_event(connection, code)
    with db.connect() as connection:
        assert [e["code"] for e in catalog_store.list_events(connection)] == ["wmcon2018", "wmcon2019", "wmcon2020"]
        assert catalog_store.count_events(connection) == 3


def test_two_events_cannot_share_a_code(db):
    """The code is the join link: it must name one clinic."""
    with db.begin() as connection:
        new_event(connection, "wmcon2018")
    with pytest.raises(IntegrityError), db.begin() as connection:
        new_event(connection, "wmcon2018")


def test_touch_event_moves_the_change_marker(db):
    """The board re-renders when the marker moves; a catalog edit also moves the catalog version."""
    with db.begin() as connection:
        event_id = new_event(connection)
        start = catalog_store.change_marker(connection, event_id)
        catalog_store.touch_event(connection, event_id)
        after_live_change = catalog_store.change_marker(connection, event_id)
        catalog_store.touch_event(connection, event_id, catalog_changed=True)
        after_catalog_change = catalog_store.change_marker(connection, event_id)

    assert after_live_change == (start[0] + 1, start[1])
    assert after_catalog_change == (start[0] + 2, start[1] + 1)


def test_lock_event_returns_the_event_row(db):
    with db.begin() as connection:
        event_id = new_event(connection)
        assert catalog_store.lock_event(connection, event_id)["code"] == "wmcon2018"


def test_the_demo_catalog_round_trips_unchanged(db, demo_catalog):
    """What the organizer saved is exactly what the router is fitted on."""
    with db.begin() as connection:
        event_id = new_event(connection)
        version_before = catalog_store.change_marker(connection, event_id)[1]
        catalog_store.save_catalog(connection, event_id, demo_catalog)

    with db.connect() as connection:
        loaded = catalog_store.load_catalog(connection, event_id)
        version_after = catalog_store.change_marker(connection, event_id)[1]

    assert loaded == demo_catalog
    # Order matters to people: languages and topics are shown in the organizers' order.
    assert [t.id for t in loaded.topics] == [
        "grants",
        "outreach",
        "managing",
        "exit",
        "formalities",
        "glam",
        "regional",
        "data",
    ]
    assert loaded.language_codes == ("en", "fr", "es", "ar", "sv", "he")
    assert version_after == version_before + 1  # routers fitted on the old catalog are now stale


def test_saving_again_replaces_the_catalog(db, demo_catalog):
    smaller = replace(
        demo_catalog,
        topics=demo_catalog.topics[:2],
        experts=tuple(e for e in demo_catalog.experts if e.table in (1, 2)),
        tables=demo_catalog.tables[:2],
        examples=tuple(x for x in demo_catalog.examples if x.topic in ("grants", "outreach")),
    )
    with db.begin() as connection:
        event_id = new_event(connection)
        catalog_store.save_catalog(connection, event_id, demo_catalog)
        catalog_store.save_catalog(connection, event_id, smaller)

    with db.connect() as connection:
        assert catalog_store.load_catalog(connection, event_id) == smaller


def test_saving_the_catalog_keeps_confirmed_examples(db, demo_catalog):
    """Facilitator-confirmed seats are what the router learns from: a catalog edit must not lose them."""
    with db.begin() as connection:
        event_id = new_event(connection)
        catalog_store.save_catalog(connection, event_id, demo_catalog)
        connection.execute(
            insert(examples).values(
                event_id=event_id,
                text="Nos archives veulent verser des données dans Wikidata.",
                topic_id="data",
                language="fr",
                source="confirmed",
            )
        )
        with_confirmed = catalog_store.load_catalog(connection, event_id)
        # The organizer edits a topic; the catalog they save includes the confirmed example as loaded.
        catalog_store.save_catalog(connection, event_id, with_confirmed)
        after_edit = catalog_store.load_catalog(connection, event_id)

    confirmed = [x for x in after_edit.examples if x.id.startswith("confirmed:")]
    assert [(x.text, x.topic, x.language) for x in confirmed] == [
        ("Nos archives veulent verser des données dans Wikidata.", "data", "fr")
    ]
    assert len(after_edit.examples) == len(demo_catalog.examples) + 1


def test_each_event_has_its_own_catalog(db, demo_catalog):
    """A yearly conference copies last year's catalog and edits it; last year's stays as it was."""
    next_year = replace(
        demo_catalog,
        topics=tuple(replace(t, name=t.name + " (2019)") if t.id == "data" else t for t in demo_catalog.topics),
        tables=tuple(replace(t, capacity=4) for t in demo_catalog.tables),
    )
    with db.begin() as connection:
        first = new_event(connection, "wmcon2018")
        second = new_event(connection, "wmcon2019")
        catalog_store.save_catalog(connection, first, demo_catalog)
        catalog_store.save_catalog(connection, second, next_year)

    with db.connect() as connection:
        assert catalog_store.load_catalog(connection, first) == demo_catalog
        assert catalog_store.load_catalog(connection, second) == next_year
        assert catalog_store.change_marker(connection, first)[1] == catalog_store.change_marker(connection, second)[1]


def test_json_columns_keep_lists_maps_and_every_script(db):
    """Keywords per language, an expert's topics and languages come back as they were saved."""
    catalog = Catalog(
        languages=(
            Language("ar", "Arabic", "العربية", "rtl"),
            Language("he", "Hebrew", "עברית", "rtl"),
            Language("fr", "French", "Français"),
        ),
        topics=(
            Topic(
                id="glam",
                name="GLAM",
                description="Musées, bibliothèques",
                keywords={"ar": ("المتاحف", "الأرشيف"), "he": ("מוזיאון", "ארכיון"), "fr": ("musée", 'l\'archive "x"')},
                names={"ar": "المتاحف والمكتبات", "he": "מוזיאונים"},
                descriptions={"fr": "Galeries, bibliothèques, archives et musées 🏛️"},
            ),
            Topic(id="empty", name="No keywords", active=False),
        ),
        experts=(
            Expert(
                id="emna-mizouni",
                name="Emna Mizouni",
                topics=("glam",),
                languages=("ar", "fr"),
                table=1,
                capacity=3,
                present=False,
            ),
            Expert(id="nobody", name="Without table"),
        ),
        tables=(Table(number=1, topic="glam", capacity=2),),
    )
    with db.begin() as connection:
        event_id = new_event(connection)
        catalog_store.save_catalog(connection, event_id, catalog)
    with db.connect() as connection:
        loaded = catalog_store.load_catalog(connection, event_id)

    assert loaded == catalog
    assert loaded.topics[0].keywords["ar"] == ("المتاحف", "الأرشيف")
    assert loaded.experts[0].languages == ("ar", "fr")
    assert loaded.experts[0].present is False
    assert loaded.experts[1].table is None
    assert loaded.topics[1].active is False
