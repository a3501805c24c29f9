from dataclasses import replace

import numpy as np
import pytest

from matching import Router, TopicClassifier
from matching.catalog import Expert, Table
from matching.router import (
    TRIAGE_LOW_CONFIDENCE,
    TRIAGE_NO_HOST,
    TRIAGE_NO_SHARED_LANGUAGE,
    TRIAGE_TABLES_FULL,
    Occupancy,
    confidence_level,
)

CHALLENGES = [
    "How can we find sponsors and apply for a grant to fund our edit-a-thons?",
    "Comment convaincre la bibliothèque nationale d'accueillir un wikipédien en résidence ?",
    "¿Qué debe decir el memorando de entendimiento (MOU) con el ministerio?",
    "كيف نتعاون مع مجموعات المستخدمين في الدول المجاورة في منطقتنا؟",
    "Hur laddar vi upp museets metadata och öppna data till Wikidata?",
    "איך שומרים על השותפות כשאיש הקשר היחיד שלנו עוזב את המוסד?",
]
EXPECTED = ["grants", "glam", "formalities", "regional", "data", "exit"]


def test_clear_challenges_in_all_six_languages_reach_their_topic(router):
    routes = router.route(CHALLENGES)
    assert [route.topic for route in routes] == EXPECTED


def test_every_route_names_an_existing_topic_and_sorted_alternatives(router, demo_catalog):
    topic_ids = {topic.id for topic in demo_catalog.topics}
    for route in router.route(CHALLENGES + ["", "ok", "😀", "<script>alert(1)</script>", "x" * 100_000]):
        assert route.topic in topic_ids
        scores = [route.topic_score] + [score for _, score in route.alternatives]
        assert scores == sorted(scores, reverse=True)
        assert route.topic not in [topic for topic, _ in route.alternatives]
        assert route.confidence == confidence_level(route.topic_score)


def test_probabilities_are_a_distribution(router):
    probabilities = router.classifier_.predict_proba(CHALLENGES)
    assert probabilities.shape == (len(CHALLENGES), 8)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities >= 0).all()


def test_refit_on_the_same_catalog_gives_the_same_routes(router, demo_catalog):
    again = Router().fit(demo_catalog)
    assert again.route(CHALLENGES) == router.route(CHALLENGES)


def test_terms_are_words_of_the_challenge_as_typed(router):
    (route,) = router.route(["Nous cherchons des SPONSORS et des subventions pour financer nos ateliers"])
    assert route.terms
    for term in route.terms:
        assert term in "Nous cherchons des SPONSORS et des subventions pour financer nos ateliers"
    assert "des" not in route.terms and "et" not in route.terms  # words of every topic explain nothing


def test_text_without_words_goes_to_triage_with_zero_score(router):
    for text in ["", "   ", "😀😀", "?!"]:
        (route,) = router.route([text])
        assert route.topic_score == 0.0
        assert route.triage_reason == TRIAGE_LOW_CONFIDENCE
        assert not route.seated


def test_conversation_language_is_spoken_by_participant_and_expert(router, demo_catalog):
    routes = router.route(CHALLENGES, [["fr"], ["fr"], ["es"], ["ar"], ["sv"], ["he"]])
    for route in routes:
        if route.seated:
            expert = demo_catalog.expert(route.expert)
            assert route.language in expert.languages
            assert route.language in route.spoken
            assert expert.table == route.table


def test_language_written_in_is_preferred_when_the_participant_speaks_it(router):
    (route,) = router.route(["¿Cómo conseguimos patrocinadores y subvenciones para el proyecto?"], [["en", "es"]])
    assert route.detected_language == "es"
    assert route.language == "es"


def test_no_shared_language_goes_to_triage(router, demo_catalog):
    # Only Ravi Ayyakkannu (English) hosts the regional table: a Hebrew-only speaker cannot be seated there.
    (route,) = router.route(["How do chapters of neighbouring countries in our region cooperate?"], [["he"]])
    assert route.topic == "regional"
    assert route.triage_reason == TRIAGE_NO_SHARED_LANGUAGE
    assert route.candidates and route.candidates[0] == 7


def test_batch_never_overfills_a_table_and_spreads_load(router, demo_catalog):
    text = "How can we find sponsors and apply for a grant to fund our edit-a-thons?"
    routes = router.route([text] * 20, [["en"]] * 20, Occupancy())
    seated = [route for route in routes if route.seated]
    capacity = next(table.capacity for table in demo_catalog.tables if table.topic == "grants")
    assert len(seated) == capacity
    assert all(route.triage_reason == TRIAGE_TABLES_FULL for route in routes if not route.seated)
    per_expert = {}
    for route in seated:
        per_expert[route.expert] = per_expert.get(route.expert, 0) + 1
    assert len(per_expert) == 2 and max(per_expert.values()) - min(per_expert.values()) <= 1


