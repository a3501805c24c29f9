"""Benchmark: the facilitators' board with 500 challenges over 60 tables.

Prints (never asserts) the board page's script run time in AppTest next to a bare Streamlit page
measured in the same run, the "what changed" query the board polls every 2 s, and a full snapshot.
Run from the repository root: python bench/board.py
"""

from __future__ import annotations

import csv
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from clinic import facilitation, participants  # noqa: E402
from clinic.setup import Clinic  # noqa: E402
from matching.catalog import Expert, Table  # noqa: E402
from store import catalog as catalog_store  # noqa: E402
from store.engine import in_transaction  # noqa: E402

TABLES = 60
CHALLENGES = 500
RUNS = 5
PASSCODE = "bench-board"
BARS = {"board": 1.0, "query": 0.020}


def build_event(url: str) -> Clinic:
    """The demo clinic grown to 60 tables (one expert each, three languages) and 500 challenges."""
    clinic = Clinic.open(url)
    event = clinic.default_event()
    catalog = clinic.router(event).catalog_
    topics = [topic.id for topic in catalog.topics]
    codes = catalog.language_codes
    tables = tuple(Table(number=n, topic=topics[(n - 1) % len(topics)], capacity=10) for n in range(1, TABLES + 1))
    experts = tuple(
        Expert(id=f"expert-{n}", name=f"Expert {n}", topics=(tables[n - 1].topic,),
               languages=("en", codes[n % len(codes)], codes[(n + 2) % len(codes)]), capacity=10, table=n)
        for n in range(1, TABLES + 1)
    )  # fmt: skip
    in_transaction(clinic.engine, lambda c: catalog_store.save_catalog(
        c, event["id"], replace(catalog, tables=tables, experts=experts)))  # fmt: skip
    rows = [row for path in sorted((ROOT / "data" / "dev").glob("*.csv")) for row in csv.DictReader(path.open())]
    for i in range(CHALLENGES):
        row = rows[i % len(rows)]
        participants.submit_challenge(clinic, event["code"], row["text"], [row["language"], "en"], f"Person {i}")
    return clinic


def timed_runs(app: AppTest) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - start)
        assert not app.exception, app.exception
    return times


def line(name: str, seconds: float, bar: float | None = None) -> str:
    verdict = "" if bar is None else (f"bar < {bar * 1000:.0f} ms  " + ("ok" if seconds < bar else "OVER the bar"))
    return f"{name:<52} {seconds * 1000:9.1f} ms   {verdict}"


def main() -> None:
    folder = tempfile.mkdtemp(prefix="peer-clinic-bench-")
    url = f"sqlite:///{folder}/board.db"
    os.environ["PEER_CLINIC_DATABASE_URL"] = url
    os.environ["PEER_CLINIC_FACILITATOR_PASSCODE"] = PASSCODE
    started = time.perf_counter()
    clinic = build_event(url)
    event = clinic.default_event()
    board = facilitation.board_snapshot(clinic, event["code"])
    print(f"Board: {len(board.tables)} tables, {board.seated} seated, {board.waiting} in triage "
          f"(built in {time.perf_counter() - started:.1f} s; not part of any figure)\n")  # fmt: skip

    bare = AppTest.from_string("import streamlit as st\nst.title('Bare page')\nst.write('hello')", default_timeout=60)
    bare_times = timed_runs(bare)

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.switch_page("pages/board.py")
    app.run()
    app.text_input[0].input(PASSCODE)
    app.button[0].click()
    app.run()  # signs in; the first full run also warms the router cache
    board_times = timed_runs(app)

    queries = []
    for _ in range(200):
        start = time.perf_counter()
        facilitation.change_marker(clinic, event["id"])
        queries.append(time.perf_counter() - start)
    snapshots = []
    for _ in range(RUNS):
        start = time.perf_counter()
        facilitation.board_snapshot(clinic, event["code"])
        snapshots.append(time.perf_counter() - start)

    print(line("bare Streamlit page, script run (median of 5)", statistics.median(bare_times)))
    print(line("board page, script run (median of 5)", statistics.median(board_times), BARS["board"]))
    print(f"{'':<52} = {statistics.median(board_times) / statistics.median(bare_times):.1f}x the bare page")
    print(line("refresh query: what changed since (median of 200)", statistics.median(queries), BARS["query"]))
    print(line("  p99", sorted(queries)[int(len(queries) * 0.99) - 1], BARS["query"]))
    print(line("full board snapshot when something changed (median)", statistics.median(snapshots)))


if __name__ == "__main__":
    main()
