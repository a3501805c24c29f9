"""The global assignment: exact against a brute force, never breaking a rule, and saying why in words."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from matching.assignment import (
    LANGUAGE_BONUS,
    LOAD_WEIGHT,
    Assigner,
    AssignmentProblem,
    Challenge,
    GreedyAssigner,
)
from matching.catalog import Catalog, Expert, Language, Table, Topic
from matching.router import (
    TRIAGE_LOW_CONFIDENCE,
    TRIAGE_NO_SHARED_LANGUAGE,
    TRIAGE_NO_TABLE,
    TRIAGE_TABLES_FULL,
    Occupancy,
    Route,
)

LANGUAGES = (
    Language("en", "English", "English"),
    Language("fr", "French", "Français"),
    Language("ar", "Arabic", "العربية", "rtl"),
    Language("he", "Hebrew", "עברית", "rtl"),
)
TOPICS = tuple(Topic(t, t.capitalize()) for t in ("grants", "outreach", "data"))
CODES = tuple(language.code for language in LANGUAGES)
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(
    SETTINGS, max_examples=200
)  # for the cheap checks: rare shapes (a table fuller than its experts) show up


# -- random small rounds ---------------------------------------------------------------------------
@st.composite
def rounds(draw, max_challenges: int = 6) -> AssignmentProblem:
    n_tables = draw(st.integers(1, 3))  # few tables, several experts each: table and expert limits meet
    tables = tuple(
        Table(number=n + 1, topic=draw(st.sampled_from([t.id for t in TOPICS])), capacity=draw(st.integers(1, 3)))
        for n in range(n_tables)
    )
    experts = tuple(
        Expert(
            id=f"x{i}",
            name=f"Expert {i}",
            languages=tuple(draw(st.lists(st.sampled_from(CODES[:3]), min_size=1, max_size=3, unique=True))),
            capacity=draw(st.integers(0, 3)),
            present=draw(st.booleans()) or draw(st.booleans()),  # three in four are present
            table=draw(st.integers(1, n_tables)),
        )
        for i in range(draw(st.integers(1, 5)))
    )
    catalog = Catalog(languages=LANGUAGES, topics=TOPICS, experts=experts, tables=tables)
    score = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9])  # few values: ties are where solvers slip
    challenges = []
    for i in range(draw(st.integers(1, max_challenges))):
        if draw(st.booleans()):
            fits = {"topics": {t.id: draw(score) for t in TOPICS}}
        else:
            fits = {"tables": {t.number: draw(score) for t in tables}}
        challenges.append(
            Challenge(
                id=f"c{i}",
                languages=tuple(draw(st.lists(st.sampled_from(CODES), max_size=3, unique=True))),
                sat_at=frozenset(draw(st.sets(st.integers(1, n_tables), max_size=2))),
                **fits,
            )
        )
    kept = {}
    for challenge in challenges:
        hosts = [e for e in experts if e.present]
        if hosts and draw(st.integers(0, 4)) == 0:
            host = draw(st.sampled_from(hosts))
            kept[challenge.id] = (host.table, host.id)
    occupancy = Occupancy.of(
        tables={t.number: draw(st.integers(0, 1)) for t in tables},
        experts={e.id: draw(st.integers(0, 1)) for e in experts},
        closed=draw(st.sets(st.integers(1, n_tables), max_size=1)),
    )
    return AssignmentProblem(tuple(challenges), catalog, kept, occupancy)


# -- the reference: every feasible assignment, written from the rules, not from the solver ---------
def spoken(problem: AssignmentProblem, challenge: Challenge) -> tuple[str, ...]:
    return tuple(dict.fromkeys(challenge.languages)) or problem.catalog.language_codes[:1]


def topic_fit(challenge: Challenge, table: Table) -> float:
    if challenge.tables is not None:
        return challenge.tables.get(table.number, 0.0)
    return challenge.topics.get(table.topic, 0.0)


def options(problem: AssignmentProblem, challenge: Challenge, min_fit: float = 0.0) -> list[tuple[Expert, float]]:
    """(expert, fit) for every seat this challenge may legally take, capacity aside."""
    tables = {t.number: t for t in problem.catalog.tables}
    found = []
    for expert in problem.catalog.experts:
        if not expert.present or expert.table in challenge.sat_at or expert.table in problem.occupancy.closed:
            continue
        shared = [rank for rank, code in enumerate(spoken(problem, challenge)) if code in expert.languages]
        table = tables[expert.table]
        if shared and topic_fit(challenge, table) >= min_fit:
            found.append((expert, topic_fit(challenge, table) + LANGUAGE_BONUS * 0.5 ** shared[0]))
    return found


def used(problem: AssignmentProblem) -> tuple[dict[int, int], dict[str, int]]:
    tables = {t.number: problem.occupancy.tables.get(t.number, 0) for t in problem.catalog.tables}
    experts = {e.id: problem.occupancy.experts.get(e.id, 0) for e in problem.catalog.experts}
    for table, expert in problem.kept.values():
        tables[table] += 1
        experts[expert] += 1
    return tables, experts


def brute_force(problem: AssignmentProblem, fair: bool = False) -> tuple[int, float, float | None]:
    """(seated, objective, worst fit) of the best assignment: most seated, then (fair: best worst
    fit, then) highest total fit minus the load term, by trying every feasible assignment."""
    free = [c for c in problem.challenges if c.id not in problem.kept]
    taken_t, taken_e = used(problem)
    room_t = {t.number: max(t.capacity - taken_t[t.number], 0) for t in problem.catalog.tables}
    room_e = {e.id: max(e.capacity - taken_e[e.id], 0) for e in problem.catalog.experts}
    experts = {e.id: e for e in problem.catalog.experts}
    best = None
    for choice in itertools.product(*[[None, *options(problem, c)] for c in free]):
        seats = [seat for seat in choice if seat is not None]
        per_e = {e: sum(1 for x, _ in seats if x.id == e) for e in room_e}
        per_t = {t: sum(1 for x, _ in seats if x.table == t) for t in room_t}
        if any(per_e[e] > room_e[e] for e in per_e) or any(per_t[t] > room_t[t] for t in per_t):
            continue
        load = sum(
            LOAD_WEIGHT * sum(taken_e[e] + j for j in range(1, n + 1)) / max(experts[e].capacity, 1)
            for e, n in per_e.items()
        )
        objective = sum(fit for _, fit in seats) - load
        worst = min((fit for _, fit in seats), default=math.inf)
        key = (len(seats), worst if fair else 0.0, objective)
        if best is None or key > best[0] and not _close(key, best[0]):
            best = (key, worst)
    (seated, _, objective), worst = best
    return seated, objective, (worst if seated else None)


def _close(a: tuple, b: tuple) -> bool:
    return all(math.isclose(x, y, abs_tol=1e-9) for x, y in zip(a, b, strict=True))


def check_rules(problem: AssignmentProblem, assignment) -> None:
    """Every hard constraint, checked on the outcome."""
    catalog = problem.catalog
    tables = {t.number: t for t in catalog.tables}
    experts = {e.id: e for e in catalog.experts}
    by_id = {c.id: c for c in problem.challenges}
    assert [p.challenge for p in assignment.placements] == list(by_id)
    taken_t, taken_e = used(problem)
    new_t = {n: 0 for n in tables}
    new_e = {e: 0 for e in experts}
    for p in assignment.placements:
        challenge = by_id[p.challenge]
        if p.challenge in problem.kept:
            assert p.kept and (p.table, p.expert) == problem.kept[p.challenge]
            continue
        assert not p.kept
        if not p.seated:
            assert p.triage_reason and p.reason.endswith(".") and p.fit == 0.0
            continue
        expert = experts[p.expert]
        assert expert.present and expert.table == p.table
        assert p.table not in challenge.sat_at and p.table not in problem.occupancy.closed
        assert p.language in expert.languages and p.language in spoken(problem, challenge)
        assert p.language == next(code for code in spoken(problem, challenge) if code in expert.languages)
        new_t[p.table] += 1
        new_e[p.expert] += 1
    for number, table in tables.items():
        assert new_t[number] <= max(table.capacity - taken_t[number], 0)
    for expert_id, expert in experts.items():
        assert new_e[expert_id] <= max(expert.capacity - taken_e[expert_id], 0)


# -- properties ------------------------------------------------------------------------------------
@SETTINGS
@given(rounds())
def test_the_total_equals_the_brute_force_optimum(problem):
    assignment = Assigner().assign(problem)
    seated, objective, _ = brute_force(problem)
    assert len([p for p in assignment.seated if not p.kept]) == seated
    assert assignment.objective == pytest.approx(objective, abs=1e-9)


@SETTINGS
@given(rounds())
def test_fair_mode_reaches_the_best_worst_fit_and_never_lowers_it(problem):
    plain = Assigner().assign(problem)
    fair = Assigner(fair=True).assign(problem)
    seated, objective, worst = brute_force(problem, fair=True)
    assert len(fair.seated) == len(plain.seated)  # fairness never costs a seat
    assert fair.worst_fit == pytest.approx(worst, abs=1e-12)
    assert fair.objective == pytest.approx(objective, abs=1e-9)
    if plain.worst_fit is not None:
        assert fair.worst_fit >= plain.worst_fit
        assert fair.threshold == pytest.approx(fair.worst_fit)


@MANY
@given(rounds())
def test_no_rule_is_ever_broken(problem):
    for assigner in (Assigner(), Assigner(fair=True), GreedyAssigner(), Assigner(min_fit=0.3)):
        check_rules(problem, assigner.assign(problem))


@SETTINGS
@given(rounds())
def test_the_same_round_gives_the_same_assignment(problem):
    assert Assigner().assign(problem) == Assigner().assign(problem)
    assert Assigner(fair=True).assign(problem) == Assigner(fair=True).assign(problem)


@SETTINGS
@given(rounds())
def test_greedy_never_beats_the_exact_assignment(problem):
    exact, greedy = Assigner().assign(problem), GreedyAssigner().assign(problem)
    assert len(greedy.seated) <= len(exact.seated)
    if len(greedy.seated) == len(exact.seated):
        assert greedy.objective <= exact.objective + 1e-9


@SETTINGS
@given(rounds(), st.sampled_from([0.2, 0.5]))
def test_min_fit_offers_no_table_below_it(problem, min_fit):
    assignment = Assigner(min_fit=min_fit).assign(problem)
    check_rules(problem, assignment)
    tables = {t.number: t for t in problem.catalog.tables}
    by_id = {c.id: c for c in problem.challenges}
    for p in assignment.placements:
        if p.seated and not p.kept:
            assert topic_fit(by_id[p.challenge], tables[p.table]) >= min_fit
        for alternate in p.alternates:
            assert topic_fit(by_id[p.challenge], tables[alternate.table]) >= min_fit


@SETTINGS
@given(rounds())
def test_alternates_are_other_legal_tables_best_first(problem):
    assignment = Assigner().assign(problem)
    by_id = {c.id: c for c in problem.challenges}
    for p in assignment.placements:
        legal = {}
        for expert, fit in options(problem, by_id[p.challenge]):
            legal[expert.table] = max(legal.get(expert.table, -1.0), fit)
        legal.pop(p.table, None)
        fits = [a.fit for a in p.alternates]
        assert fits == sorted(fits, reverse=True)
        assert len(p.alternates) == min(3, len(legal))
        for alternate in p.alternates:
            assert alternate.fit == pytest.approx(legal[alternate.table]) and alternate.free_seats >= 0
        assert sorted(legal.values(), reverse=True)[: len(fits)] == pytest.approx(fits)


def test_a_larger_round_matches_the_linear_programme():
    """40 challenges, 6 tables: the assigner's total equals the LP optimum (integral here)."""
    rng = np.random.default_rng(7)
    tables = tuple(Table(n, TOPICS[n % 3].id, int(rng.integers(3, 8))) for n in range(1, 7))
    experts = tuple(
        Expert(f"x{i}", f"Expert {i}", languages=tuple(rng.choice(CODES[:3], int(rng.integers(1, 3)), replace=False)),
               capacity=int(rng.integers(2, 6)), table=int(i % 6 + 1))
        for i in range(10)
    )  # fmt: skip
    catalog = Catalog(LANGUAGES, TOPICS, experts, tables)
    challenges = tuple(
        Challenge(f"c{i}", tuple(rng.choice(CODES, int(rng.integers(1, 3)), replace=False)),
                  dict(zip([t.id for t in TOPICS], rng.dirichlet([0.5, 0.5, 0.5]), strict=True)))
        for i in range(40)
    )  # fmt: skip
    problem = AssignmentProblem(challenges, catalog)
    for assigner in (Assigner(load_weight=0.0), Assigner(fair=True, load_weight=0.0)):
        assignment = assigner.assign(problem)
        check_rules(problem, assignment)
        arcs = [(c, e, fit) for c, ch in enumerate(challenges) for e, fit in options(problem, ch)]
        if assigner.fair:
            arcs = [a for a in arcs if a[2] >= assignment.threshold - 1e-12]
        a_ub = np.zeros((len(challenges) + len(experts) + len(tables), len(arcs)))
        for j, (c, expert, _) in enumerate(arcs):
            a_ub[c, j] = a_ub[len(challenges) + experts.index(expert), j] = 1
            a_ub[len(challenges) + len(experts) + expert.table - 1, j] = 1
        b_ub = [1] * len(challenges) + [e.capacity for e in experts] + [t.capacity for t in tables]
        most = -linprog(-np.ones(len(arcs)), A_ub=a_ub, b_ub=b_ub, bounds=(0, 1)).fun
        best = linprog(
            -np.array([fit for *_, fit in arcs]), A_ub=a_ub, b_ub=b_ub, A_eq=np.ones((1, len(arcs))),
            b_eq=[round(most)], bounds=(0, 1),
        )  # fmt: skip
        assert len(assignment.seated) == round(most)
        assert assignment.objective == pytest.approx(-best.fun, abs=1e-7)


