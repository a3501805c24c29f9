"""How fast similar challenges and suggested topics are on the demo clinic; with --quality, how well
the suggester finds a planted cluster. Prints; never asserts.

    python bench/emergent.py            # timings
    python bench/emergent.py --quality  # planted-cluster recall and precision (what tuned matching/emergent.py)

Timings. Similar challenges for one new submission among 2,000: the 2,000 are indexed once per change
of the event (timed apart), then each submission is turned into features and compared with all of
them (what a participant's "me too" list costs). Suggestions for 500 challenges: features of the 500,
then clustering and naming; the catalog's background (its examples' features, once per catalog
version) is timed apart. The texts are the demo clinic's labelled examples and the development
challenges (data/dev), in six languages; the router is fitted before anything is timed. The last
figure is the use case as the organizer console calls it, on a temporary SQLite database holding
the 500 challenges, cold (after a catalog change) and warm (nothing changed since).

Quality. Planted: 30 radio/TV challenges in English, French and Spanish (data/synthetic/radio_tv.csv)
among 200 development challenges (six draws), and among 470 catalog examples left out of the
background (three draws; the classifier has seen those examples, the background has not). Control:
development challenges alone, where any suggestion is a false alarm (the demo topics are their own).
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/emergent.py` puts bench/, not the repo, on the path

from matching import Router, load_catalog  # noqa: E402
from matching.emergent import TopicSuggester, background_share  # noqa: E402
from matching.similarity import SimilarChallenges  # noqa: E402

CATALOG_FOLDER = ROOT / "data" / "demo"
DEV_FOLDER = ROOT / "data" / "dev"
PLANTED_FILE = ROOT / "data" / "synthetic" / "radio_tv.csv"
INDEXED = 2_000
QUERIES = 300
SUGGESTED = 500
REPEATS = 5
BAR_SECONDS = 3.0  # "a few seconds at 500 challenges" (issue 9)


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def dev_rows() -> list[dict]:
    return [row for path in sorted(DEV_FOLDER.glob("*.csv")) for row in rows(path)]


def timed(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def background_of(router, examples):
    features = router.classifier_.transform([example.text for example in examples])
    return background_share(router.classifier_, features, [example.language for example in examples])


def seats(router) -> dict[str, int]:
    found: dict[str, int] = {}
    for table in router.catalog_.tables:
        found[table.topic] = found.get(table.topic, 0) + table.capacity
    return found


def timings(router) -> None:
    classifier = router.classifier_
    examples = router.catalog_.examples
    texts = [example.text for example in examples]
    texts = (texts * (INDEXED // len(texts) + 1))[:INDEXED]
    queries = [row["text"] for row in dev_rows()]
    queries = (queries * (QUERIES // len(queries) + 1))[:QUERIES]

    features = classifier.transform(texts)
    index_time, index = timed(lambda: SimilarChallenges().fit(features, list(range(INDEXED))))
    per_query = []
    for text in queries:
        elapsed, _ = timed(lambda text=text: index.query(classifier.transform([text])))
        per_query.append(elapsed)
    print(f"Similar challenges for one new submission among {INDEXED:,} (features + comparison, {QUERIES} calls):")
    print(
        f"  median {statistics.median(per_query) * 1000:.1f} ms, p99 {percentile(per_query, 0.99) * 1000:.1f} ms"
        f"   (indexing the {INDEXED:,}, once per change of the event: {index_time:.2f} s)"
    )

    background_time, background = timed(lambda: background_of(router, examples))
    planted = rows(PLANTED_FILE)
    pool = [example.text for example in examples[: SUGGESTED - len(planted)]] + [row["text"] for row in planted]
    feature_times, fit_times, found = [], [], []
    for _ in range(REPEATS):
        elapsed, pool_features = timed(lambda: classifier.transform(pool))
        feature_times.append(elapsed)
        elapsed, suggester = timed(
            lambda pool_features=pool_features: TopicSuggester().fit(
                pool_features, list(range(len(pool))), classifier, seats(router), background, pool
            )
        )
        fit_times.append(elapsed)
        found = suggester.suggestions_
    total = statistics.median(feature_times) + statistics.median(fit_times)
    print(f"\nSuggested topics for {SUGGESTED} challenges (median of {REPEATS}):")
    print(
        f"  {total:.2f} s = features {statistics.median(feature_times):.2f} s"
        f" + clustering and naming {statistics.median(fit_times):.2f} s   (bar: a few seconds, {BAR_SECONDS:.0f} s)"
    )
    print(f"  catalog background, once per catalog version: {background_time:.2f} s")
    print(f"  found: {', '.join(f'{s.name} ({s.size})' for s in found) or 'nothing'}")
    use_case(router, pool)


def use_case(router, pool: list[str]) -> None:
    """topic_suggestions as the organizer console calls it, on a temporary SQLite database."""
    from clinic import emergent, participants
    from clinic.setup import Clinic
    from store import catalog as catalog_store
    from store import challenges as challenge_store

    with tempfile.TemporaryDirectory() as folder:
        clinic = Clinic.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        event = clinic.default_event()
        with clinic.engine.connect() as connection:
            _, version = catalog_store.change_marker(connection, event["id"])
        clinic._routers[(event["id"], version)] = router  # the router fitted above: same catalog
        with clinic.engine.begin() as connection:
            for text in pool:
                challenge_store.insert_challenge(
                    connection,
                    event["id"],
                    ticket=participants.new_ticket(),
                    submission_key=participants.new_submission_key(),
                    text=text,
                    languages=["en"],
                    status=challenge_store.STATUS_WAITING,
                )
        cold, found = timed(lambda: emergent.topic_suggestions(clinic, event["code"]))
        warm, _ = timed(lambda: emergent.topic_suggestions(clinic, event["code"]))
        groups, _ = timed(lambda: emergent.similar_groups(clinic, event["code"]))
        clinic.engine.dispose()
    print(
        f"  the use case (clinic.emergent.topic_suggestions, SQLite): {cold:.2f} s cold (first call after a catalog"
        f" change, background included), {warm * 1000:.0f} ms warm; board groups after it: {groups * 1000:.0f} ms"
    )
    del found


def quality(router) -> None:
    classifier = router.classifier_
    examples = list(router.catalog_.examples)
    planted = rows(PLANTED_FILE)
    planted_texts = [row["text"] for row in planted]
    development = dev_rows()
    full_background = background_of(router, examples)

    def run(texts: list[str], background, is_planted: list[bool]) -> tuple[float, float, int, list]:
        features = classifier.transform(texts)
        found = TopicSuggester().fit(features, list(range(len(texts))), classifier, seats(router), background, texts)
        hits = [sum(is_planted[i] for i in s.members) for s in found.suggestions_]
        if not hits or max(hits) == 0:
            return 0.0, 0.0, len(found.suggestions_), found.suggestions_
        best = found.suggestions_[hits.index(max(hits))]
        return max(hits) / sum(is_planted), max(hits) / best.size, len(found.suggestions_) - 1, found.suggestions_

    print("Planted: 30 radio/TV challenges among 200 development challenges")
    for draw in range(6):
        texts = [row["text"] for row in random.Random(draw).sample(development, 200)] + planted_texts
        recall, precision, others, _ = run(texts, full_background, [False] * 200 + [True] * 30)
        print(f"  draw {draw}: recall {recall:.2f}, precision {precision:.2f}, other suggestions {others}")
    print("Planted: 30 radio/TV challenges among 470 catalog examples left out of the background")
    for draw in range(3):
        order = list(range(len(examples)))
        random.Random(draw).shuffle(order)
        pool, rest = order[:470], order[470:]
        background = background_of(router, [examples[i] for i in rest])
        texts = [examples[i].text for i in pool] + planted_texts
        recall, precision, others, found = run(texts, background, [False] * 470 + [True] * 30)
        names = ", ".join(f"{s.name} ({s.size})" for s in found)
        print(f"  draw {draw}: recall {recall:.2f}, precision {precision:.2f}, other suggestions {others}: {names}")
    print("Control: development challenges alone (every suggestion is a false alarm)")
    for label, texts in (
        ("200 of them", [row["text"] for row in random.Random(99).sample(development, 200)]),
        ("all 288", [row["text"] for row in development]),
    ):
        *_, found = run(texts, full_background, [False] * len(texts))
        print(f"  {label}: {len(found)} suggestions {[f'{s.name} ({s.size})' for s in found]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="planted-cluster recall instead of timings")
    arguments = parser.parse_args(argv)
    router = Router().fit(load_catalog(CATALOG_FOLDER))
    router.classifier_.transform(["warm-up"])
    quality(router) if arguments.quality else timings(router)


if __name__ == "__main__":
    main()
