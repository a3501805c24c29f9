"""From a challenge to a seat: topic, conversation language, expert and table, or triage.

`Router.fit(catalog)` learns the topics; `Router.route(texts, languages, occupancy)` decides for a
batch. Occupancy (seats taken per table, challenges per expert) is passed in, so the router stays
pure and the store stays the only memory.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from matching.catalog import Catalog, Expert, Table
from matching.classifier import TopicClassifier, prepare
from matching.text import LanguageDetector, words

# Confidence levels. The router's probability for its top topic, calibrated on cross-validation
# of the demo samples (`python -m matching evaluate`): at >= HIGH the route is right ~19 times in
# 20; below LOW it is wrong about as often as right, so a facilitator decides (triage).
HIGH_CONFIDENCE = 0.60
LOW_CONFIDENCE = 0.30

# Why a challenge goes to the facilitators' triage queue instead of a table.
TRIAGE_LOW_CONFIDENCE = "low_confidence"
TRIAGE_NO_SHARED_LANGUAGE = "no_shared_language"
TRIAGE_TABLES_FULL = "tables_full"
TRIAGE_NO_TABLE = "no_table"
TRIAGE_NO_HOST = "no_host"  # the topic has tables, but no expert present at any of them
TRIAGE_REASONS = (TRIAGE_LOW_CONFIDENCE, TRIAGE_NO_SHARED_LANGUAGE, TRIAGE_TABLES_FULL, TRIAGE_NO_TABLE, TRIAGE_NO_HOST)


@dataclass(frozen=True)
class Route:
    """Where one challenge should go, and why."""

    topic: str
    topic_score: float
    confidence: str  # "high", "medium" or "low"
    alternatives: tuple[tuple[str, float], ...]  # runner-up topics with scores, best first
    terms: tuple[str, ...]  # the words that drove the topic
    detected_language: str | None
    spoken: tuple[str, ...] = ()  # languages the participant can talk in, best first
    language: str | None = None  # conversation language
    expert: str | None = None  # expert id
    table: int | None = None
    triage_reason: str | None = None
    candidates: tuple[int, ...] = field(default=())  # tables a facilitator may pick (triage)

    @property
    def seated(self) -> bool:
        return self.table is not None


@dataclass
class Occupancy:
    """Seats taken per table and challenges per expert in the current round."""

    tables: dict[int, int] = field(default_factory=dict)
    experts: dict[str, int] = field(default_factory=dict)
    closed: frozenset[int] = frozenset()  # tables a facilitator locked: nobody is seated there automatically

    @classmethod
    def of(
        cls,
        tables: Mapping[int, int] | None = None,
        experts: Mapping[str, int] | None = None,
        closed: Collection[int] = (),
    ) -> Occupancy:
        return cls(dict(tables or {}), dict(experts or {}), frozenset(closed))

    def take(self, table: int, expert: str) -> None:
        self.tables[table] = self.tables.get(table, 0) + 1
        self.experts[expert] = self.experts.get(expert, 0) + 1


def confidence_level(score: float) -> str:
    if score >= HIGH_CONFIDENCE:
        return "high"
    if score >= LOW_CONFIDENCE:
        return "medium"
    return "low"


def language_preference(detected: str | None, spoken: Sequence[str]) -> list[str]:
    """The languages a participant can talk in, best first: the one they wrote in leads."""
    order = list(dict.fromkeys(spoken))
    if detected in order:
        order.remove(detected)
        order.insert(0, detected)
    elif not order and detected:
        order = [detected]
    return order


class Router:
    """Routes challenges to a topic table, a peer-expert and a conversation language."""

    def __init__(self, classifier: TopicClassifier | None = None, explain: bool = True):
        self.classifier = classifier
        self.explain = explain

    def fit(self, catalog: Catalog, _fitted_classifier: TopicClassifier | None = None) -> Router:
        problems = catalog.problems()
        if problems:
            raise ValueError("; ".join(problems))
        self.catalog_ = catalog
        self.classifier_ = _fitted_classifier or (self.classifier or TopicClassifier()).fit(catalog)
        self.detector_ = LanguageDetector(catalog.language_codes).load()
        self.tables_by_topic_ = {
            topic.id: tuple(t for t in catalog.tables if t.topic == topic.id) for topic in catalog.topics
        }
        return self

    def refit(self, catalog: Catalog) -> Router:
        """A new router for an edited catalog, re-learning topics only if what they learn from changed.

        Marking an expert absent or changing a table's capacity is the common live edit: it needs
        new seating, not a new topic model, so it takes milliseconds instead of a second.
        """
        same_topics = catalog.topics == self.catalog_.topics and catalog.examples == self.catalog_.examples
        return Router(self.classifier, self.explain).fit(catalog, self.classifier_ if same_topics else None)

    def route(
        self,
        texts: Sequence[str],
        languages: Sequence[Sequence[str] | None] | None = None,
        occupancy: Occupancy | None = None,
    ) -> list[Route]:
        """One route per text. Seats are taken in order, so a batch never overfills a table."""
        occupancy = occupancy if occupancy is not None else Occupancy()
        return [self.seat(route, occupancy) for route in self.read(texts, languages)]

    def read(self, texts: Sequence[str], languages: Sequence[Sequence[str] | None] | None = None) -> list[Route]:
        """Topic, confidence, explanation and languages of each text, without a seat yet.

        This is the expensive half of routing; `seat` is cheap, so a caller can read outside a
        transaction and seat inside it.
        """
        texts = list(texts)
        if not texts:
            return []
        languages = list(languages) if languages is not None else [None] * len(texts)
        prepared = [prepare(text) for text in texts]
        features = self.classifier_.transform(texts, prepared)
        probabilities = self.classifier_.predict_proba(texts, features)
        topics = self.classifier_.topics_
        guesses = self.classifier_.language_profiles_.predict(features)
        order = np.argsort(-probabilities, axis=1, kind="stable")
        best = [str(topics[row[0]]) for row in order]
        terms = self.classifier_.explain(texts, best, features, prepared) if self.explain else [()] * len(texts)
        routes = []
        for i, (text, spoken) in enumerate(zip(texts, languages, strict=True)):
            score = float(probabilities[i, order[i, 0]])
            alternatives = tuple((str(topics[j]), round(float(probabilities[i, j]), 4)) for j in order[i, 1:4])
            if not words(prepared[i]):  # nothing to read: never pretend to know
                score, alternatives = 0.0, ()
            detected = self.detector_.detect(text, guesses[i])
            routes.append(
                Route(
                    topic=best[i],
                    topic_score=round(score, 4),
                    confidence=confidence_level(score),
                    alternatives=alternatives,
                    terms=terms[i] if score > 0 else (),
                    detected_language=detected,
                    spoken=tuple(language_preference(detected, spoken or [])),
                )
            )
        return routes

    def seat(self, route: Route, occupancy: Occupancy, exclude: Collection[int] = ()) -> Route:
        """Give a read route a table, an expert and a language (taking the seat), or triage it.

        `exclude`: tables this participant must not get (e.g. where they already sat this event).
        """
        route = replace(route, language=None, expert=None, table=None, triage_reason=None, candidates=())
        candidates = tuple(
            table.number
            for topic in (route.topic, *(alternative for alternative, _ in route.alternatives))
            for table in self.tables_by_topic_.get(topic, ())
            if table.number not in exclude
        )
        if route.confidence == "low":
            return _triage(route, TRIAGE_LOW_CONFIDENCE, candidates)
        preference = list(route.spoken) or [self.catalog_.languages[0].code]
        # A participant who already sat at their topic's table(s) gets the runner-up topics next.
        topics = [route.topic, *(topic for topic, _ in route.alternatives)] if exclude else [route.topic]
        reason = TRIAGE_NO_TABLE
        for topic in topics:
            tables = [t for t in self.tables_by_topic_.get(topic, ()) if t.number not in exclude]
            if not tables:
                continue
            choice = best_seat(tables, self.catalog_, preference, occupancy)
            if choice is not None:
                table, expert, language = choice
                occupancy.take(table.number, expert.id)
                return replace(route, table=table.number, expert=expert.id, language=language)
            if reason == TRIAGE_NO_TABLE:
                hosts = [expert for t in tables for expert in self.catalog_.hosts(t.number)]
                if not hosts:
                    reason = TRIAGE_NO_HOST
                elif any(_shared_language(expert, preference) for expert in hosts):
                    reason = TRIAGE_TABLES_FULL
                else:
                    reason = TRIAGE_NO_SHARED_LANGUAGE
        return _triage(route, reason, candidates)

    def seat_at(self, route: Route, table_number: int, occupancy: Occupancy, force: bool = False) -> Route | str:
        """Seat at the table a facilitator chose, or say in words why not (unless `force`).

        Checks what a person would: the table exists, has a free seat, and one of its experts
        speaks one of the participant's languages. `force` seats anyway (an override with a reason).
        """
        table = next((t for t in self.catalog_.tables if t.number == table_number), None)
        if table is None:
            return f"Table {table_number} does not exist."
        hosts = self.catalog_.hosts(table_number)
        preference = list(route.spoken) or [self.catalog_.languages[0].code]
        speaking = [(expert, _shared_language(expert, preference)) for expert in hosts]
        speaking = [(expert, language) for expert, language in speaking if language]
        used = occupancy.tables.get(table_number, 0)
        if not force:
            if used >= table.capacity:
                return f"Table {table_number} is full ({used}/{table.capacity} seats)."
            if not speaking:
                spoken = ", ".join(route.spoken) or "no language"
                return f"Nobody at table {table_number} speaks {spoken}."
        if speaking:
            expert, language = min(
                speaking,
                key=lambda pair: (preference.index(pair[1]), occupancy.experts.get(pair[0].id, 0) / pair[0].capacity),
            )
        elif hosts:
            expert, language = hosts[0], None
        else:
            return f"Table {table_number} has no expert present."
        occupancy.take(table_number, expert.id)
        return replace(
            route, table=table_number, expert=expert.id, language=language, triage_reason=None, candidates=()
        )


def _shared_language(expert: Expert, preference: Sequence[str]) -> str | None:
    return next((code for code in preference if code in expert.languages), None)


def best_seat(
    tables: Sequence[Table], catalog: Catalog, preference: Sequence[str], occupancy: Occupancy
) -> tuple[Table, Expert, str] | None:
    """The emptiest table with room whose least-loaded host speaks the participant's best language.

    Ranking: first the participant's most preferred language, then the expert with the lowest
    share of their capacity used (spreads load), then the table with most free seats.
    """
    options = []
    for table in tables:
        used = occupancy.tables.get(table.number, 0)
        if used >= table.capacity or table.number in occupancy.closed:
            continue
        for expert in catalog.hosts(table.number):
            load = occupancy.experts.get(expert.id, 0)
            if load >= expert.capacity:
                continue
            language = _shared_language(expert, preference)
            if language is None:
                continue
            rank = (list(preference).index(language), load / max(expert.capacity, 1), used / table.capacity)
            options.append((rank, table.number, expert.id, table, expert, language))
    if not options:
        return None
    *_, table, expert, language = min(options, key=lambda option: option[:3])
    return table, expert, language


def _triage(route: Route, reason: str, candidates: tuple[int, ...]) -> Route:
    return replace(route, triage_reason=reason, candidates=candidates)
