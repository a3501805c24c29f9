"""Topics that come from the participants: similar challenges, "me too", and suggested new topics.

What a participant is shown of other challenges is their text and an id, never a name or a ticket.
The expensive part (TF-IDF rows of every active challenge) is computed once per change of the
event and shared by every screen of the process; the board's groups and the organizers'
suggestions come from it in well under a second at 500 challenges.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from clinic.access import ROLE_ORGANIZER, may_act_as
from clinic.errors import Rejected
from clinic.facilitation import CONFIRMED
from clinic.participants import challenge_for_ticket
from clinic.setup import Clinic
from matching import Router, Table, Topic
from matching.emergent import (
    Background,
    Suggestion,
    TermFinder,
    TopicOverlap,
    TopicSuggester,
    background_share,
    cluster_news,
    news_rows,
    topic_overlaps,
)
from matching.limits import MAX_CAPACITY, TOPIC_ID_PATTERN
from matching.similarity import DEFAULT_NEIGHBOURS, SimilarChallenges
from matching.text import clean_text, normalize, words
from store import catalog as catalog_store
from store import challenges as challenge_store
from store import emergent as emergent_store
from store.engine import in_transaction

# A suggestion stays away once organizers decided about it: the same words (its key), or at least
# this share of its members already in a suggestion they dismissed or turned into a topic.
DECIDED_OVERLAP = 0.5
# A topic name is a line on the board and the participant's card.
MAX_TOPIC_NAME_CHARS = 120
# Board groups: two challenges are enough to say "1 other asked about ...".
MIN_GROUP_SIZE = 2

ACTION_CREATE_TOPIC = "create_topic"
ACTION_DISMISS_SUGGESTION = "dismiss_suggestion"


@dataclass(frozen=True)
class SimilarChallenge:
    """Another participant's challenge as a participant may see it: its text, never who wrote it."""

    challenge_id: int
    text: str
    similarity: float
    me_too: int  # how many said "me too" to it


@dataclass(frozen=True)
class SimilarGroup:
    """Challenges on the board that ask about the same thing, and the words they share (may be none)."""

    challenge_ids: tuple[int, ...]
    terms: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.challenge_ids)

    def others(self, challenge_id: int) -> int:
        """How many others asked about this ("3 others asked about: radio, station")."""
        return self.size - 1 if challenge_id in self.challenge_ids else self.size


def group_of(groups: list[SimilarGroup], challenge_id: int) -> SimilarGroup | None:
    """The group a challenge belongs to on the board, if any."""
    return next((group for group in groups if challenge_id in group.challenge_ids), None)


# -- the event's challenges, as the matcher sees them ------------------------------------------


@dataclass
class _Snapshot:
    """The active challenges of an event at one change marker, with their features."""

    router: Router
    ids: list[int]
    texts: list[str]
    languages: list[str | None]
    features: sp.csr_matrix
    index: SimilarChallenges
    cached: dict = field(default_factory=dict)  # derived results (groups, suggestions) at this marker


_SNAPSHOTS: weakref.WeakKeyDictionary[Clinic, OrderedDict] = weakref.WeakKeyDictionary()
_BACKGROUNDS: weakref.WeakKeyDictionary[Router, Background] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()
_SNAPSHOTS_KEPT = 8


def _snapshot(clinic: Clinic, event: dict) -> _Snapshot:
    """The event's active challenges now (cached until anything of the event changes)."""
    router = clinic.router(event)
    with clinic.engine.connect() as connection:
        key = (event["id"], catalog_store.change_marker(connection, event["id"]), id(router))
        with _CACHE_LOCK:
            known = _SNAPSHOTS.setdefault(clinic, OrderedDict()).get(key)
        if known is not None:
            return known
        rows = emergent_store.active_challenges(connection, event["id"])
    texts = [row["text"] for row in rows]
    features = (
        router.classifier_.transform(texts) if texts else sp.csr_matrix((0, len(router.classifier_.feature_names_)))
    )
    ids = [int(row["id"]) for row in rows]
    snapshot = _Snapshot(
        router=router,
        ids=ids,
        texts=texts,
        languages=[row["detected_language"] for row in rows],
        features=features,
        index=SimilarChallenges(k=DEFAULT_NEIGHBOURS).fit(features, ids),
    )
    with _CACHE_LOCK:
        kept = _SNAPSHOTS.setdefault(clinic, OrderedDict())
        kept[key] = snapshot
        while len(kept) > _SNAPSHOTS_KEPT:
            kept.popitem(last=False)
    return snapshot


