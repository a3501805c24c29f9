"""What facilitators do during the session: watch the board, seat, move, lock, close, run rounds, take notes.

Every action is one transaction with the event locked, checks the challenge version the
facilitator saw (two facilitators on the same challenge: the first wins, the second is told),
and is written to the audit log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from clinic.errors import Rejected
from clinic.seating import assignment_values, live_occupancy, route_from_assignment
from clinic.setup import Clinic
from matching.assignment import Assigner, AssignmentProblem, Challenge
from matching.limits import MAX_NOTE_CHARS
from matching.router import LOW_CONFIDENCE, Occupancy
from matching.text import clean_text
from store import catalog as catalog_store
from store import challenges as challenge_store
from store.engine import in_transaction

NOTE_KINDS = ("question", "suggestion")


@dataclass(frozen=True)
class Seat:
    """A challenge as the board shows it."""

    challenge_id: int
    version: int
    ticket: str
    text: str
    participant_name: str
    languages: tuple[str, ...]
    language: str | None  # conversation language (seated) or None
    topic: str
    topic_score: float
    confidence: str
    locked: bool
    status: str
    expert_id: str | None
    triage_reason: str | None
    candidates: tuple[int, ...]
    method: str
    table: int | None = None

    @property
    def first_line(self) -> str:
        line = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return line if len(line) <= 90 else line[:89] + "…"


@dataclass(frozen=True)
class TableCard:
    number: int
    topic: str
    topic_name: str
    capacity: int
    locked: bool
    experts: tuple[tuple[str, tuple[str, ...]], ...]  # (name, languages) of the experts present
    seats: tuple[Seat, ...]

    @property
    def used(self) -> int:
        return len(self.seats)

    @property
    def full(self) -> bool:
        return self.used >= self.capacity

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for _, codes in self.experts for code in codes))


@dataclass(frozen=True)
class Board:
    event: dict
    round: int
    seconds_left: int | None  # of the current round, None before the first start
    tables: tuple[TableCard, ...]
    triage: tuple[Seat, ...]
    done: int
    withdrawn: int
    per_language: dict[str, int]
    per_topic: dict[str, int]
    notes: tuple[dict, ...]
    marker: tuple[int, int]

    @property
    def seated(self) -> int:
        return sum(table.used for table in self.tables)

    @property
    def waiting(self) -> int:
        return len(self.triage)


def change_marker(clinic: Clinic, event_id: int) -> tuple[int, int]:
    """The cheap query a live view polls: it changes whenever the board would."""
    with clinic.engine.connect() as connection:
        return catalog_store.change_marker(connection, event_id)


def seconds_left(event: dict, now: datetime | None = None) -> int | None:
    started = event.get("round_started_at")
    if started is None:
        return None
    if started.tzinfo is None:  # SQLite returns naive datetimes; we always store UTC
        started = started.replace(tzinfo=UTC)
    elapsed = ((now or datetime.now(UTC)) - started).total_seconds()
    return int(event["minutes_per_round"] * 60 - elapsed)


def board_snapshot(clinic: Clinic, event_code: str) -> Board:
    """Everything the live board and the projector show, read in one go."""
    event = clinic.require_event(event_code)
    catalog = clinic.router(event).catalog_
    with clinic.engine.connect() as connection:
        event = catalog_store.event_by_id(connection, event["id"])
        marker = catalog_store.change_marker(connection, event["id"])
        rows = challenge_store.challenges_with_assignments(
            connection, event["id"], event["current_round"], statuses=challenge_store.ACTIVE_STATUSES
        )
        closed = Counter(
            row["status"]
            for row in challenge_store.challenges_with_assignments(
                connection,
                event["id"],
                event["current_round"],
                statuses=(challenge_store.STATUS_DONE, challenge_store.STATUS_WITHDRAWN),
            )
        )
        locked = catalog_store.locked_tables(connection, event["id"])
        notes = tuple(challenge_store.notes_of_event(connection, event["id"]))
    seats = [_seat(row) for row in rows]
    names = {topic.id: topic.name for topic in catalog.topics}
    tables = tuple(
        TableCard(
            number=table.number,
            topic=table.topic,
            topic_name=names.get(table.topic, table.topic),
            capacity=table.capacity,
            locked=table.number in locked,
            experts=tuple((e.name, e.languages) for e in catalog.hosts(table.number)),
            seats=tuple(seat for seat in seats if seat.table == table.number),
        )
        for table in catalog.tables
    )
    return Board(
        event=event,
        round=event["current_round"],
        seconds_left=seconds_left(event),
        tables=tables,
        triage=tuple(seat for seat in seats if seat.table is None),
        done=closed[challenge_store.STATUS_DONE],
        withdrawn=closed[challenge_store.STATUS_WITHDRAWN],
        per_language=dict(Counter(s.language or (s.languages[0] if s.languages else "?") for s in seats)),
        per_topic=dict(Counter(s.topic for s in seats)),
        notes=notes,
        marker=marker,
    )


def _seat(row: dict) -> Seat:
    return Seat(
        challenge_id=row["id"],
        version=row["version"],
        ticket=row["ticket"],
        text=row["text"],
        participant_name=row["participant_name"],
        languages=tuple(row["languages"] or ()),
        language=row["conversation_language"],
        topic=row["topic_id"] or "",
        topic_score=float(row["topic_score"] or 0.0),
        confidence=row["confidence"] or "low",
        locked=bool(row["locked"]),
        status=row["status"],
        expert_id=row["expert_id"],
        triage_reason=row["triage_reason"],
        candidates=tuple(row["candidates"] or ()),
        method=row["method"] or "auto",
        table=row["table_number"],
    )


def _act(clinic: Clinic, event_code: str, challenge_id: int, version: int, role: str, action: str, change) -> None:
    """Run one facilitator action on a challenge, if it is still as the facilitator saw it."""
    event = clinic.require_event(event_code)
    router = clinic.router(event)

    def work(connection):
        locked_event = catalog_store.lock_event(connection, event["id"])
        challenge = challenge_store.challenge_by_id(connection, challenge_id)
        if challenge is None or challenge["event_id"] != event["id"]:
            raise Rejected("unknown_challenge", "This challenge no longer exists.")
        if challenge["version"] != version:
            raise Rejected(
                "stale", "Someone else changed this challenge a moment ago; the board now shows their change."
            )
        detail = change(connection, locked_event, challenge, router) or {}
        challenge_store.update_challenge(connection, challenge, **detail.pop("_challenge", {}))
        challenge_store.record_audit(connection, event["id"], role, action, f"challenge:{challenge_id}", **detail)

    in_transaction(clinic.engine, work)


def seat_at_table(
    clinic: Clinic,
    event_code: str,
    challenge_id: int,
    version: int,
    table_number: int,
    role: str,
    override_reason: str = "",
) -> None:
    """Seat a waiting challenge or move a seated one to `table_number`.

    Refused with the reason when the table is full or nobody there shares a language, unless
    the facilitator gives a reason to override (recorded in the audit log).
    """
    override_reason = clean_text(override_reason)[:200]

    def change(connection, event, challenge, router):
        round_number = event["current_round"]
        assignment = challenge_store.current_assignment(connection, challenge_id, round_number)
        if assignment is None:
            raise Rejected("unknown_challenge", "This challenge has no route yet.")
        if assignment["table_number"] is not None:  # free the current seat before counting
            challenge_store.save_assignment(connection, challenge, round_number, table_number=None, expert_id=None)
        occupancy = live_occupancy(connection, event["id"], round_number)
        route = route_from_assignment(challenge, assignment)
        seated = router.seat_at(route, table_number, occupancy, force=bool(override_reason))
        if isinstance(seated, str):
            raise Rejected("cannot_seat", seated + " Give a reason to override.")
        values = assignment_values(seated, method="manual")
        values.update(topic_id=assignment["topic_id"], locked=assignment["locked"])
        challenge_store.save_assignment(connection, challenge, round_number, **values)
        _learn(connection, event, challenge, router.catalog_, table_number)
        return {
            "_challenge": {"status": challenge_store.STATUS_ASSIGNED},
            "from_table": assignment["table_number"],
            "to_table": table_number,
            "override": override_reason,
        }

    _act(clinic, event_code, challenge_id, version, role, "seat", change)


CONFIRMED = "confirmed"


def _learn(connection, event: dict, challenge: dict, catalog, table_number: int) -> None:
    """A facilitator seating someone at a table says "this challenge is about that table's topic"."""
    if not event["learn_from_corrections"]:
        return
    topic = next((t.topic for t in catalog.tables if t.number == table_number), None)
    if topic:
        catalog_store.add_example(
            connection, event["id"], challenge["text"], topic, challenge["detected_language"], CONFIRMED,
            f"challenge:{challenge['id']}",
        )  # fmt: skip


def confirm_topic(clinic: Clinic, event_code: str, challenge_id: int, version: int, role: str) -> None:
    """Confirm that a seated challenge is at the right table (a labelled example when learning is on)."""

    def change(connection, event, challenge, router):
        assignment = challenge_store.current_assignment(connection, challenge_id, event["current_round"])
        if assignment is None or assignment["table_number"] is None:
            raise Rejected("not_seated", "Seat the challenge first, then confirm its table.")
        _learn(connection, event, challenge, router.catalog_, assignment["table_number"])
        return {"table": assignment["table_number"]}

    _act(clinic, event_code, challenge_id, version, role, "confirm", change)


def set_locked(clinic: Clinic, event_code: str, challenge_id: int, version: int, locked: bool, role: str) -> None:
    """Lock an assignment: a new round and "optimise" keep it where it is."""

    def change(connection, event, challenge, router):
        challenge_store.save_assignment(connection, challenge, event["current_round"], locked=locked)
        return {}

    _act(clinic, event_code, challenge_id, version, role, "lock" if locked else "unlock", change)


def set_status(clinic: Clinic, event_code: str, challenge_id: int, version: int, status: str, role: str) -> None:
    """Mark a challenge done, or withdraw it on the participant's behalf (the seat is freed)."""
    if status not in (challenge_store.STATUS_DONE, challenge_store.STATUS_WITHDRAWN):
        raise Rejected("bad_status", f"'{status}' is not something a facilitator can set.")
    _act(clinic, event_code, challenge_id, version, role, status, lambda *_: {"_challenge": {"status": status}})


