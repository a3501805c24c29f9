"""The router on any text a phone can send: a valid route or triage, never an exception.

Generated with hypothesis: any Unicode (empty, whitespace, lone surrogates), control and bidi
characters, mixed scripts with the catalog's own keywords among them (so that many cases are
seated, not only triaged), huge pastes, and language lists with codes the clinic does not offer.
One router fitted on the demo clinic serves the whole session (`demo_router`).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.router import TRIAGE_REASONS, Occupancy, confidence_level

# Each example routes one text in a few milliseconds; together these tests run 7,800 cases.
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CONTROL = "".join(map(chr, [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)])) + (
    "\u00ad\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb\ufffc\ufffd"
)
# Letters of every script a clinic meets, and the marks that combine with them.
SCRIPTS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"-()"
    "àâçéèêëîïôûùüÿœæñáíóúåäöß"
    "ابتثجحخدذرسشصضطظعغفقكلمنهوي ءأإآةى ًٌٍَُِّْ"
    "אבגדהוזחטיכלמנסעפצקרשת ְֱֲֳִֵֶַָֹֻּ"
    "абвгдежзийклмнопрстуфхцчшщъыьэюя中文字漢字日本語かなカナ한국어ไทยहिन्दी"
    "\u0301\u0308\u200d👩🏽\u200d💻🎉"
)


def assert_valid(route, catalog, spoken=()) -> None:
    """What every caller relies on: a known topic, consistent scores, and a seat that exists or a reason."""
    topics = {topic.id for topic in catalog.topics}
    assert route.topic in topics
    assert 0.0 <= route.topic_score <= 1.0
    # The score is stored rounded to 4 places; the confidence was judged on the unrounded one.
    assert route.confidence in {confidence_level(route.topic_score + d) for d in (-5e-5, 0, 5e-5)}
    assert all(topic in topics and topic != route.topic for topic, _ in route.alternatives)
    scores = [score for _, score in route.alternatives]
    assert scores == sorted(scores, reverse=True) and all(score <= route.topic_score + 1e-4 for score in scores)
    assert all(isinstance(term, str) and term for term in route.terms)
    assert route.detected_language is None or route.detected_language in catalog.language_codes
    tables = {table.number: table for table in catalog.tables}
    if route.seated:
        assert route.triage_reason is None
        assert tables[route.table].topic == route.topic
        expert = catalog.expert(route.expert)
        assert expert.table == route.table and route.language in expert.languages
        assert route.language in (route.spoken or (catalog.languages[0].code,))
        assert route.confidence != "low"
    else:
        assert route.triage_reason in TRIAGE_REASONS
        assert (route.expert, route.language) == (None, None)
        assert all(number in tables for number in route.candidates)
    if spoken:
        assert set(route.spoken) <= set(spoken) | {route.detected_language}


def route_one(router, text: str, spoken=None):
    (route,) = router.route([text], [spoken] if spoken is not None else None, Occupancy())
    return route


@pytest.fixture(scope="module")
def keywords(demo_catalog) -> list[str]:
    """Every keyword of the demo catalog, in every language: mixed into texts to get seated routes."""
    return sorted({word for topic in demo_catalog.topics for words in topic.keywords.values() for word in words})


@settings(FUZZ, max_examples=3000)
@given(text=st.text(max_size=300))
def test_any_unicode_text_gets_a_valid_route(demo_router, demo_catalog, figures, text):
    figures.add("fuzz cases", "router", 1)
    route = route_one(demo_router, text)
    assert_valid(route, demo_catalog)
    if not text.strip():
        assert (route.topic_score, route.triage_reason) == (0.0, "low_confidence")


@settings(FUZZ, max_examples=2000)
@given(data=st.data())
def test_mixed_scripts_and_keywords_get_a_valid_route(demo_router, demo_catalog, keywords, figures, data):
    figures.add("fuzz cases", "router", 1)
    pieces = data.draw(
        st.lists(st.one_of(st.sampled_from(keywords), st.text(alphabet=SCRIPTS, min_size=1, max_size=12)), max_size=25)
    )
    spoken = data.draw(st.lists(st.sampled_from(demo_catalog.language_codes), max_size=3, unique=True))
    text = data.draw(st.sampled_from([" ", "", "\n", "-"])).join(pieces)
    route = route_one(demo_router, text, spoken)
    assert_valid(route, demo_catalog, spoken)
    assert route_one(demo_router, text, spoken) == route  # routing is a pure function of the text


@settings(FUZZ, max_examples=1500)
@given(
    text=st.text(alphabet=st.sampled_from(CONTROL + SCRIPTS[:80]), max_size=200),
    surrogate=st.sampled_from(["", "\ud800", "\udfff", "\ud83d"]),
)
def test_control_bidi_characters_and_lone_surrogates_never_raise(demo_router, demo_catalog, figures, text, surrogate):
    figures.add("fuzz cases", "router", 1)
    assert_valid(route_one(demo_router, surrogate + text + surrogate), demo_catalog)


@settings(FUZZ, max_examples=300)
@given(piece=st.text(alphabet=SCRIPTS + CONTROL, min_size=1, max_size=40), times=st.integers(200, 5000))
def test_huge_pastes_get_a_valid_route(demo_router, demo_catalog, figures, piece, times):
    """Up to 200,000 characters (the form refuses more than 2,000, but the router is also a CLI)."""
    figures.add("fuzz cases", "router", 1)
    assert_valid(route_one(demo_router, piece * times), demo_catalog)


@settings(FUZZ, max_examples=1000)
@given(
    text=st.text(alphabet=SCRIPTS, max_size=120),
    spoken=st.lists(st.one_of(st.sampled_from(["en", "fr", "ar", "he", "sv", "es"]), st.text(max_size=4)), max_size=5),
)
def test_unknown_language_codes_never_raise(demo_router, demo_catalog, figures, text, spoken):
    """The use case refuses unknown codes first; the router alone must still not fall over on them."""
    figures.add("fuzz cases", "router", 1)
    route = route_one(demo_router, text, spoken)
    assert_valid(route, demo_catalog)
    if route.seated:  # in a language the participant named, wrote in, or (naming none) the clinic's first
        assert route.language in [*spoken, route.detected_language, demo_catalog.languages[0].code]