def _background(router: Router) -> Background:
    """What is ordinary in the router's catalog (its labelled examples, per language), once per router."""
    with _CACHE_LOCK:
        known = _BACKGROUNDS.get(router)
    if known is None:
        examples = router.catalog_.examples
        rows = router.classifier_.transform([example.text for example in examples]) if examples else None
        known = background_share(router.classifier_, rows, [example.language for example in examples])
        with _CACHE_LOCK:
            _BACKGROUNDS[router] = known
    return known


def _similar(clinic: Clinic, event: dict, snapshot: _Snapshot, neighbours) -> list[SimilarChallenge]:
    with clinic.engine.connect() as connection:
        counts = emergent_store.me_too_counts(connection, event["id"])
    position = {challenge_id: i for i, challenge_id in enumerate(snapshot.ids)}
    return [
        SimilarChallenge(
            challenge_id=int(near.id),
            text=snapshot.texts[position[near.id]],
            similarity=near.similarity,
            me_too=counts.get(int(near.id), 0),
        )
        for near in neighbours
    ]


# -- similar challenges ------------------------------------------------------------------------


def similar_to(
    clinic: Clinic, event_code: str, challenge_id: int, k: int = DEFAULT_NEIGHBOURS
) -> list[SimilarChallenge]:
    """The active challenges of the event most similar to this one (itself excluded), best first."""
    event = clinic.require_event(event_code)
    snapshot = _snapshot(clinic, event)
    if challenge_id in snapshot.index.index_:
        return _similar(clinic, event, snapshot, snapshot.index.neighbours(challenge_id, k))
    with clinic.engine.connect() as connection:
        challenge = challenge_store.challenge_by_id(connection, challenge_id)
    if challenge is None or challenge["event_id"] != event["id"]:
        raise Rejected("unknown_challenge", "This challenge no longer exists.")
    features = snapshot.router.classifier_.transform([challenge["text"]])
    (neighbours,) = snapshot.index.query(features, k, exclude={challenge_id})
    return _similar(clinic, event, snapshot, neighbours)


def similar_to_text(clinic: Clinic, event_code: str, text: str, k: int = DEFAULT_NEIGHBOURS) -> list[SimilarChallenge]:
    """The active challenges most similar to a text not submitted yet (e.g. while it is typed)."""
    event = clinic.require_event(event_code)
    text = clean_text(text or "")
    if not words(normalize(text)):
        return []
    snapshot = _snapshot(clinic, event)
    (neighbours,) = snapshot.index.query(snapshot.router.classifier_.transform([text]), k)
    return _similar(clinic, event, snapshot, neighbours)


def similar_for_ticket(clinic: Clinic, ticket: str, k: int = DEFAULT_NEIGHBOURS) -> list[SimilarChallenge]:
    """What a participant sees after submitting: challenges like theirs, to say "me too" to."""
    own = challenge_for_ticket(clinic, ticket)
    with clinic.engine.connect() as connection:
        event = catalog_store.event_by_id(connection, own["event_id"])
    return similar_to(clinic, event["code"], own["id"], k)