# -- words a facilitator reads ---------------------------------------------------------------------
def clinic(*experts: Expert, capacities: dict[int, int] | None = None) -> Catalog:
    capacities = capacities or {}
    tables = tuple(Table(n, TOPICS[(n - 1) % 3].id, capacities.get(n, 8)) for n in range(1, 9))
    return Catalog(LANGUAGES, TOPICS, experts, tables)


EMNA = Expert("emna", "Emna Mizouni", languages=("ar", "fr", "en"), capacity=6, table=7)
KEREN = Expert("keren", "Keren Shatzmann", languages=("he", "en"), capacity=6, table=5)
JACKE = Expert("jacke", "Jacke Orlowitz", languages=("en", "he"), capacity=6, table=8)
GEORGINA = Expert("georgina", "Georgina Fields", languages=("en",), capacity=6, table=1)


def test_nobody_speaks_the_language():
    problem = AssignmentProblem((Challenge("h", ("he",), {"grants": 0.9}),), clinic(EMNA, GEORGINA))
    placement = Assigner().assign(problem).placement("h")
    assert placement.triage_reason == TRIAGE_NO_SHARED_LANGUAGE
    assert placement.reason == "No expert present speaks Hebrew."


def test_no_table_with_a_free_seat_speaks_the_language():
    problem = AssignmentProblem(
        (Challenge("kept", ("en",)), Challenge("h", ("he", "ar"), {"outreach": 0.9})),
        clinic(KEREN, GEORGINA, capacities={5: 1}),
        kept={"kept": (5, "keren")},
    )
    placement = Assigner().assign(problem).placement("h")
    assert placement.triage_reason == TRIAGE_TABLES_FULL
    assert placement.reason == "No table with a free seat has an expert who speaks Hebrew (table 5 is full)."
    assert [(a.table, a.free_seats) for a in placement.alternates] == [(5, 0)]


