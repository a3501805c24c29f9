"""Page tests run the real app (app.py → pages/submit.py) in AppTest, each on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from store import catalog as catalog_store
from store import challenges as challenge_store
from store.engine import DATABASE_URL_VARIABLE, make_engine
from store.schema import challenges

APP = Path(__file__).resolve().parents[2] / "app.py"
# The first run opens the database, loads the demo clinic and fits its router: more than AppTest's
# default 3 s on a slow CI machine.
RUN_TIMEOUT = 30


class Database:
    """Read what the store holds, to check a page's promise against the truth."""

    def __init__(self, url: str):
        self.url = url
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:  # only after the app created the schema and the demo clinic
            self._engine = make_engine(self.url)
        return self._engine

    def count_challenges(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(challenges)).scalar_one()

    def seats_taken(self) -> dict[int, int]:
        """Seats taken per table in the demo event's current round."""
        with self.engine.connect() as connection:
            event = catalog_store.list_events(connection)[-1]
            tables, _ = challenge_store.occupancy(connection, event["id"], event["current_round"])
        return tables

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A fresh SQLite file for the app, and a process cache emptied of the previous test's clinic."""
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv(DATABASE_URL_VARIABLE, url)
    st.cache_resource.clear()  # pages._ui.open_clinic keeps one Clinic (engine) per process
    database = Database(url)
    yield database
    database.dispose()
    st.cache_resource.clear()


@pytest.fixture
def new_session(database: Database):
    """Make a browser session of the app (not yet run); call it again for a second visitor."""

    def make() -> AppTest:
        return AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)

    return make


@pytest.fixture
def app(new_session) -> AppTest:
    """The participant page, opened once, as a phone opens the QR code's link."""
    at = new_session()
    at.run()
    assert not at.exception, at.exception
    return at
