"""Global assignment of a round: every unlocked challenge to a table, an expert and a language at once.

The live router seats challenges one by one as they arrive, so an early arrival can take the last
seat a later one needed. `Assigner` re-decides the whole round together (the board's "optimise this
round" button, `python -m matching assign`): it seats as many participants as the seats and
languages allow, and among those seatings takes the one with the highest total fit. Like
OpenReview's matcher, it is fed scores and constraints, not texts: a `Challenge` carries its topic
probabilities (or a fit per table), the languages its author speaks and the tables they already
sat at; the catalog gives tables, experts, capacities and languages.

Hard constraints: a table's capacity, an expert's capacity per round, a conversation language the
participant and the expert both speak, kept (locked or manual) seats stay where they are, nobody
returns to a table they already sat at this event, and closed tables get nobody new.

How it is exact: each free challenge is a row, each free seat of an expert a column (an expert's
k-th seat costs a little more than the (k-1)-th, which spreads load), plus one "triage" column
for each challenge that cannot be seated; `scipy.optimize.linear_sum_assignment` then solves it
exactly. A table's capacity is a second limit above its experts' capacities; it is enforced by
"blocker" rows that must fill a table's surplus expert seats (if a table holds 8 but its two
experts take 6 each, 4 blockers sit in that table's columns). How many can be seated at all comes
first, from a maximum flow, and fixes the number of triage columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import maximum_flow

from matching.catalog import Catalog, Expert
from matching.router import (
    TRIAGE_LOW_CONFIDENCE,
    TRIAGE_NO_SHARED_LANGUAGE,
    TRIAGE_NO_TABLE,
    TRIAGE_TABLES_FULL,
    Occupancy,
    Route,
)

ChallengeId = Hashable

# The fit of a seat is the challenge's probability for the table's topic (0..1) plus this bonus
# when the conversation is in the participant's first language (half of it for their second,
# a quarter for the third): big enough to decide between two tables of the same topic, too small
# to send someone to the wrong topic for the sake of their language.
LANGUAGE_BONUS = 0.05
# An expert's k-th participant costs LOAD_WEIGHT * k / capacity: at most a few thousandths in
# total, so it only decides between (nearly) equal seatings, towards the emptier expert.
LOAD_WEIGHT = 0.001
ALTERNATES = 3


@dataclass(frozen=True)
class Challenge:
    """What the assigner needs to know about one challenge of the round."""

    id: ChallengeId
    languages: tuple[str, ...] = ()  # the languages its author speaks, preferred first
    topics: Mapping[str, float] = field(default_factory=dict)  # topic id -> probability
    tables: Mapping[int, float] | None = None  # table number -> fit; when given, used instead of topics
    sat_at: frozenset[int] = frozenset()  # tables its author already sat at in this event

    @classmethod
    def from_route(cls, id: ChallengeId, route: Route, sat_at: Sequence[int] = ()) -> Challenge:
        """From a stored or fresh route: its topic and runner-ups with their scores, its languages."""
        topics = {topic: score for topic, score in route.alternatives}
        topics[route.topic] = route.topic_score
        return cls(id=id, languages=tuple(route.spoken), topics=topics, sat_at=frozenset(sat_at))


@dataclass(frozen=True)
class AssignmentProblem:
    """One round to assign.

    `kept`: challenge id -> (table, expert id or None) for seats that must not move (locked by a
    facilitator, placed by hand, or at a closed table); they are kept even where they break a
    rule (a facilitator's override), and a table or expert they overfill is named in the
    diagnoses. With no expert given, the host speaking the participant's best language is named.
    `occupancy`: seats held by people outside this problem (not its challenges, kept or not), and
    the tables closed to new seats.
    """

    challenges: tuple[Challenge, ...]
    catalog: Catalog
    kept: Mapping[ChallengeId, tuple[int, str | None]] = field(default_factory=dict)
    occupancy: Occupancy = field(default_factory=Occupancy)


@dataclass(frozen=True)
class Alternate:
    """Another table the challenge could go to, for a manual swap."""

    table: int
    expert: str
    language: str
    fit: float
    free_seats: int  # still free there after this assignment; 0 means someone must move first


@dataclass(frozen=True)
class Placement:
    """Where one challenge goes, or why it waits in triage."""

    challenge: ChallengeId
    table: int | None
    expert: str | None
    language: str | None
    fit: float  # 0 when in triage
    alternates: tuple[Alternate, ...] = ()
    kept: bool = False
    triage_reason: str | None = None  # one of matching.router.TRIAGE_REASONS, for the store
    reason: str = ""  # the same in words, for a facilitator

    @property
    def seated(self) -> bool:
        return self.table is not None


@dataclass(frozen=True)
class Move:
    challenge: ChallengeId
    from_table: int | None
    to_table: int | None


@dataclass(frozen=True)
class Assignment:
    """The outcome for a whole round: one placement per challenge, in the problem's order."""

    placements: tuple[Placement, ...]
    objective: float  # what the solver maximised: fit of the placed challenges minus the load term
    diagnoses: tuple[str, ...] = ()  # what to change when seats are short, in words
    threshold: float | None = None  # fair mode: the fit every placed challenge reaches

    def placement(self, challenge: ChallengeId) -> Placement:
        return next(p for p in self.placements if p.challenge == challenge)

    @property
    def seated(self) -> tuple[Placement, ...]:
        return tuple(p for p in self.placements if p.seated)

    @property
    def triaged(self) -> tuple[Placement, ...]:
        return tuple(p for p in self.placements if not p.seated)

    @property
    def total_fit(self) -> float:
        return float(sum(p.fit for p in self.placements if p.seated))

    @property
    def worst_fit(self) -> float | None:
        """The lowest fit among the challenges this assignment placed (kept ones aside)."""
        fits = [p.fit for p in self.placements if p.seated and not p.kept]
        return min(fits) if fits else None

    def moves(self, current: Mapping[ChallengeId, int | None]) -> tuple[Move, ...]:
        """What would change against the tables challenges have now (the board's preview)."""
        return tuple(
            Move(p.challenge, current.get(p.challenge), p.table)
            for p in self.placements
            if current.get(p.challenge) != p.table
        )


class Assigner:
    """Exact global assignment of a round (see the module docstring).

    `fair=True` first raises the worst-off participant's fit as far as it goes without seating
    fewer people (bisection over the fits, a maximum flow per step), then maximises the total
    among the seatings where everyone placed reaches that fit. `min_fit`: a table whose topic fit
    for a challenge is below it is not offered to that challenge.
    """

    def __init__(
        self,
        fair: bool = False,
        language_bonus: float = LANGUAGE_BONUS,
        load_weight: float = LOAD_WEIGHT,
        alternates: int = ALTERNATES,
        min_fit: float = 0.0,
    ):
        self.fair = fair
        self.language_bonus = language_bonus
        self.load_weight = load_weight
        self.alternates = alternates
        self.min_fit = min_fit

    def assign(self, problem: AssignmentProblem) -> Assignment:
        """Place every challenge of the problem, or say why not. Pure and deterministic."""
        model = _Round(problem, self.language_bonus, self.load_weight, self.min_fit)
        chosen, threshold = self._solve(model)
        return model.result(chosen, self.alternates, threshold, exact=True)

    def _solve(self, model: _Round) -> tuple[np.ndarray, float | None]:
        """The expert index for each free challenge (-1: triage), and the fair mode's threshold."""
        chosen = np.full(len(model.free), -1)
        arcs = model.open_arcs()
        rows = np.flatnonzero(arcs.any(axis=1))
        if not len(rows):
            return chosen, None
        arcs = arcs[rows]
        fit = model.fit[model.free[rows]]
        slots = model.slots(arcs)
        seated = _max_flow(arcs, slots, model.rem_t, model.e_table)
        threshold = None
        if self.fair and seated:
            values = np.unique(fit[arcs])
            low, high = 0, len(values) - 1  # values[low] keeps everyone seatable; find the highest such
            while low < high:
                middle = (low + high + 1) // 2
                if _max_flow(arcs & (fit >= values[middle]), slots, model.rem_t, model.e_table) == seated:
                    low = middle
                else:
                    high = middle - 1
            threshold = float(values[low])
            arcs = arcs & (fit >= values[low])
            slots = model.slots(arcs)
        chosen[rows] = _solve_seats(arcs, fit, slots, seated, model)
        return chosen, threshold


class GreedyAssigner(Assigner):
    """The reference the exact assigner is measured against: each challenge in order takes its
    best free seat (the most fit, then the least-loaded expert), as live seating does."""

    def __init__(
        self,
        language_bonus: float = LANGUAGE_BONUS,
        load_weight: float = LOAD_WEIGHT,
        alternates: int = ALTERNATES,
        min_fit: float = 0.0,
    ):
        super().__init__(False, language_bonus, load_weight, alternates, min_fit)

    def assign(self, problem: AssignmentProblem) -> Assignment:
        model = _Round(problem, self.language_bonus, self.load_weight, self.min_fit)
        chosen, _ = self._solve(model)
        return model.result(chosen, self.alternates, None, exact=False)

    def _solve(self, model: _Round) -> tuple[np.ndarray, float | None]:
        left_e, left_t = model.rem_e.copy(), model.rem_t.copy()
        load = model.used_e.astype(float)
        chosen = np.full(len(model.free), -1)
        arcs = model.allowed[model.free]
        for row, index in enumerate(model.free):
            usable = np.flatnonzero(arcs[row] & (left_e > 0) & (left_t[model.e_table] > 0))
            if not len(usable):
                continue
            value = model.fit[index, usable] - self.load_weight * (load[usable] + 1) / model.cap_e[usable]
            expert = int(usable[np.argmax(value)])  # first of equals: catalog order
            chosen[row] = expert
            left_e[expert] -= 1
            left_t[model.e_table[expert]] -= 1
            load[expert] += 1
        return chosen, None


def _max_flow(arcs: np.ndarray, slots: np.ndarray, rem_t: np.ndarray, e_table: np.ndarray) -> int:
    """How many of the rows can be seated at once: source -> challenge -> expert -> table -> sink."""
    n_rows, n_experts = arcs.shape
    n = n_rows + n_experts + len(rem_t) + 2
    sink = n - 1
    ci, ei = np.nonzero(arcs)
    starts = np.unique(ci)
    experts = np.flatnonzero(slots > 0)
    tables = np.flatnonzero(rem_t > 0)
    tails = np.concatenate([np.zeros(len(starts), int), 1 + ci, 1 + n_rows + experts, 1 + n_rows + n_experts + tables])
    heads = np.concatenate(
        [1 + starts, 1 + n_rows + ei, 1 + n_rows + n_experts + e_table[experts], np.full(len(tables), sink)]
    )
    capacity = np.concatenate([np.ones(len(starts)), np.ones(len(ci)), slots[experts], rem_t[tables]])
    # The edges come grouped by tail already, so the CSR arrays are built directly (scipy's
    # general constructor costs more than the flow itself on a small round).
    indptr = np.concatenate([[0], np.cumsum(np.bincount(tails, minlength=n))])
    graph = sp.csr_array((capacity.astype(np.int32), heads.astype(np.int32), indptr.astype(np.int32)), shape=(n, n))
    return int(maximum_flow(graph, 0, sink).flow_value)


def _solve_seats(arcs: np.ndarray, fit: np.ndarray, slots: np.ndarray, seated: int, model: _Round) -> np.ndarray:
    """Expert per row (-1: triage) maximising fit minus load with exactly `seated` rows placed."""
    n_rows = arcs.shape[0]
    chosen = np.full(n_rows, -1)
    if not seated:
        return chosen
    experts = np.flatnonzero(slots > 0)
    slot_expert = np.repeat(experts, slots[experts])
    first = np.repeat(np.cumsum(slots[experts]) - slots[experts], slots[experts])
    slot_rank = np.arange(len(slot_expert)) - first + 1  # 1 for an expert's first new seat
    penalty = model.load_weight * (model.used_e[slot_expert] + slot_rank) / model.cap_e[slot_expert]
    slot_table = model.e_table[slot_expert]
    # Blockers: a table's experts may offer more seats than the table holds; the surplus is filled.
    per_table = np.bincount(slot_table, minlength=len(model.rem_t))
    surplus = np.maximum(per_table - model.rem_t, 0)
    blocker_table = np.repeat(np.arange(len(model.rem_t)), surplus)
    n_slots, n_triage = len(slot_expert), n_rows - seated
    cost = np.full((n_rows + len(blocker_table), n_slots + n_triage), np.inf)
    cost[:n_rows, :n_slots] = np.where(arcs, -fit, np.inf)[:, slot_expert] + penalty
    cost[:n_rows, n_slots:] = 0.0
    cost[n_rows:, :n_slots] = np.where(slot_table == blocker_table[:, None], 0.0, np.inf)
    rows, columns = linear_sum_assignment(cost)
    real = (rows < n_rows) & (columns < n_slots)
    chosen[rows[real]] = slot_expert[columns[real]]
    return chosen


class _Round:
    """The problem as arrays: challenges x experts fits and masks, remaining capacities."""

    def __init__(self, problem: AssignmentProblem, language_bonus: float, load_weight: float, min_fit: float):
        catalog = problem.catalog
        found = catalog.problems()
        if found:
            raise ValueError("; ".join(found))
        challenges = problem.challenges
        ids = [c.id for c in challenges]
        twice = [i for i, n in Counter(ids).items() if n > 1]
        if twice:
            raise ValueError(f"Challenge {twice[0]} is listed twice.")
        unknown = [i for i in problem.kept if i not in set(ids)]
        if unknown:
            raise ValueError(f"Challenge {unknown[0]} is kept at a table but is not in the round.")
        self.problem, self.catalog, self.load_weight, self.min_fit = problem, catalog, load_weight, min_fit
        self.tables = catalog.tables
        table_index = {table.number: i for i, table in enumerate(self.tables)}
        for cid, (number, _) in problem.kept.items():
            if number not in table_index:
                raise ValueError(f"Challenge {cid} is kept at table {number}, which does not exist.")
        self.experts: tuple[Expert, ...] = tuple(
            e for e in catalog.experts if e.present and e.table is not None and e.table in table_index
        )
        expert_index = {e.id: i for i, e in enumerate(self.experts)}
        self.e_table = np.array([table_index[e.table] for e in self.experts], dtype=int)
        self.hosts = [np.flatnonzero(self.e_table == t).tolist() for t in range(len(self.tables))]
        self.names = {language.code: language.name for language in catalog.languages}
        default = catalog.language_codes[:1]
        self.spoken = [tuple(dict.fromkeys(c.languages)) or default for c in challenges]
        n_c, n_e, n_t = len(challenges), len(self.experts), len(self.tables)

        # Conversation language: the participant's most preferred language the expert speaks.
        codes = list(dict.fromkeys([code for spoken in self.spoken for code in spoken]))
        code_index = {code: i for i, code in enumerate(codes)}
        speaks = np.zeros((n_e, len(codes)), dtype=bool)
        for e, expert in enumerate(self.experts):
            for code in expert.languages:
                if code in code_index:
                    speaks[e, code_index[code]] = True
        rank_of = np.full((n_c, len(codes)), np.inf)
        for c, spoken in enumerate(self.spoken):
            for rank, code in enumerate(spoken):
                rank_of[c, code_index[code]] = rank
        rank = np.full((n_c, n_e), np.inf)
        for language in range(len(codes)):
            rank = np.minimum(rank, np.where(speaks[:, language], rank_of[:, language : language + 1], np.inf))
        self.rank = np.where(np.isfinite(rank), rank, -1).astype(int)  # -1: no shared language
        shared = self.rank >= 0

        # Topic fit per table, then per expert (an expert's fit is their table's).
        self.topic_fit = np.zeros((n_c, n_t))
        topic_ids = list(dict.fromkeys(table.topic for table in self.tables))
        table_topic = np.array([topic_ids.index(table.topic) for table in self.tables], dtype=int)
        by_topic = np.zeros((n_c, len(topic_ids)))
        for c, challenge in enumerate(challenges):
            if challenge.tables is not None:
                self.topic_fit[c] = [float(challenge.tables.get(table.number, 0.0)) for table in self.tables]
            else:
                by_topic[c] = [float(challenge.topics.get(topic, 0.0)) for topic in topic_ids]
                self.topic_fit[c] = by_topic[c, table_topic]
        bonus = np.where(shared, language_bonus * 0.5 ** np.maximum(self.rank, 0), 0.0)
        self.fit = self.topic_fit[:, self.e_table] + bonus

        self.sat = np.zeros((n_c, n_t), dtype=bool)
        for c, challenge in enumerate(challenges):
            for number in challenge.sat_at:
                if number in table_index:
                    self.sat[c, table_index[number]] = True
        self.closed = np.array([table.number in problem.occupancy.closed for table in self.tables], dtype=bool)
        self.shared = shared
        self.reachable = shared & ~self.sat[:, self.e_table] & ~self.closed[self.e_table]
        self.allowed = self.reachable & (self.topic_fit[:, self.e_table] >= min_fit)

        # Seats already taken: by people outside the problem, then by kept challenges.
        self.used_t = np.array([problem.occupancy.tables.get(t.number, 0) for t in self.tables], dtype=int)
        self.used_e = np.array([problem.occupancy.experts.get(e.id, 0) for e in self.experts], dtype=int)
        self.cap_t = np.array([t.capacity for t in self.tables], dtype=int)
        self.cap_e = np.array([max(e.capacity, 0) for e in self.experts], dtype=int)
        self.notes: list[str] = []
        self.kept: dict[int, tuple[int, int | None, str | None]] = {}  # challenge -> table, expert, language
        position = {cid: c for c, cid in enumerate(ids)}
        for cid, (number, expert_id) in problem.kept.items():
            c, t = position[cid], table_index[number]
            e = self._kept_expert(c, t, number, expert_id, expert_index)
            language = self.spoken[c][self.rank[c, e]] if e is not None and self.rank[c, e] >= 0 else None
            self.kept[c] = (t, e, language)
            self.used_t[t] += 1
            if e is not None:
                self.used_e[e] += 1
            if language is None:
                self.notes.append(
                    f"Challenge {cid} is kept at table {number}, where no expert present speaks "
                    f"{self.words(self.spoken[c])}."
                )
        for t, table in enumerate(self.tables):
            if self.used_t[t] > table.capacity:
                self.notes.append(
                    f"Table {table.number} holds {self.used_t[t]} people for {table.capacity} seats: "
                    f"unlock someone there or raise its capacity."
                )
        for e, expert in enumerate(self.experts):
            if self.used_e[e] > expert.capacity:
                self.notes.append(
                    f"{expert.name} has {self.used_e[e]} participants for a capacity of {expert.capacity} per round."
                )
        self.rem_t = np.maximum(self.cap_t - self.used_t, 0)
        self.rem_e = np.maximum(self.cap_e - self.used_e, 0)
        self.cap_e = np.maximum(self.cap_e, 1)  # only divides the load term from here on
        self.free = np.array([c for c in range(n_c) if c not in self.kept], dtype=int)

    def _kept_expert(
        self, c: int, t: int, number: int, expert_id: str | None, expert_index: Mapping[str, int]
    ) -> int | None:
        """The expert a kept seat is with: the one named, else the host speaking the best language."""
        if expert_id is not None:
            e = expert_index.get(expert_id)
            if e is not None and self.e_table[e] == t:
                return e
            cid = self.problem.challenges[c].id
            self.notes.append(f"Challenge {cid} is kept with expert '{expert_id}', who is not at table {number} now.")
            return None
        hosts = self.hosts[t]
        if not hosts:
            return None
        return min(hosts, key=lambda h: (self.rank[c, h] < 0, self.rank[c, h], self.used_e[h] / max(self.cap_e[h], 1)))

    # -- helpers for the solvers -------------------------------------------------------------
    def open_arcs(self) -> np.ndarray:
        """Free challenges x experts: allowed, and the expert and their table have a seat left."""
        return self.allowed[self.free] & (self.rem_e > 0) & (self.rem_t[self.e_table] > 0)

    def slots(self, arcs: np.ndarray) -> np.ndarray:
        """New seats worth offering per expert: never more than the table holds or than can use them."""
        return np.minimum(np.minimum(self.rem_e, self.rem_t[self.e_table]), arcs.sum(axis=0))

    def words(self, codes: Sequence[str]) -> str:
        names = [self.names.get(code, code) for code in codes]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

    # -- the outcome -------------------------------------------------------------------------
    def result(self, chosen: np.ndarray, alternates: int, threshold: float | None, exact: bool) -> Assignment:
        new_e = np.bincount(chosen[chosen >= 0], minlength=len(self.experts))
        new_t = np.bincount(self.e_table[chosen[chosen >= 0]], minlength=len(self.tables))
        left_e, left_t = self.rem_e - new_e, self.rem_t - new_t
        expert_of = dict(zip(self.free.tolist(), chosen.tolist(), strict=True))
        objective = 0.0
        for c, e in expert_of.items():
            if e >= 0:
                objective += float(self.fit[c, e])
        for e in np.flatnonzero(new_e):
            seats = self.used_e[e] + np.arange(1, new_e[e] + 1)
            objective -= float(self.load_weight * seats.sum() / self.cap_e[e])
        options = self._alternates(left_e, left_t, alternates, expert_of)
        placements = []
        waiting = []
        for c, challenge in enumerate(self.problem.challenges):
            if c in self.kept:
                t, e, language = self.kept[c]
                fit = self.topic_fit[c, t] + (self.fit[c, e] - self.topic_fit[c, t] if language else 0.0)
                placements.append(
                    Placement(
                        challenge.id,
                        self.tables[t].number,
                        self.experts[e].id if e is not None else None,
                        language,
                        float(fit),
                        options[c],
                        kept=True,
                    )  # fmt: skip
                )
                continue
            e = expert_of[c]
            if e >= 0:
                placements.append(
                    Placement(
                        challenge.id,
                        self.tables[self.e_table[e]].number,
                        self.experts[e].id,
                        self.spoken[c][self.rank[c, e]],
                        float(self.fit[c, e]),
                        options[c],
                    )  # fmt: skip
                )
                continue
            code, words = self._triage(c, exact)
            if code == TRIAGE_TABLES_FULL:
                waiting.append(c)
            placements.append(Placement(challenge.id, None, None, None, 0.0, options[c], False, code, words))
        diagnoses = tuple(self.notes) + tuple(self._diagnose(waiting, expert_of, left_e, left_t))
        return Assignment(tuple(placements), objective, diagnoses, threshold)

    def _alternates(
        self, left_e: np.ndarray, left_t: np.ndarray, count: int, expert_of: Mapping[int, int]
    ) -> list[tuple[Alternate, ...]]:
        """Up to `count` other tables per challenge, best fit first, where it could legally sit."""
        n_c, n_t = len(self.problem.challenges), len(self.tables)
        if not count or not n_t or not len(self.experts):
            return [()] * n_c
        best = np.full((n_c, n_t), -np.inf)
        expert = np.zeros((n_c, n_t), dtype=int)  # the best expert of each table for each challenge
        free_seats = np.zeros((n_c, n_t), dtype=int)
        for t, hosts in enumerate(self.hosts):
            if not hosts:
                continue
            hosts = np.array(hosts)
            fits = np.where(self.allowed[:, hosts], self.fit[:, hosts], -np.inf)
            best[:, t] = fits.max(axis=1)
            equal = fits == best[:, t : t + 1]
            expert[:, t] = hosts[np.argmax(equal * (1 + (left_e[hosts] > 0)), axis=1)]  # room first, then order
            free_seats[:, t] = np.minimum(self.allowed[:, hosts] @ np.maximum(left_e[hosts], 0), left_t[t])
        for c in range(n_c):
            here = self.kept[c][0] if c in self.kept else (self.e_table[expert_of[c]] if expert_of[c] >= 0 else None)
            if here is not None:
                best[c, here] = -np.inf
        order = np.argsort(-best, axis=1, kind="stable")[:, :count]
        found = []
        for c in range(n_c):
            row = []
            for t in order[c]:
                if best[c, t] == -np.inf:
                    break
                e = expert[c, t]
                language = self.spoken[c][self.rank[c, e]]
                row.append(Alternate(self.tables[t].number, self.experts[e].id, language, float(best[c, t]),
                                     int(max(free_seats[c, t], 0))))  # fmt: skip
            found.append(tuple(row))
        return found

    def _tables_words(self, ts: Sequence[int]) -> str:
        """'table 5', 'tables 5 and 8', or, past six, 'tables 1, 2, 3, 4, 5 and 55 others'."""
        listed = [str(n) for n in sorted(self.tables[t].number for t in set(ts))]
        if len(listed) > 6:
            listed = [*listed[:5], f"{len(listed) - 5} others"]
        joined = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        return ("table " if len(listed) == 1 else "tables ") + joined

    def _triage(self, c: int, exact: bool) -> tuple[str, str]:
        """Why challenge c has no seat: a code for the store and a sentence for a facilitator."""
        spoken = self.spoken[c]
        if not spoken:
            return TRIAGE_NO_SHARED_LANGUAGE, "No language was given for this participant."
        if not len(self.experts):
            return TRIAGE_NO_TABLE, "No table has an expert present."
        if not self.shared[c].any():
            return TRIAGE_NO_SHARED_LANGUAGE, f"No expert present speaks {self.words(spoken)}."
        speaking = sorted({spoken[r] for r in self.rank[c][self.shared[c]]}, key=spoken.index)
        languages = self.words(speaking)
        if not self.reachable[c].any():
            tables = self.e_table[self.shared[c]]
            sat = [t for t in tables if self.sat[c, t]]
            closed = [t for t in tables if self.closed[t] and not self.sat[c, t]]
            where = f"every table where an expert speaks {languages}"
            every = "E" + where[1:]
            if not closed:
                return TRIAGE_NO_TABLE, f"Already sat at {where} ({self._tables_words(sat)})."
            if not sat:
                return TRIAGE_NO_TABLE, f"{every} is closed to new seats ({self._tables_words(closed)})."
            return TRIAGE_NO_TABLE, (
                f"{every} is closed ({self._tables_words(closed)}) or already sat at ({self._tables_words(sat)})."
            )
        if not self.allowed[c].any():
            options = np.flatnonzero(self.reachable[c])
            best = max(options, key=lambda e: self.topic_fit[c, self.e_table[e]])
            return TRIAGE_LOW_CONFIDENCE, (
                f"No table where an expert speaks {languages} fits this challenge well enough "
                f"(best: table {self.tables[self.e_table[best]].number} at "
                f"{self.topic_fit[c, self.e_table[best]]:.2f}, below {self.min_fit:.2f})."
            )
        options = np.flatnonzero(self.allowed[c])
        tables = self._tables_words(self.e_table[options])
        if not ((self.rem_e[options] > 0) & (self.rem_t[self.e_table[options]] > 0)).any():
            full = "is full" if len(set(self.e_table[options])) == 1 else "are full"
            return (
                TRIAGE_TABLES_FULL,
                f"No table with a free seat has an expert who speaks {languages} ({tables} {full}).",
            )
        who = "participants with no other seat" if exact else "others"
        return TRIAGE_TABLES_FULL, f"The seats where an expert speaks {languages} ({tables}) went to {who}."

    def _diagnose(
        self, waiting: Sequence[int], expert_of: Mapping[int, int], left_e: np.ndarray, left_t: np.ndarray
    ) -> list[str]:
        """For each group of participants left without a seat, the knob that would seat them.

        A group is everyone competing for the same seats: from a waiting challenge, the experts it
        could sit with, the people placed there who could move, the experts those could sit with,
        and so on (the residual graph of the flow). When the assignment seats as many as possible,
        every seat a group can reach is taken, so only more seats there or another expert helps.
        """
        if not waiting:
            return []
        n_e = len(self.experts)
        moves = np.zeros((n_e, n_e), dtype=bool)  # e -> e2: someone placed with e could sit with e2
        placed = np.zeros(n_e, dtype=int)
        for c, e in expert_of.items():
            if e >= 0:
                moves[e] |= self.allowed[c]
                placed[e] += 1
        parent = list(range(len(waiting)))

        def find(g: int) -> int:
            while parent[g] != g:
                parent[g] = parent[parent[g]]
                g = parent[g]
            return g

        label = np.full(n_e, -1)
        movable = False  # greedy only: someone waits although moving others would free a seat
        for g, c in enumerate(waiting):
            stack = np.flatnonzero(self.allowed[c]).tolist()
            while stack:
                e = stack.pop()
                if label[e] >= 0:
                    parent[find(int(label[e]))] = find(g)
                    continue
                label[e] = g
                stack += np.flatnonzero(moves[e] & (label < 0)).tolist()
                t = self.e_table[e]
                if left_e[e] > 0:  # room with this expert: the table's other placed people could move
                    movable |= bool(left_t[t] > 0)
                    stack += np.flatnonzero((self.e_table == t) & (placed > 0) & (label < 0)).tolist()
        groups: dict[int, tuple[list[int], list[int]]] = {}
        for g, c in enumerate(waiting):
            groups.setdefault(find(g), ([], []))[1].append(c)
        for e in range(n_e):
            if label[e] >= 0:
                groups[find(int(label[e]))][0].append(e)
        messages = [self._shortage(experts, people, expert_of, left_e, left_t) for experts, people in groups.values()]
        if movable:
            messages.append("Some of those waiting could be seated by moving others: run the exact assignment.")
        return messages

    def _shortage(
        self,
        experts: list[int],
        people: list[int],
        expert_of: Mapping[int, int],
        left_e: np.ndarray,
        left_t: np.ndarray,
    ) -> str:
        """One group's shortage in a chair's words: who waits, how many seats, what to change."""
        group = set(experts)
        sitting = [c for c, e in expert_of.items() if e in group]
        everyone = sitting + people
        counts = Counter(code for c in people for code in self.spoken[c])
        language = max(counts, key=counts.__getitem__)  # the most common; first seen among equals
        name = self.names.get(language, language)
        article = "an" if name[:1].lower() in "aeiou" else "a"
        knobs = [f"add {article} {name}-speaking expert"]
        # Full tables this group could fill through an expert with room; then full experts
        # (with their table, when that is full too). A long list is summed up, not recited.
        reached = sorted({int(self.e_table[e]) for e in experts if left_e[e] > 0 and left_t[self.e_table[e]] <= 0})
        full = [e for e in experts if left_e[e] <= 0]
        if len(reached) > 3:
            knobs.append(f"raise the capacity of {self._tables_words(reached)}")
        else:
            knobs += [f"raise table {self.tables[t].number}'s capacity ({self.tables[t].capacity})" for t in reached]
        if len(full) > 3:
            knobs.append(f"raise the capacity per round of the {len(full)} experts who are full")
        else:
            for e in full:
                expert, t = self.experts[e], int(self.e_table[e])
                knob = f"raise {expert.name}'s capacity per round ({expert.capacity})"
                if left_t[t] <= 0 and t not in reached:
                    knob += f" and table {self.tables[t].number}'s ({self.tables[t].capacity})"
                knobs.append(knob)
        remedy = knobs[0] if len(knobs) == 1 else ", ".join(knobs[:-1]) + " or " + knobs[-1]
        seats = len(sitting)
        plural = "" if seats == 1 else "s"
        if all(language in self.spoken[c] for c in everyone):
            head = f"{len(everyone)} {name} speakers, {seats} {name}-speaking seat{plural} left"
        else:
            where = self._tables_words([self.e_table[e] for e in experts])
            head = (
                f"{len(everyone)} participants for {seats} seat{plural} left at {where} "
                f"({len(people)} of them waiting, speaking {name})"
            )
        return f"{head}: {remedy}."