def test_a_shortage_names_the_knob_to_turn():
    """3 Arabic speakers, and table 7 (the only Arabic-speaking expert's) has one seat left."""
    problem = AssignmentProblem(
        (Challenge("kept", ("en",)), *(Challenge(f"a{i}", ("ar",), {"grants": 0.5 + i / 10}) for i in range(3))),
        clinic(EMNA, GEORGINA, capacities={7: 2}),
        kept={"kept": (7, "emna")},
    )
    assignment = Assigner().assign(problem)
    assert [p.challenge for p in assignment.seated] == ["kept", "a2"]  # the best fit gets the seat
    assert assignment.diagnoses == (
        "3 Arabic speakers, 1 Arabic-speaking seat left: "
        "add an Arabic-speaking expert or raise table 7's capacity (2).",
    )
    for waiting in assignment.triaged:
        assert (
            waiting.reason
            == "The seats where an expert speaks Arabic (table 7) went to participants with no other seat."
        )


def test_a_full_expert_is_named_when_the_table_has_room():
    busy = Expert("emna", "Emna Mizouni", languages=("ar",), capacity=1, table=7)
    problem = AssignmentProblem(tuple(Challenge(f"a{i}", ("ar",)) for i in range(2)), clinic(busy))
    (diagnosis,) = Assigner().assign(problem).diagnoses
    assert diagnosis == (
        "2 Arabic speakers, 1 Arabic-speaking seat left: add an Arabic-speaking expert "
        "or raise Emna Mizouni's capacity per round (1)."
    )


