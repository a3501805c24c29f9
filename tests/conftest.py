"""Shared fixtures: every store and clinic test runs on SQLite and, when asked, on PostgreSQL.

Set PEER_CLINIC_TEST_PG to a PostgreSQL URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run
the same tests there too. Each PostgreSQL test gets a schema of its own (through `search_path` in
the URL), dropped afterwards, so tests never see each other's rows and may run against a database
that others use.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from clinic import setup
from clinic.setup import DEMO_FOLDER, Clinic
from matching import Catalog, Router, load_catalog
from store import catalog as catalog_store
from store.engine import make_engine

PG_VARIABLE = "PEER_CLINIC_TEST_PG"


@pytest.fixture(scope="session")
def _pg_admin():
    """An engine on the PostgreSQL test database, for creating and dropping per-test schemas."""
    base = os.environ.get(PG_VARIABLE)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_VARIABLE}=postgresql://user@host:port/database")
    engine = make_engine(base)
    yield base, engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A URL of an empty database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clinic.db'}"
        return
    base, admin = request.getfixturevalue("_pg_admin")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def engine(database_url):
    """An engine on the empty test database, without the schema (store tests create it)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_catalog() -> Catalog:
    """The shipped demo catalog, read from data/demo once for the whole session."""
    return load_catalog(DEMO_FOLDER)


@pytest.fixture(scope="session")
def demo_router(demo_catalog) -> Router:
    """The router fitted on the shipped demo catalog, fitted once for the whole session."""
    return Router().fit(demo_catalog)


@pytest.fixture
def clinic(database_url, demo_catalog, demo_router):
    """The product as a participant meets it: a fresh database holding the demo clinic.

    Two costs are paid once per session instead of once per test, without changing what is
    tested: reading data/demo (the YAML and CSV files do not change during a run), and fitting
    the router. `Clinic.router` caches routers by (event, catalog version); the session's router
    goes into that cache only when the catalog the store hands back equals the one it was fitted
    on, so every test routes exactly as a fresh `Clinic` would. A test that changes the catalog
    bumps the version and gets a freshly fitted router.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            setup, "load_catalog", lambda folder: demo_catalog if Path(folder) == DEMO_FOLDER else load_catalog(folder)
        )
        clinic = Clinic.open(database_url)
    event = clinic.default_event()
    with clinic.engine.connect() as connection:
        stored = catalog_store.load_catalog(connection, event["id"])
        _, version = catalog_store.change_marker(connection, event["id"])
    if stored == demo_router.catalog_:
        clinic._routers[(event["id"], version)] = demo_router
    yield clinic
    clinic.engine.dispose()