def lock_table(clinic: Clinic, event_code: str, table_number: int, locked: bool, role: str) -> None:
    """Close a table to automatic seating (and keep its people through a new round), or open it."""
    event = clinic.require_event(event_code)

    def work(connection):
        catalog_store.set_table_locked(connection, event["id"], table_number, locked)
        challenge_store.record_audit(
            connection, event["id"], role, "lock_table" if locked else "unlock_table", f"table:{table_number}"
        )

    in_transaction(clinic.engine, work)


def start_clock(clinic: Clinic, event_code: str, role: str) -> None:
    """Start the current round's clock (the first round starts when the facilitator says so)."""
    event = clinic.require_event(event_code)

    def work(connection):
        current = catalog_store.lock_event(connection, event["id"])
        catalog_store.start_round(connection, event["id"], current["current_round"])
        challenge_store.record_audit(connection, event["id"], role, "start_clock", f"round:{current['current_round']}")

    in_transaction(clinic.engine, work)


def start_next_round(clinic: Clinic, event_code: str, role: str) -> dict[str, int]:
    """Start the next round: locked seats stay, done ones leave, everyone else is seated again
    at a table they have not sat at yet (or waits in triage). Returns counts for the facilitator."""
    event = clinic.require_event(event_code)
    router = clinic.router(event)

    def work(connection):
        current = catalog_store.lock_event(connection, event["id"])
        old_round, new_round = current["current_round"], current["current_round"] + 1
        rows = challenge_store.challenges_with_assignments(connection, event["id"], old_round)
        locked_tables = catalog_store.locked_tables(connection, event["id"])
        catalog_store.start_round(connection, event["id"], new_round)
        counts = Counter()
        # Locked people first, so their seats count before anyone else is placed.
        rows.sort(key=lambda row: not (row["locked"] or row["table_number"] in locked_tables))
        for row in rows:
            challenge = challenge_store.challenge_by_id(connection, row["id"])
            assignment = challenge_store.current_assignment(connection, row["id"], old_round)
            if assignment is None:
                continue
            occupancy = live_occupancy(connection, event["id"], new_round)
            if assignment["locked"] or assignment["table_number"] in locked_tables:
                values = {k: assignment[k] for k in assignment_values(route_from_assignment(challenge, assignment))}
                challenge_store.save_assignment(connection, challenge, new_round, **values, locked=assignment["locked"])
                counts["kept"] += 1
                continue
            route = router.seat(
                route_from_assignment(challenge, assignment),
                occupancy,
                exclude=challenge_store.tables_sat_at(connection, challenge["id"], new_round),
            )
            challenge_store.save_assignment(connection, challenge, new_round, **assignment_values(route))
            status = challenge_store.STATUS_ASSIGNED if route.seated else challenge_store.STATUS_WAITING
            challenge_store.update_challenge(connection, challenge, status=status)
            counts["seated" if route.seated else "triage"] += 1
        challenge_store.record_audit(connection, event["id"], role, "start_round", f"round:{new_round}", **counts)
        return dict(counts, round=new_round)

    return in_transaction(clinic.engine, work)