def test_already_sat_at_every_table_in_their_language():
    problem = AssignmentProblem(
        (Challenge("h", ("he",), {"data": 0.9}, sat_at=frozenset({5, 8})),), clinic(KEREN, JACKE, GEORGINA)
    )
    placement = Assigner().assign(problem).placement("h")
    assert placement.triage_reason == TRIAGE_NO_TABLE
    assert placement.reason == "Already sat at every table where an expert speaks Hebrew (tables 5 and 8)."


def test_closed_tables_take_nobody_new():
    problem = AssignmentProblem((Challenge("h", ("he",)),), clinic(KEREN, GEORGINA), occupancy=Occupancy.of(closed=[5]))
    placement = Assigner().assign(problem).placement("h")
    assert placement.reason == "Every table where an expert speaks Hebrew is closed to new seats (table 5)."


def test_a_table_that_fits_too_little_is_not_offered():
    problem = AssignmentProblem((Challenge("h", ("he",), {"outreach": 0.1}),), clinic(JACKE))
    placement = Assigner(min_fit=0.3).assign(problem).placement("h")
    assert placement.triage_reason == TRIAGE_LOW_CONFIDENCE
    assert placement.reason == (
        "No table where an expert speaks Hebrew fits this challenge well enough (best: table 8 at 0.10, below 0.30)."
    )