def similar_groups(clinic: Clinic, event_code: str) -> list[SimilarGroup]:
    """Groups of the board's challenges that ask about the same thing, biggest first.

    First the challenges that share what is news at this event, across languages ("radio",
    "télévision"), named by those words; then, among the rest, near-duplicates by plain cosine
    (named by the words they share, if any).
    """
    event = clinic.require_event(event_code)
    snapshot = _snapshot(clinic, event)
    if "groups" in snapshot.cached:
        return snapshot.cached["groups"]
    classifier = snapshot.router.classifier_
    background = _background(snapshot.router)
    finder = TermFinder(classifier, snapshot.features, background, snapshot.languages, snapshot.texts)
    rows = news_rows(snapshot.features, background, snapshot.languages)
    groups: list[SimilarGroup] = []
    grouped: set[int] = set()
    for _, (kept, terms) in cluster_news(rows, MIN_GROUP_SIZE, lambda g: finder.subject(g, MIN_GROUP_SIZE)):
        groups.append(SimilarGroup(tuple(snapshot.ids[i] for i in kept), tuple(t.word for t in terms)))
        grouped.update(snapshot.ids[i] for i in kept)
    position = {challenge_id: i for i, challenge_id in enumerate(snapshot.ids)}
    for group in snapshot.index.groups(MIN_GROUP_SIZE):
        rest = [challenge_id for challenge_id in group if challenge_id not in grouped]
        if len(rest) >= MIN_GROUP_SIZE:
            terms = finder.terms(np.array([position[challenge_id] for challenge_id in rest]), cautious=False)
            groups.append(SimilarGroup(tuple(rest), tuple(t.word for t in terms)))
    groups.sort(key=lambda group: -group.size)
    snapshot.cached["groups"] = groups
    return groups


# -- "me too" -----------------------------------------------------------------------------------


def new_supporter_key() -> str:
    """A key for a participant who says "me too" without a challenge of their own (kept in their session)."""
    return secrets.token_urlsafe(24)


def _hashed(supporter_key: str) -> str:
    return hashlib.sha256(supporter_key.encode("utf-8")).hexdigest()


def _supporter(clinic: Clinic, ticket: str | None, supporter_key: str | None) -> tuple[dict | None, str | None]:
    if ticket:
        return challenge_for_ticket(clinic, ticket), None
    if not supporter_key:
        raise Rejected("no_supporter", "Say who joins: a ticket, or a key of the participant's session.")
    return None, _hashed(supporter_key)


def _me_too_change(
    clinic: Clinic, ticket: str | None, other_challenge_id: int, supporter_key: str | None, add: bool
) -> int:
    own, key = _supporter(clinic, ticket, supporter_key)
    with clinic.engine.connect() as connection:
        other = challenge_store.challenge_by_id(connection, other_challenge_id)
    if other is None or (own is not None and own["event_id"] != other["event_id"]):
        raise Rejected("unknown_challenge", "This challenge no longer exists.")
    if own is not None and own["id"] == other["id"]:
        raise Rejected("own_challenge", "This is your own challenge.")

    def work(connection) -> int:
        catalog_store.lock_event(connection, other["event_id"])
        current = challenge_store.challenge_by_id(connection, other_challenge_id)
        if add and current["status"] not in challenge_store.ACTIVE_STATUSES:
            raise Rejected("closed_challenge", "This challenge is closed; it can no longer be joined.")
        change = emergent_store.add_me_too if add else emergent_store.remove_me_too
        change(connection, other["event_id"], other_challenge_id, own["id"] if own else None, key)
        return emergent_store.me_too_counts(connection, other["event_id"]).get(other_challenge_id, 0)

    return in_transaction(clinic.engine, work)


def me_too(clinic: Clinic, ticket: str | None, other_challenge_id: int, supporter_key: str | None = None) -> int:
    """Join another participant's challenge; returns how many have joined it now.

    The supporter is the holder of `ticket` (their own challenge), or, for someone who did not
    write one, the session's `supporter_key` (see `new_supporter_key`). Saying it twice counts once.
    """
    return _me_too_change(clinic, ticket, other_challenge_id, supporter_key, add=True)


