"""A small second clinic next to the demo one, for situations the demo catalog may not keep."""

from __future__ import annotations

import pytest

from matching import Catalog, Expert, Language, Table, Topic
from store import catalog as catalog_store

SMALL_EVENT = "small"
SMALL_CATALOG = Catalog(
    languages=(Language("en", "English", "English"), Language("fr", "French", "Français")),
    topics=(
        Topic(
            "grants",
            "Grants",
            "Money: grants, sponsors, donors, budgets.",
            keywords={"en": ("grant", "sponsor", "budget"), "fr": ("subvention", "mécène", "budget")},
        ),
        Topic(
            "glam",
            "GLAM",
            "Galleries, libraries, archives and museums.",
            keywords={"en": ("museum", "library", "collection"), "fr": ("musée", "bibliothèque", "collections")},
        ),
        Topic(
            "outreach",
            "Outreach",
            "Finding new partners, media, radio and TV.",
            keywords={"en": ("radio", "media", "pitch"), "fr": ("radio", "médias", "presse")},
        ),
    ),
    experts=(
        Expert("ana", "Ana", topics=("grants",), languages=("en", "fr"), table=1),
        Expert("ben", "Ben", topics=("glam",), languages=("en",), table=2),  # no French at the glam table
        Expert("cy", "Cy", topics=("outreach",), languages=("en", "fr"), table=3),
    ),
    tables=(Table(1, "grants", capacity=2), Table(2, "glam", capacity=2), Table(3, "outreach", capacity=2)),
)


@pytest.fixture
def small_catalog() -> Catalog:
    return SMALL_CATALOG


@pytest.fixture
def small_event(clinic) -> str:
    """The code of a second clinic in the same database: three tables of two seats, and no
    French speaker at the glam table. Its router fits in well under a second."""
    with clinic.engine.begin() as connection:
        event_id = catalog_store.create_event(connection, {"code": SMALL_EVENT, "title": "Small clinic"})
        catalog_store.save_catalog(connection, event_id, SMALL_CATALOG)
    return SMALL_EVENT