def test_kept_seats_stay_even_over_capacity_and_are_reported():
    problem = AssignmentProblem(
        (Challenge("k1", ("en",)), Challenge("k2", ("en",)), Challenge("free", ("en",), {"grants": 0.9})),
        clinic(GEORGINA, capacities={1: 1}),
        kept={"k1": (1, "georgina"), "k2": (1, None)},
    )
    assignment = Assigner().assign(problem)
    assert [(p.table, p.expert, p.kept) for p in assignment.placements[:2]] == [(1, "georgina", True)] * 2
    assert not assignment.placement("free").seated
    assert "Table 1 holds 2 people for 1 seats: unlock someone there or raise its capacity." in assignment.diagnoses


def test_the_exact_assignment_seats_whom_greedy_leaves_out():
    """The bilingual participant comes first and takes the only French seat, which greedy gives away."""
    french = Expert("f", "Félix", languages=("fr",), capacity=1, table=1)
    english = Expert("e", "Ellen", languages=("en",), capacity=1, table=2)
    problem = AssignmentProblem(
        (Challenge("both", ("en", "fr"), {"grants": 0.9, "outreach": 0.8}), Challenge("fr", ("fr",), {"grants": 0.2})),
        clinic(french, english),
    )
    greedy, exact = GreedyAssigner().assign(problem), Assigner().assign(problem)
    assert [p.table for p in greedy.placements] == [1, None]
    assert [p.table for p in exact.placements] == [2, 1]
    assert greedy.placement("fr").reason == "The seats where an expert speaks French (table 1) went to others."
    assert "run the exact assignment" in greedy.diagnoses[-1]
    assert exact.moves({"both": 1, "fr": None}) == (
        type(exact.moves({})[0])("both", 1, 2),
        type(exact.moves({})[0])("fr", None, 1),
    )