def add_note(
    clinic: Clinic, event_code: str, text: str, role: str, kind: str = "suggestion", challenge_id: int | None = None,
    table_number: int | None = None,
) -> None:  # fmt: skip
    """Write down a question raised or a suggestion gathered at a table (the seed's documentation)."""
    text = clean_text(text)
    if not text:
        raise Rejected("empty_note", "Write the suggestion first.")
    if len(text) > MAX_NOTE_CHARS:
        raise Rejected("note_too_long", f"Notes are limited to {MAX_NOTE_CHARS} characters.")
    if kind not in NOTE_KINDS:
        raise Rejected("bad_note_kind", f"A note is a {' or a '.join(NOTE_KINDS)}.")
    event = clinic.require_event(event_code)

    def work(connection):
        if challenge_id is not None:
            challenge = challenge_store.challenge_by_id(connection, challenge_id)
            if challenge is None or challenge["event_id"] != event["id"]:
                raise Rejected("unknown_challenge", "This challenge no longer exists.")
        challenge_store.add_note(
            connection,
            event["id"],
            challenge_id=challenge_id,
            table_number=table_number,
            round=event["current_round"],
            kind=kind,
            text=text,
            author_role=role,
        )
        challenge_store.record_audit(connection, event["id"], role, "note", f"challenge:{challenge_id}")

    in_transaction(clinic.engine, work)