def undo_me_too(clinic: Clinic, ticket: str | None, other_challenge_id: int, supporter_key: str | None = None) -> int:
    """Take a "me too" back; returns how many have joined the challenge now."""
    return _me_too_change(clinic, ticket, other_challenge_id, supporter_key, add=False)


def joined(clinic: Clinic, ticket: str | None = None, supporter_key: str | None = None) -> set[int]:
    """The challenges this participant said "me too" to (to show them as joined)."""
    own, key = _supporter(clinic, ticket, supporter_key)
    with clinic.engine.connect() as connection:
        return emergent_store.joined_by(connection, own["id"] if own else None, key)


def me_too_counts(clinic: Clinic, event_code: str) -> dict[int, int]:
    """Challenge id -> how many said "me too" to it, for the board."""
    event = clinic.require_event(event_code)
    with clinic.engine.connect() as connection:
        return emergent_store.me_too_counts(connection, event["id"])


# -- suggested topics -----------------------------------------------------------------------


def _seats(router: Router) -> dict[str, int]:
    """Seats per topic in a round: tables with at least one expert present (others seat nobody)."""
    seats: Counter = Counter()
    for table in router.catalog_.tables:
        if router.catalog_.hosts(table.number):
            seats[table.topic] += table.capacity
    return dict(seats)


def topic_suggestions(clinic: Clinic, event_code: str) -> list[Suggestion]:
    """New topics the participants' challenges suggest, biggest first (minus those organizers decided on)."""
    event = clinic.require_event(event_code)
    snapshot = _snapshot(clinic, event)
    if "suggestions" not in snapshot.cached:
        router = snapshot.router
        snapshot.cached["suggestions"] = (
            TopicSuggester()
            .fit(
                snapshot.features,
                snapshot.ids,
                router.classifier_,
                _seats(router),
                _background(router),
                snapshot.texts,
                {topic.id: topic.name for topic in router.catalog_.topics},
                snapshot.languages,
            )
            .suggestions_
        )
    with clinic.engine.connect() as connection:
        decisions = emergent_store.suggestion_decisions_of(connection, event["id"])
    return [suggestion for suggestion in snapshot.cached["suggestions"] if not _decided(suggestion, decisions)]


def _decided(suggestion: Suggestion, decisions: list[dict]) -> bool:
    members = set(suggestion.members)
    return any(
        decision["suggestion_key"] == suggestion.key
        or len(members & set(decision["members"] or ())) >= DECIDED_OVERLAP * len(members)
        for decision in decisions
    )


def topic_overlap_warnings(clinic: Clinic, event_code: str) -> list[TopicOverlap]:
    """Pairs of topics that overlap strongly (profiles, or the event's challenges torn between them)."""
    event = clinic.require_event(event_code)
    snapshot = _snapshot(clinic, event)
    return topic_overlaps(snapshot.router.classifier_, snapshot.router.catalog_, snapshot.features)


