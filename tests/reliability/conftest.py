"""Reliability tests: the rush at the start, faults, and random input, through the use-case layer.

Each test may record the figures it measured (`figures.record(...)`); they are printed at the end
of the run and written to artifacts/reliability-figures.json, so a CI log says how many challenges
were stored, how many duplicates, overfilled tables and lock errors there were, and how many
generated cases the fuzz tests ran.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from fault_proxy import TcpProxy
from sqlalchemy.engine import make_url

from matching import Catalog, Expert, Language, Table, Topic
from store import catalog as catalog_store

T = TypeVar("T")

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
FIGURES_FILE = ARTIFACTS / "reliability-figures.json"


class Figures:
    """What the reliability tests measured, by test and back end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_name: dict[str, dict] = {}

    def record(self, name: str, **numbers) -> None:
        with self._lock:
            self.by_name.setdefault(name, {}).update(numbers)

    def add(self, name: str, key: str, amount: int) -> None:
        with self._lock:
            entry = self.by_name.setdefault(name, {})
            entry[key] = entry.get(key, 0) + amount


FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    return FIGURES


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES.by_name:
        return
    terminalreporter.section("reliability figures")
    if "fuzz cases" in FIGURES.by_name:
        FIGURES.by_name["fuzz cases"]["total"] = sum(
            n for key, n in FIGURES.by_name["fuzz cases"].items() if key != "total"
        )
    for name, numbers in sorted(FIGURES.by_name.items()):
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{key}={value}" for key, value in numbers.items()))
    ARTIFACTS.mkdir(exist_ok=True)
    FIGURES_FILE.write_text(json.dumps(FIGURES.by_name, indent=1, sort_keys=True, default=str) + "\n")


def _all_at_once(count: int, work: Callable[[int], T], timeout: float = 120) -> list[T | BaseException]:
    """Run work(i) for i in range(count) in `count` threads released by one barrier.

    Returns each result or the exception it raised (never raises itself), so a test can count
    errors instead of stopping at the first.
    """
    start = threading.Barrier(count)

    def run(i: int):
        start.wait(timeout=timeout)
        try:
            return work(i)
        except BaseException as error:  # counted by the caller
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture(scope="session")
def all_at_once():
    """`all_at_once(count, work)`: see `_all_at_once` (a fixture: conftest is not importable)."""
    return _all_at_once


# Two grants tables: table 1's expert speaks only French, table 2's only English. A participant who
# writes in French prefers table 1; once it is full, a bilingual one goes to table 2 in English and a
# French-only one to the facilitators (the table that speaks their language is full).
RACE_EVENT = "race"
RACE_CATALOG = Catalog(
    languages=(Language("en", "English", "English"), Language("fr", "French", "Français")),
    topics=(
        Topic(
            "grants",
            "Grants",
            "Money: grants, sponsors, donors, budgets, funding.",
            keywords={"en": ("grant", "sponsor", "budget", "donor"), "fr": ("subvention", "mécène", "budget")},
        ),
        Topic(
            "glam",
            "GLAM",
            "Galleries, libraries, archives and museums.",
            keywords={"en": ("museum", "library", "archive"), "fr": ("musée", "bibliothèque", "archives")},
        ),
    ),
    experts=(
        Expert("ana", "Ana", topics=("grants",), languages=("fr",), capacity=100, table=1),
        Expert("ben", "Ben", topics=("grants",), languages=("en",), capacity=100, table=2),
        Expert("cy", "Cy", topics=("glam",), languages=("en", "fr"), capacity=100, table=3),
    ),
    tables=(Table(1, "grants", capacity=4), Table(2, "grants", capacity=30), Table(3, "glam", capacity=8)),
)
RACE_TEXT_FR = "Comment trouver une subvention ou un mécène pour financer le budget de notre concours ?"


@dataclass(frozen=True)
class RaceClinic:
    code: str
    catalog: Catalog
    french_text: str  # a grants challenge in French


@pytest.fixture
def race_event(clinic) -> RaceClinic:
    """A second clinic in the test database, built for races for a table's last seat."""
    with clinic.engine.begin() as connection:
        event_id = catalog_store.create_event(connection, {"code": RACE_EVENT, "title": "Race clinic"})
        catalog_store.save_catalog(connection, event_id, RACE_CATALOG)
    return RaceClinic(RACE_EVENT, RACE_CATALOG, RACE_TEXT_FR)


@pytest.fixture
def pg_proxy(database_url):
    """A TcpProxy in front of the test's PostgreSQL database (skipped on SQLite)."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        pytest.skip("a network outage needs a database on the network (PostgreSQL)")
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy
    proxy.cut()