def test_occupancy_passed_in_is_respected(router):
    (route,) = router.route(["We need a grant and sponsors for our budget"], [["en"]], Occupancy.of({1: 8}))
    assert route.triage_reason == TRIAGE_TABLES_FULL


def test_absent_expert_is_never_chosen(demo_catalog):
    experts = tuple(replace(e, present=False) if e.id == "georgina-fields" else e for e in demo_catalog.experts)
    router = Router().fit(replace(demo_catalog, experts=experts))
    routes = router.route(["We need a grant and sponsors for our budget"] * 5, [["en", "es"]] * 5)
    assert all(route.expert == "nichole-saad" for route in routes if route.seated)


def test_fit_refuses_a_broken_catalog_with_the_reason(demo_catalog):
    broken = replace(demo_catalog, tables=demo_catalog.tables + (Table(number=9, topic="glams"),))
    with pytest.raises(ValueError, match="Table 9 names topic 'glams', which does not exist"):
        Router().fit(broken)
    wrong_language = replace(
        demo_catalog, experts=demo_catalog.experts + (Expert(id="x", name="X", languages=("de",), table=1),)
    )
    with pytest.raises(ValueError, match="'de', which is not one of the clinic's languages"):
        Router().fit(wrong_language)


def test_inactive_topic_is_never_routed_to(demo_catalog):
    topics = tuple(replace(t, active=False) if t.id == "grants" else t for t in demo_catalog.topics)
    router = Router().fit(replace(demo_catalog, topics=topics))
    assert all(route.topic != "grants" for route in router.route(CHALLENGES))


def test_classifier_keeps_parameters_and_sets_learned_attributes(demo_catalog):
    classifier = TopicClassifier(alpha=1e-5)
    assert classifier.alpha == 1e-5 and not hasattr(classifier, "topics_")
    classifier.fit(demo_catalog)
    assert list(classifier.topics_) == sorted(t.id for t in demo_catalog.topics)


def test_refit_after_a_seating_edit_keeps_the_topic_model(router, demo_catalog):
    absent = tuple(replace(e, present=False) if e.id == "nichole-saad" else e for e in demo_catalog.experts)
    edited = router.refit(replace(demo_catalog, experts=absent))
    assert edited.classifier_ is router.classifier_
    assert all(route.expert != "nichole-saad" for route in edited.route(["We need a grant"] * 6, [["en"]] * 6))


def test_refit_after_a_keyword_edit_learns_again(router, demo_catalog):
    topics = tuple(
        replace(t, keywords={**t.keywords, "en": t.keywords["en"] + ("zorblax",)}) if t.id == "data" else t
        for t in demo_catalog.topics
    )
    edited = router.refit(replace(demo_catalog, topics=topics))
    assert edited.classifier_ is not router.classifier_
    (route,) = edited.route(["zorblax zorblax"])
    assert route.topic == "data"


def test_fast_probabilities_equal_the_fitted_models(router):
    classifier = router.classifier_
    features = classifier.transform(CHALLENGES)
    learned = classifier.model_.predict_proba(features)
    similarity = (features @ classifier.profiles_.T).toarray() / classifier.profile_temperature
    prior = np.exp(similarity - similarity.max(axis=1, keepdims=True))
    prior /= prior.sum(axis=1, keepdims=True)
    expected = (1 - classifier.profile_weight) * learned + classifier.profile_weight * prior
    assert np.allclose(classifier.predict_proba(CHALLENGES), expected)


def test_a_catalog_with_two_topics_routes(demo_catalog):
    keep = {"grants", "glam"}
    two = replace(
        demo_catalog,
        topics=tuple(t for t in demo_catalog.topics if t.id in keep),
        tables=tuple(t for t in demo_catalog.tables if t.topic in keep),
        experts=tuple(replace(e, topics=tuple(x for x in e.topics if x in keep)) for e in demo_catalog.experts
                      if e.table in {1, 6}),
        examples=tuple(x for x in demo_catalog.examples if x.topic in keep),
    )  # fmt: skip
    router = Router().fit(two)
    grant, museum = router.route(["We need a grant and sponsors", "How to work with the national museum archive"])
    assert (grant.topic, museum.topic) == ("grants", "glam")
    probabilities = router.classifier_.predict_proba(["We need a grant"])
    assert probabilities.shape == (1, 2) and np.isclose(probabilities.sum(), 1.0)


def test_a_topic_whose_experts_are_all_absent_goes_to_triage_as_no_host(demo_catalog):
    """Not "no shared language": nobody is there to share one with (the card must not say "they speak ")."""
    experts = tuple(replace(e, present=False) if e.table == 7 else e for e in demo_catalog.experts)
    router = Router().fit(replace(demo_catalog, experts=experts))
    (route,) = router.route(["How do chapters of neighbouring countries in our region cooperate?"], [["en"]])
    assert route.topic == "regional"
    assert route.triage_reason == TRIAGE_NO_HOST
    assert not route.seated and route.candidates[0] == 7
