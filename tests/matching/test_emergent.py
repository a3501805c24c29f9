"""Suggested topics: a planted cluster is found across languages, named by its words, and nothing
is invented where there is no cluster; overlapping topics are flagged."""

from __future__ import annotations

import csv
import random
from dataclasses import replace
from pathlib import Path

import pytest
import scipy.sparse as sp

from matching import TopicClassifier
from matching.catalog import Topic
from matching.emergent import (
    KIND_CROWDED,
    KIND_UNSURE,
    UNSURE_BELOW,
    Background,
    TopicSuggester,
    background_share,
    suggestion_key,
    topic_overlaps,
)
from matching.text import normalize, words

DATA = Path(__file__).resolve().parents[2] / "data"
DRAWS = 6
OTHERS = 200


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


PLANTED = _rows(DATA / "synthetic" / "radio_tv.csv")
DEV = [row for path in sorted((DATA / "dev").glob("*.csv")) for row in _rows(path)]


def planted_event(draw: int) -> list[dict]:
    """200 development challenges (a different draw each time) and the 30 planted radio/TV ones."""
    return random.Random(draw).sample(DEV, OTHERS) + PLANTED


@pytest.fixture(scope="module")
def background(router) -> Background:
    examples = router.catalog_.examples
    rows = router.classifier_.transform([example.text for example in examples])
    return background_share(router.classifier_, rows, [example.language for example in examples])


@pytest.fixture(scope="module")
def seats(router) -> dict[str, int]:
    return {topic.id: 8 for topic in router.catalog_.topics}  # the demo clinic: one table of 8 per topic


def suggest(router, background, seats, rows: list[dict], **params) -> TopicSuggester:
    texts = [row["text"] for row in rows]
    features = (
        router.classifier_.transform(texts) if texts else sp.csr_matrix((0, len(router.classifier_.feature_names_)))
    )
    names = {topic.id: topic.name for topic in router.catalog_.topics}
    ids = [row["id"] for row in rows]
    return TopicSuggester(**params).fit(features, ids, router.classifier_, seats, background, texts, names)


def planted_recall(suggester: TopicSuggester) -> tuple[float, float]:
    """(recall, precision) of the suggestion holding most planted challenges."""
    planted = {row["id"] for row in PLANTED}
    best = max(suggester.suggestions_, key=lambda s: len(planted & set(s.members)), default=None)
    if best is None:
        return 0.0, 0.0
    hits = len(planted & set(best.members))
    return hits / len(planted), hits / best.size


@pytest.mark.parametrize("draw", range(DRAWS))
def test_a_planted_cluster_in_three_languages_becomes_one_suggestion(router, background, seats, draw):
    suggester = suggest(router, background, seats, planted_event(draw))
    recall, precision = planted_recall(suggester)
    print(f"draw {draw}: planted recall {recall:.2f}, precision {precision:.2f}")
    assert recall >= 0.8
    best = max(suggester.suggestions_, key=lambda s: len({r["id"] for r in PLANTED} & set(s.members)))
    assert "radio" in [normalize(term) for term in best.terms]
    assert best.name.startswith(best.terms[0][:1].upper())
    # Most of them route confidently to outreach, whose one table of 8 they crowd.
    assert best.kind == KIND_CROWDED and best.topic == "outreach"
    assert f"{best.size} challenges share: radio" in best.reason
    assert "for 8 seats" in best.reason


def test_development_challenges_alone_suggest_next_to_nothing(router, background, seats):
    """No planted cluster: at most one (small) suggestion among all 288 development challenges, whose
    topics are the catalog's own, however crowded."""
    suggester = suggest(router, background, seats, DEV)
    assert len(suggester.suggestions_) <= 1
    assert all(s.size <= 12 for s in suggester.suggestions_)


def test_names_are_readable_words_the_members_use(router, background, seats):
    rows = planted_event(0)
    suggester = suggest(router, background, seats, rows)
    texts = {row["id"]: row["text"] for row in rows}
    for suggestion in suggester.suggestions_:
        assert 1 <= len(suggestion.terms) <= 3
        for term, count in zip(suggestion.terms, suggestion.counts, strict=True):
            assert " " not in term and len(term) >= 2
            using = [m for m in suggestion.members if normalize(term) in words(normalize(texts[m]))]
            assert len(using) >= min(count, 2)  # "radio" is also counted for "radios"
        assert len(set(suggestion.members)) == suggestion.size >= 4


def test_with_room_at_every_table_only_unsure_challenges_are_candidates(router, background):
    suggester = suggest(router, background, {topic.id: 1000 for topic in router.catalog_.topics}, planted_event(1))
    assert (suggester.scores_[suggester.candidates_] < UNSURE_BELOW).all()
    for suggestion in suggester.suggestions_:
        assert suggestion.kind == KIND_UNSURE
        assert suggestion.unsure == suggestion.size
        assert "with low confidence" in suggestion.reason


def test_the_same_input_gives_the_same_suggestions(router, background, seats):
    rows = planted_event(2)
    first = suggest(router, background, seats, rows).suggestions_
    again = suggest(router, background, seats, rows).suggestions_
    assert first == again


def test_an_empty_or_tiny_event_suggests_nothing(router, background, seats):
    assert suggest(router, background, seats, []).suggestions_ == []
    assert suggest(router, background, seats, PLANTED[:3]).suggestions_ == []


def test_the_key_depends_on_the_words_not_their_order_or_case():
    assert suggestion_key(["radio", "televisión"]) == suggestion_key(["Télévision", "RADIO"])
    assert suggestion_key(["radio"]) != suggestion_key(["radio", "station"])


def test_without_examples_the_background_follows_the_idf(router):
    background = background_share(router.classifier_)
    assert background.share.shape == (len(router.classifier_.feature_names_),)
    assert ((background.share > 0) & (background.share <= 1)).all()
    assert background.expected(["en", None]) == pytest.approx(2 * background.share)


def test_the_demo_topics_do_not_overlap(router):
    assert topic_overlaps(router.classifier_, router.catalog_) == []


def test_a_topic_made_of_another_topics_keywords_is_flagged(demo_catalog):
    """An organizer adds "Media" with outreach's own media keywords (in every language), leaving
    them in outreach too: the two now share many top words, and only that pair is flagged."""
    outreach = demo_catalog.topic("outreach")
    media_words = [
        "radio",
        "tv",
        "tele",
        "télé",
        "press",
        "prensa",
        "media",
        "médias",
        "journal",
        "periodis",
        "broadcast",
        "interview",
        "entrevista",
    ]
    media_words += ["رادي", "تلفز", "صحف", "רדיו", "טלוויז", "עיתונ", "tidning"]
    keywords = {
        code: tuple(k for k in words_ if any(m in k.lower() for m in media_words))
        for code, words_ in outreach.keywords.items()
    }
    media = Topic("media", "Media", "Press, radio and TV.", keywords)
    catalog = replace(demo_catalog, topics=(*demo_catalog.topics, media))
    classifier = TopicClassifier().fit(catalog)
    overlaps = topic_overlaps(classifier, catalog)
    assert [(o.first, o.second) for o in overlaps] == [("media", "outreach")]
    (overlap,) = overlaps
    assert overlap.share >= 0.3
    assert {"tv", "television", "media"} <= set(overlap.shared)
    assert overlap.reason.startswith(f"'Media' and 'Search and outreach' share {overlap.share:.0%} of their top terms")