@dataclass(frozen=True)
class RoundPlan:
    """What "optimise this round" would do: who moves where, and what cannot be helped."""

    moves: tuple  # matching.assignment.Move: challenge id, from table, to table
    seated: int
    triaged: int
    total_fit: float
    diagnoses: tuple[str, ...]
    marker: tuple[int, int]  # the board state the plan was made for


# Seating similar challenges together is a wish, not a rule: a little more fit at the table where
# most of a challenge's similar others sit, small beside the gap between a right and a wrong topic.
TOGETHER_BONUS = 0.03


def _together_bonus(
    challenge_id: int, groups: Sequence[Collection[int]], current: Mapping[int, int | None]
) -> int | None:
    """The table where most of this challenge's group sits now (the same answer for every member,
    so two members never swap places chasing each other); ties go to the lower table number."""
    for group in groups:
        if challenge_id in group:
            tables = Counter(current.get(member) for member in group)
            tables.pop(None, None)
            if not tables:
                return None
            return min(tables, key=lambda number: (-tables[number], number))
    return None


def _round_problem(connection, event: dict, catalog, fair: bool, groups: Sequence[Collection[int]] = ()):
    round_number = event["current_round"]
    rows = challenge_store.challenges_with_assignments(connection, event["id"], round_number)
    locked_tables = catalog_store.locked_tables(connection, event["id"])
    challenges, kept, current = [], {}, {}
    for row in rows:
        assignment = challenge_store.current_assignment(connection, row["id"], round_number)
        if assignment is None:
            continue
        current[row["id"]] = assignment["table_number"]
        challenge = challenge_store.challenge_by_id(connection, row["id"])
        route = route_from_assignment(challenge, assignment)
        sat_at = challenge_store.tables_sat_at(connection, row["id"], round_number)
        challenges.append(Challenge.from_route(row["id"], route, sat_at))
        if assignment["table_number"] is not None and (
            assignment["locked"] or assignment["method"] == "manual" or assignment["table_number"] in locked_tables
        ):
            kept[row["id"]] = (assignment["table_number"], assignment["expert_id"])
    if groups:
        challenges = [_with_company(challenge, catalog, _together_bonus(challenge.id, groups, current))
                      for challenge in challenges]  # fmt: skip
    problem = AssignmentProblem(tuple(challenges), catalog, kept, Occupancy.of(closed=locked_tables))
    # Low-confidence challenges stay for a facilitator to judge: never seated on a guess.
    return Assigner(fair=fair, min_fit=LOW_CONFIDENCE).assign(problem), current


