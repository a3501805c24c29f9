"""What every use case that seats someone shares: the live occupancy and how a route is stored."""

from __future__ import annotations

from sqlalchemy import Connection

from matching import Route
from matching.router import Occupancy
from store import catalog as catalog_store
from store import challenges as challenge_store


def live_occupancy(connection: Connection, event_id: int, round_number: int) -> Occupancy:
    """Seats taken now, with locked tables closed to automatic seating."""
    tables, experts = challenge_store.occupancy(connection, event_id, round_number)
    return Occupancy.of(tables, experts, catalog_store.locked_tables(connection, event_id))


def assignment_values(route: Route, method: str = "auto") -> dict:
    return {
        "table_number": route.table,
        "expert_id": route.expert,
        "language": route.language,
        "topic_id": route.topic,
        "topic_score": route.topic_score,
        "confidence": route.confidence,
        "alternatives": [list(a) for a in route.alternatives],
        "terms": list(route.terms),
        "triage_reason": route.triage_reason,
        "candidates": list(route.candidates),
        "method": method,
    }


def route_from_assignment(challenge: dict, assignment: dict) -> Route:
    """The stored route of a challenge, to seat it again without reading its text again."""
    return Route(
        topic=assignment["topic_id"],
        topic_score=assignment["topic_score"],
        confidence=assignment["confidence"],
        alternatives=tuple((a[0], a[1]) for a in assignment["alternatives"] or ()),
        terms=tuple(assignment["terms"] or ()),
        detected_language=challenge["detected_language"],
        spoken=tuple(
            dict.fromkeys(
                ([challenge["detected_language"]] if challenge["detected_language"] in challenge["languages"] else [])
                + list(challenge["languages"])
            )
        ),
    )
