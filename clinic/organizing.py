"""What organizers do around a session: try challenges, measure routing, learn from corrections, run events."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from clinic.errors import Rejected
from clinic.facilitation import CONFIRMED
from clinic.setup import Clinic
from matching import Route
from matching.evaluate import Report, cross_validated_probabilities, report, triage_curve
from matching.router import Occupancy
from store import catalog as catalog_store
from store import challenges as challenge_store
from store.engine import in_transaction

EVENT_CODE_PATTERN = r"[a-z0-9][a-z0-9-]{1,39}"
QUALITY_FOLDS = 5


@dataclass(frozen=True)
class Trial:
    """A challenge tried in the console: its route and the score of every topic."""

    route: Route
    scores: dict[str, float]  # topic name -> probability, in catalog order
    expert_name: str = ""


def try_challenge(clinic: Clinic, event_code: str, text: str, languages: list[str] | None = None) -> Trial:
    """Route `text` as a participant's challenge would be, without storing anything or taking a seat."""
    router = clinic.router(clinic.require_event(event_code))
    (read,) = router.read([text], [languages or None])
    route = router.seat(read, Occupancy())
    probabilities = router.classifier_.predict_proba([text])[0]
    by_id = dict(zip(router.classifier_.topics_, probabilities, strict=True))
    scores = {topic.name: float(by_id.get(topic.id, 0.0)) for topic in router.catalog_.active_topics}
    expert = next((e.name for e in router.catalog_.experts if e.id == route.expert), "")
    return Trial(route=route, scores=scores, expert_name=expert)


@dataclass(frozen=True)
class Quality:
    """Cross-validated routing quality on the event's labelled examples."""

    report: Report
    curve: list[tuple[float, float, float]]  # (threshold, share to triage, accuracy of the rest)
    samples: int
    corrections: int
    topic_names: dict[str, str]


def routing_quality(clinic: Clinic, event_code: str, progress: Callable[[float], None] | None = None) -> Quality:
    """How well the router does on examples it was not fitted on (k-fold cross-validation)."""
    router = clinic.router(clinic.require_event(event_code))
    catalog = router.catalog_
    if len({example.topic for example in catalog.examples}) < 2 or len(catalog.examples) < QUALITY_FOLDS * 2:
        raise Rejected("too_few_examples", "Add labelled examples for at least two topics to measure quality.")
    folds = min(QUALITY_FOLDS, min(np.unique([e.topic for e in catalog.examples], return_counts=True)[1]))
    if folds < 2:
        raise Rejected("too_few_examples", "Every topic needs at least two labelled examples to measure quality.")
    probabilities, topics = cross_validated_probabilities(catalog, folds=int(folds), progress=progress)
    corrections = sum(example.id.startswith("confirmed:") for example in catalog.examples)
    return Quality(
        report=report(probabilities, topics, catalog.examples),
        curve=triage_curve(probabilities, topics, catalog.examples),
        samples=len(catalog.examples) - corrections,
        corrections=corrections,
        topic_names={topic.id: topic.name for topic in catalog.topics},
    )


def corrections_waiting(clinic: Clinic, event_code: str) -> tuple[int, int]:
    """(corrections stored, corrections the current router has learnt from)."""
    event = clinic.require_event(event_code)
    with clinic.engine.connect() as connection:
        stored = catalog_store.count_examples(connection, event["id"], CONFIRMED)
    learnt = sum(example.id.startswith("confirmed:") for example in clinic.router(event).catalog_.examples)
    return stored, learnt


def learn_from_corrections(clinic: Clinic, event_code: str, role: str) -> int:
    """Refit the router with every facilitator-confirmed example stored so far; returns how many."""
    event = clinic.require_event(event_code)

    def work(connection):
        catalog_store.touch_event(connection, event["id"], catalog_changed=True)
        challenge_store.record_audit(connection, event["id"], role, "learn", "router")

    in_transaction(clinic.engine, work)
    return corrections_waiting(clinic, event_code)[1]


def list_events(clinic: Clinic) -> list[dict]:
    with clinic.engine.connect() as connection:
        return catalog_store.list_events(connection)


def copy_event(clinic: Clinic, source_code: str, code: str, title: str, date: str, role: str) -> dict:
    """A new event with a copy of another's catalog (a yearly conference reuses last year's)."""
    code = code.strip().lower()
    if not re.fullmatch(EVENT_CODE_PATTERN, code):
        raise Rejected(
            "bad_code", "An event code is 2-40 lower-case letters, digits or '-' (it goes in the join link)."
        )
    if not title.strip():
        raise Rejected("no_title", "Give the new event a title.")
    source = clinic.require_event(source_code)
    catalog = clinic.router(source).catalog_
    settings = {key: source[key] for key in catalog_store.EVENT_FIELDS}
    settings.update(code=code, title=title.strip(), date=date)

    def work(connection):
        if catalog_store.event_by_code(connection, code):
            raise Rejected("code_taken", f"There is already an event with the code '{code}'.")
        event_id = catalog_store.create_event(connection, settings)
        # Confirmed corrections of the old event are good labelled examples for the new one.
        examples = tuple(replace(e, id=e.id.replace("confirmed:", "learnt-")) for e in catalog.examples)
        catalog_store.save_catalog(connection, event_id, replace(catalog, examples=examples))
        challenge_store.record_audit(connection, event_id, role, "create_event", f"event:{code}", source=source_code)
        return catalog_store.event_by_id(connection, event_id)

    return in_transaction(clinic.engine, work)


def update_event_settings(clinic: Clinic, event_code: str, settings: dict, role: str) -> None:
    """Change title, date, rounds, minutes per round, submissions open, learning (one transaction, audited)."""
    event = clinic.require_event(event_code)
    allowed = {k: v for k, v in settings.items() if k in catalog_store.EVENT_FIELDS and k != "code"}
    problems = []
    for key in ("minutes", "rounds", "minutes_per_round"):
        if key in allowed and (not isinstance(allowed[key], int) or not 1 <= allowed[key] <= 600):
            problems.append(f"'{key}' must be a whole number from 1 to 600.")
    if "title" in allowed and not str(allowed["title"]).strip():
        problems.append("The title cannot be empty.")
    if problems:
        raise Rejected("bad_settings", " ".join(problems))

    def work(connection):
        catalog_store.update_event(connection, event["id"], allowed)
        challenge_store.record_audit(connection, event["id"], role, "event_settings", f"event:{event_code}")

    in_transaction(clinic.engine, work)