def create_topic_from_suggestion(
    clinic: Clinic,
    event_code: str,
    suggestion: Suggestion,
    topic_id: str,
    name: str,
    role: str,
    expert_id: str | None = None,
    capacity: int | None = None,
) -> int:
    """Add a topic with the suggestion's challenges as labelled examples, and a table for it.

    The table is hosted by nobody yet (nobody is seated there until an expert hosts it), or by
    `expert_id`, who moves there from their table. One transaction, audited; the catalog version
    goes up, so the router refits with the new topic on the next request. Returns the table number.
    """
    if not may_act_as(role, ROLE_ORGANIZER):
        raise Rejected("forbidden", "Only organizers can add topics.")
    topic_id = (topic_id or "").strip().lower()
    if not re.fullmatch(TOPIC_ID_PATTERN, topic_id):
        raise Rejected("bad_topic_id", "A topic id is 1-40 lower-case letters, digits, '-' or '_'.")
    name = " ".join(clean_text(name or "").split())
    if not name:
        raise Rejected("no_topic_name", "Give the new topic a name.")
    if len(name) > MAX_TOPIC_NAME_CHARS:
        raise Rejected("topic_name_too_long", f"Topic names are limited to {MAX_TOPIC_NAME_CHARS} characters.")
    table_capacity = Table(0, topic_id).capacity if capacity is None else capacity
    if not 1 <= table_capacity <= MAX_CAPACITY:
        raise Rejected("bad_capacity", f"A table has 1 to {MAX_CAPACITY} seats.")
    event = clinic.require_event(event_code)

    def work(connection) -> int:
        current = catalog_store.lock_event(connection, event["id"])
        catalog = catalog_store.load_catalog(connection, event["id"])
        if any(topic.id == topic_id for topic in catalog.topics):
            raise Rejected("topic_exists", f"There is already a topic '{topic_id}'.")
        members = [challenge_store.challenge_by_id(connection, int(member)) for member in suggestion.members]
        members = [challenge for challenge in members if challenge and challenge["event_id"] == event["id"]]
        if not members:
            raise Rejected("no_members", "None of this suggestion's challenges exists any more.")
        number = max((table.number for table in catalog.tables), default=0) + 1
        experts = catalog.experts
        if expert_id is not None:
            expert = next((e for e in catalog.experts if e.id == expert_id), None)
            if expert is None:
                raise Rejected("unknown_expert", f"There is no expert '{expert_id}'.")
            _, seated_with = challenge_store.occupancy(connection, event["id"], current["current_round"])
            if seated_with.get(expert_id):
                raise Rejected(
                    "expert_busy",
                    f"{expert.name} has {seated_with[expert_id]} people seated this round; move them first.",
                )
            moved = replace(expert, table=number, topics=tuple(dict.fromkeys((*expert.topics, topic_id))))
            experts = tuple(moved if e.id == expert_id else e for e in catalog.experts)
        topic = Topic(
            id=topic_id,
            name=name,
            description=f"Suggested by the participants' challenges: {', '.join(suggestion.terms)}.",
        )
        changed = replace(
            catalog,
            topics=(*catalog.topics, topic),
            tables=(*catalog.tables, Table(number, topic_id, table_capacity)),
            experts=experts,
        )
        problems = changed.problems()
        if problems:
            raise Rejected("bad_catalog", " ".join(problems))
        catalog_store.save_catalog(connection, event["id"], changed)  # bumps the catalog version
        for challenge in members:
            catalog_store.add_example(
                connection, event["id"], challenge["text"], topic_id, challenge["detected_language"], CONFIRMED,
                f"challenge:{challenge['id']}",
            )  # fmt: skip
        member_ids = [challenge["id"] for challenge in members]
        emergent_store.add_suggestion_decision(
            connection, event["id"], suggestion.key, member_ids, emergent_store.DECISION_CREATED, role, topic_id
        )
        challenge_store.record_audit(
            connection, event["id"], role, ACTION_CREATE_TOPIC, f"topic:{topic_id}",
            suggestion=suggestion.key, name=name, examples=len(member_ids), table=number, expert=expert_id,
        )  # fmt: skip
        return number

    return in_transaction(clinic.engine, work)


def dismiss_suggestion(clinic: Clinic, event_code: str, suggestion: Suggestion, role: str) -> None:
    """Hide a suggestion for good: it stays hidden while its words, or most of its members, stay."""
    if not may_act_as(role, ROLE_ORGANIZER):
        raise Rejected("forbidden", "Only organizers can dismiss suggested topics.")
    event = clinic.require_event(event_code)

    def work(connection) -> None:
        emergent_store.add_suggestion_decision(
            connection, event["id"], suggestion.key, list(suggestion.members), emergent_store.DECISION_DISMISSED, role
        )
        challenge_store.record_audit(
            connection, event["id"], role, ACTION_DISMISS_SUGGESTION, f"suggestion:{suggestion.key}",
            name=suggestion.name, members=len(suggestion.members),
        )  # fmt: skip

    in_transaction(clinic.engine, work)
