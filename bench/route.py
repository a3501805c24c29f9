"""How fast the router is on the demo clinic, against the bars DESIGN.md sets. Prints; never asserts.

    python bench/route.py

Measures the three figures the quality bar names: refitting after a catalog edit (each timed refit
follows a real edit: a new keyword on one topic, in one language), routing one
challenge after the catalog is loaded (one call per challenge, as a participant's submit does), and
routing 10,000 challenges in one batch. The texts are the unseen challenges in data/dev/*.csv (in
six languages), repeated to make up the counts; each participant's spoken language is the one the
challenge is written in. The first call loads the language model (~0.7 s, once per process), so a
warm-up call runs before anything is timed.
"""

from __future__ import annotations

import csv
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/route.py` puts bench/, not the repo, on the path

from matching import Router, load_catalog  # noqa: E402
from matching.router import Occupancy  # noqa: E402

CATALOG_FOLDER = ROOT / "data" / "demo"
DEV_FOLDER = ROOT / "data" / "dev"
REFITS = 5
SINGLE_CALLS = 300
BATCH_SIZE = 10_000

# The bars from DESIGN.md ("Quality bar"), in seconds.
BAR_REFIT = 0.5
BAR_ONE = 0.005
BAR_BATCH = 2.0


def dev_challenges() -> list[tuple[str, str]]:
    """(text, language) of every development challenge, in file order."""
    rows = []
    for path in sorted(DEV_FOLDER.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as file:
            rows += [(row["text"], row["language"]) for row in csv.DictReader(file)]
    return rows


def with_new_keyword(catalog, n: int):
    """The catalog as an organizer leaves it after adding one keyword (the n-th edit) to one topic."""
    topics = list(catalog.topics)
    topic = topics[n % len(topics)]
    language = sorted(topic.keywords)[n % len(topic.keywords)]
    keywords = {**topic.keywords, language: (*topic.keywords[language], f"nouveau mot {n}")}
    topics[n % len(topics)] = dataclasses.replace(topic, keywords=keywords)
    return dataclasses.replace(catalog, topics=tuple(topics))


def repeated(items: list, count: int) -> list:
    return [items[i % len(items)] for i in range(count)]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p99 of 300 calls is the 297th fastest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def show(name: str, figure: str, seconds: float, bar: float) -> None:
    verdict = "ok" if seconds < bar else "OVER the bar"
    print(f"{name:<44} {figure:>22}   bar < {format_seconds(bar):<10} {verdict}")


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    load_time = time.perf_counter()
    catalog = load_catalog(CATALOG_FOLDER)
    load_time = time.perf_counter() - load_time
    challenges = dev_challenges()
    print(
        f"Router on {CATALOG_FOLDER.relative_to(ROOT)}: {len(catalog.topics)} topics, {len(catalog.experts)} "
        f"experts, {len(catalog.tables)} tables, {len(catalog.examples)} labelled examples"
    )
    print(f"Challenges: {len(challenges)} from {DEV_FOLDER.relative_to(ROOT)}/*.csv, repeated as needed")
    print(f"(reading the catalog files took {format_seconds(load_time)}; not part of any figure)\n")

    first_fit = timed(lambda: Router().fit(catalog))
    show("first fit in a new process (not a bar)", format_seconds(first_fit), first_fit, float("inf"))
    router = Router().fit(catalog)
    router.route(["warm up the language model"], [["en"]])

    edited = [with_new_keyword(catalog, n) for n in range(REFITS)]
    refits = [timed(lambda c=c: router.refit(c)) for c in edited]
    refit = statistics.median(refits)
    show("refit after a catalog edit", f"median of {REFITS} {format_seconds(refit)}", refit, BAR_REFIT)

    singles = []
    for text, language in repeated(challenges, SINGLE_CALLS):
        singles.append(timed(lambda t=text, lang=language: router.route([t], [[lang]], Occupancy())))
    p50, p99 = percentile(singles, 0.50), percentile(singles, 0.99)
    show(f"route one challenge ({SINGLE_CALLS} single calls)", f"p50 {format_seconds(p50)}", p50, BAR_ONE)
    show("", f"p99 {format_seconds(p99)}", p99, BAR_ONE)

    batch = repeated(challenges, BATCH_SIZE)
    texts = [text for text, _ in batch]
    languages = [[language] for _, language in batch]
    routes = []
    read = timed(lambda: router.read(texts, languages))
    routed = timed(lambda: routes.extend(router.route(texts, languages, Occupancy())))
    show(f"batch of {BATCH_SIZE:,}: router.read", format_seconds(read), read, BAR_BATCH)
    show(f"batch of {BATCH_SIZE:,}: router.route (read + seat)", format_seconds(routed), routed, BAR_BATCH)
    quiet = Router(explain=False).fit(catalog)
    unexplained = timed(lambda: quiet.read(texts, languages))
    topics = timed(lambda: router.classifier_.predict_proba(texts))
    show(f"batch of {BATCH_SIZE:,}: read without the words that drove it", format_seconds(unexplained),
         unexplained, BAR_BATCH)  # fmt: skip
    print(f"  (of which topic probabilities {topics:.2f} s; the rest is language detection and bookkeeping)")
    seated = sum(route.seated for route in routes)
    print(
        f"\n{seated:,} of {len(routes):,} seated in the batch (the demo has "
        f"{sum(t.capacity for t in catalog.tables)} seats per round; the rest go to triage)."
    )


if __name__ == "__main__":
    main()