def _with_company(challenge: Challenge, catalog, table_number: int | None) -> Challenge:
    if table_number is None:
        return challenge
    fits = {t.number: challenge.topics.get(t.topic, 0.0) for t in catalog.tables}
    fits[table_number] = fits.get(table_number, 0.0) + TOGETHER_BONUS
    return replace(challenge, tables=fits)


def plan_round(
    clinic: Clinic, event_code: str, fair: bool = False, groups: Sequence[Collection[int]] = ()
) -> RoundPlan:
    """The optimal seating of every unlocked challenge of the round, as a preview (nothing stored).

    `groups`: challenges that ask about the same thing (clinic.emergent.similar_groups), seated
    together where it costs (almost) nothing.
    """
    event = clinic.require_event(event_code)
    catalog = clinic.router(event).catalog_
    with clinic.engine.connect() as connection:
        event = catalog_store.event_by_id(connection, event["id"])
        marker = catalog_store.change_marker(connection, event["id"])
        assignment, current = _round_problem(connection, event, catalog, fair, groups)
    return RoundPlan(
        moves=assignment.moves(current),
        seated=len(assignment.seated),
        triaged=len(assignment.triaged),
        total_fit=round(assignment.total_fit, 3),
        diagnoses=tuple(assignment.diagnoses),
        marker=marker,
    )


def apply_round_plan(
    clinic: Clinic,
    event_code: str,
    plan: RoundPlan,
    role: str,
    fair: bool = False,
    groups: Sequence[Collection[int]] = (),
) -> int:
    """Store the optimal seating if the board is still as it was when previewed; returns moves made."""
    event = clinic.require_event(event_code)
    catalog = clinic.router(event).catalog_

    def work(connection):
        current_event = catalog_store.lock_event(connection, event["id"])
        if catalog_store.change_marker(connection, event["id"]) != plan.marker:
            raise Rejected("stale", "The board changed since the preview; look at the new preview and apply again.")
        assignment, current = _round_problem(connection, current_event, catalog, fair, groups)
        moved = 0
        for placement in assignment.placements:
            if placement.kept or current.get(placement.challenge) == placement.table:
                continue
            challenge = challenge_store.challenge_by_id(connection, placement.challenge)
            challenge_store.save_assignment(
                connection, challenge, current_event["current_round"], table_number=placement.table,
                expert_id=placement.expert, language=placement.language, method="optimized",
                triage_reason=placement.triage_reason,
            )  # fmt: skip
            status = challenge_store.STATUS_ASSIGNED if placement.table is not None else challenge_store.STATUS_WAITING
            challenge_store.update_challenge(connection, challenge, status=status)
            moved += 1
        challenge_store.record_audit(connection, event["id"], role, "optimise_round", "round", moved=moved, fair=fair)
        return moved

    return in_transaction(clinic.engine, work)