def test_fair_mode_lifts_the_worst_off():
    """Plain: one great seat and one poor one; fair: two good ones (less total, better worst)."""
    a = Expert("a", "A", languages=("en",), capacity=1, table=1)
    b = Expert("b", "B", languages=("en",), capacity=1, table=2)
    problem = AssignmentProblem(
        (Challenge("x", ("en",), tables={1: 0.9, 2: 0.3}), Challenge("y", ("en",), tables={1: 0.4, 2: 0.1})),
        clinic(a, b),
    )
    plain, fair = Assigner().assign(problem), Assigner(fair=True).assign(problem)
    assert [p.table for p in plain.placements] == [1, 2]
    assert [p.table for p in fair.placements] == [2, 1]
    assert fair.worst_fit > plain.worst_fit and fair.total_fit < plain.total_fit


def test_the_preferred_language_and_the_lighter_expert_win_ties():
    french = Expert("f", "Félix", languages=("fr", "en"), capacity=4, table=1)
    english = Expert("e", "Ellen", languages=("en",), capacity=4, table=1)
    problem = AssignmentProblem(
        (Challenge("fr-first", ("fr", "en"), {"grants": 0.5}), Challenge("en", ("en",), {"grants": 0.5})),
        clinic(french, english),
        occupancy=Occupancy.of(experts={"f": 2}),
    )
    assignment = Assigner().assign(problem)
    assert (assignment.placement("fr-first").expert, assignment.placement("fr-first").language) == ("f", "fr")
    assert assignment.placement("en").expert == "e"  # Félix already has two people
    assert assignment.placement("fr-first").fit == pytest.approx(0.5 + LANGUAGE_BONUS)


def test_challenge_from_a_route():
    route = Route("grants", 0.7, "high", (("managing", 0.2), ("exit", 0.05)), (), "fr", spoken=("fr", "en"))
    challenge = Challenge.from_route(12, route, sat_at=[3])
    assert challenge.topics == {"grants": 0.7, "managing": 0.2, "exit": 0.05}
    assert challenge.languages == ("fr", "en") and challenge.sat_at == {3}


@pytest.mark.parametrize(
    "kept, challenges, message",
    [
        ({}, (Challenge("a"), Challenge("a")), "Challenge a is listed twice."),
        ({"b": (1, None)}, (Challenge("a"),), "Challenge b is kept at a table but is not in the round."),
        ({"a": (99, None)}, (Challenge("a"),), "Challenge a is kept at table 99, which does not exist."),
    ],
)
def test_a_malformed_round_is_refused_in_words(kept, challenges, message):
    with pytest.raises(ValueError, match=message):
        Assigner().assign(AssignmentProblem(challenges, clinic(GEORGINA), kept))


def test_an_empty_round():
    assignment = Assigner(fair=True).assign(AssignmentProblem((), clinic(GEORGINA)))
    assert assignment.placements == () and assignment.objective == 0 and assignment.worst_fit is None
