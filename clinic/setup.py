"""Opening a clinic: the database, the demo clinic on first start, and fitted routers per catalog."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import yaml
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from clinic.errors import Rejected
from matching import Router, load_catalog
from store import catalog as catalog_store
from store.engine import create_schema, in_transaction, make_engine

DEMO_FOLDER = Path(__file__).resolve().parent.parent / "data" / "demo"


def demo_event_settings(folder: Path = DEMO_FOLDER) -> dict:
    spec = yaml.safe_load((folder / "catalog.yaml").read_text(encoding="utf-8"))
    return dict(spec["event"])


# Fitted topic models by what they learn from (topics, keywords, examples), shared by every
# Clinic of the process: events that reuse a catalog, and a restart of the page cache, fit once.
_FITTED: OrderedDict[str, Router] = OrderedDict()
_FITTED_LOCK = threading.Lock()
_FITTED_KEEP = 4


def _fitted_router(catalog) -> Router:
    fingerprint = hashlib.sha256(repr((catalog.topics, catalog.examples)).encode()).hexdigest()
    with _FITTED_LOCK:
        known = _FITTED.get(fingerprint)
    router = known.refit(catalog) if known else Router().fit(catalog)
    with _FITTED_LOCK:
        _FITTED[fingerprint] = router
        _FITTED.move_to_end(fingerprint)
        while len(_FITTED) > _FITTED_KEEP:
            _FITTED.popitem(last=False)
    return router


class Clinic:
    """The running product for one process: a database engine and the routers fitted from it.

    A router is fitted once per (event, catalog version) and shared by every session of the
    process; an organizer's edit bumps the version, so the next request routes with the new one.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._routers: dict[tuple[int, int], Router] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str | None = None, load_demo: bool = True) -> Clinic:
        engine = make_engine(url)
        create_schema(engine)
        clinic = cls(engine)
        if load_demo:
            clinic.load_demo_if_empty()
        return clinic

    def load_demo_if_empty(self) -> None:
        """Load the shipped demo clinic into an empty database (nothing happens otherwise)."""
        settings = demo_event_settings()
        catalog = load_catalog(DEMO_FOLDER)

        def load(connection):
            if catalog_store.count_events(connection):
                return
            event_id = catalog_store.create_event(connection, settings)
            catalog_store.save_catalog(connection, event_id, catalog)

        with contextlib.suppress(IntegrityError):  # another process loaded it at the same moment: fine
            in_transaction(self.engine, load)

    def event(self, code: str) -> dict | None:
        with self.engine.connect() as connection:
            return catalog_store.event_by_code(connection, code)

    def require_event(self, code: str) -> dict:
        """The event with this code, or `Rejected` in words (every use case starts here)."""
        event = self.event(code)
        if event is None:
            raise Rejected("unknown_event", f"There is no clinic with the code '{code}'.")
        return event

    def default_event(self) -> dict | None:
        with self.engine.connect() as connection:
            events = catalog_store.list_events(connection)
        return events[-1] if events else None

    def router(self, event: dict) -> Router:
        """The router fitted on the event's current catalog (cached by catalog version)."""
        with self.engine.connect() as connection:
            _, version = catalog_store.change_marker(connection, event["id"])
        key = (event["id"], version)
        with self._lock:
            router = self._routers.get(key)
            previous = next((r for (event_id, _), r in self._routers.items() if event_id == event["id"]), None)
        if router is None:
            with self.engine.connect() as connection:
                catalog = catalog_store.load_catalog(connection, event["id"])
            router = previous.refit(catalog) if previous else _fitted_router(catalog)
            with self._lock:
                for stale in [k for k in self._routers if k[0] == event["id"]]:
                    del self._routers[stale]
                self._routers[key] = router
        return router
