"""Opening a clinic: the demo on first start, nothing lost on restart, catalog edits take effect."""

from __future__ import annotations

from dataclasses import replace

from clinic import participants
from clinic.setup import Clinic, demo_event_settings
from store import catalog as catalog_store

MUSEUM_FR = "Comment convaincre un musée de partager ses collections numérisées ?"


def test_first_start_loads_the_demo_clinic(database_url, demo_catalog):
    clinic = Clinic.open(database_url)
    try:
        event = clinic.default_event()
        assert event["code"] == demo_event_settings()["code"] == "wmcon2018"
        assert event["submissions_open"] is True
        with clinic.engine.connect() as connection:
            assert catalog_store.load_catalog(connection, event["id"]) == demo_catalog
    finally:
        clinic.engine.dispose()


def test_a_restart_keeps_the_clinic_and_loads_nothing_twice(database_url):
    first = Clinic.open(database_url)
    ticket = participants.submit_challenge(
        first, "wmcon2018", "How do we find a sponsor for our contest?", ["en"]
    ).ticket
    first.engine.dispose()

    again = Clinic.open(database_url)
    try:
        with again.engine.connect() as connection:
            assert [e["code"] for e in catalog_store.list_events(connection)] == ["wmcon2018"]
        assert participants.answer_for_ticket(again, ticket).ticket == ticket
    finally:
        again.engine.dispose()


def test_without_the_demo_the_database_starts_empty(database_url):
    clinic = Clinic.open(database_url, load_demo=False)
    try:
        assert clinic.default_event() is None
        assert clinic.event("wmcon2018") is None
    finally:
        clinic.engine.dispose()


def test_the_router_is_fitted_once_per_catalog_version(clinic, small_event, small_catalog):
    event = clinic.event(small_event)
    router = clinic.router(event)
    assert clinic.router(event) is router
    assert router.catalog_ == small_catalog


def test_a_catalog_edit_takes_effect_for_the_next_participant(clinic, small_event, small_catalog):
    before = participants.submit_challenge(clinic, small_event, MUSEUM_FR, ["fr"])
    assert before.triage_reason == "no_shared_language"

    # The organizer records that Ben speaks French too.
    edited = replace(
        small_catalog,
        experts=tuple(replace(e, languages=("en", "fr")) if e.id == "ben" else e for e in small_catalog.experts),
    )
    event = clinic.event(small_event)
    with clinic.engine.begin() as connection:
        catalog_store.save_catalog(connection, event["id"], edited)

    after = participants.submit_challenge(clinic, small_event, MUSEUM_FR, ["fr"])
    assert (after.table, after.expert_name, after.language) == (2, "Ben", "fr")
    assert clinic.router(event).catalog_ == edited
