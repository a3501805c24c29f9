"""How fast and how good the global assignment is, against the bar DESIGN.md sets. Prints; never asserts.

    python bench/assign.py

A synthetic clinic the size the quality bar names: 2,000 challenges, 60 tables (15 topics, four
tables each, 36 seats), 120 experts (two per table, 20 participants each per round) speaking one
to three of six languages, English most often. Two kinds of scores: topic probabilities (what the
router gives: tables of the same topic tie, so language and load decide) and a random fit per
table (no ties); then the first again with fewer seats than challenges (triage, diagnoses,
and where greedy loses most). For each it times the exact assignment (median of a few runs after a warm-up),
the fair mode and the greedy reference, and checks the exact total against an independent
reference: the same problem written as a linear programme and solved by HiGHS's interior-point
method (the constraint matrix is totally unimodular, so the LP optimum is the integer optimum),
most seated first, then highest fit minus load.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/assign.py` puts bench/, not the repo, on the path

from matching.assignment import (  # noqa: E402
    LANGUAGE_BONUS,
    LOAD_WEIGHT,
    Assigner,
    AssignmentProblem,
    Challenge,
    GreedyAssigner,
)
from matching.catalog import Catalog, Expert, Language, Table, Topic  # noqa: E402

CHALLENGES = 2_000
TOPICS = 15
TABLES_PER_TOPIC = 4
EXPERTS_PER_TABLE = 2
TABLE_SEATS = 36
EXPERT_SEATS = 20
RUNS = 5
BAR_SECONDS = 2.0  # DESIGN.md, "Quality bar": 2,000 challenges to 60 tables in under 2 s, gap 0
LANGUAGES = ("en", "fr", "es", "ar", "sv", "he")
SHARE = np.array([0.50, 0.15, 0.15, 0.10, 0.05, 0.05])  # how often each is someone's first language


def synthetic_round(seed: int, per_table: bool, seats: int = TABLE_SEATS) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    topics = tuple(Topic(f"topic-{i:02d}", f"Topic {i}") for i in range(TOPICS))
    tables = tuple(
        Table(number=n + 1, topic=topics[n % TOPICS].id, capacity=seats) for n in range(TOPICS * TABLES_PER_TOPIC)
    )

    def speaks(extra: float) -> tuple[str, ...]:
        first = rng.choice(len(LANGUAGES), p=SHARE)
        others = [i for i in range(len(LANGUAGES)) if i != first and rng.random() < extra]
        return tuple(LANGUAGES[i] for i in [first, *others])

    experts = tuple(
        Expert(
            id=f"expert-{i:03d}",
            name=f"Expert {i}",
            languages=speaks(0.25),
            capacity=EXPERT_SEATS,
            table=tables[i // EXPERTS_PER_TABLE].number,
        )
        for i in range(len(tables) * EXPERTS_PER_TABLE)
    )
    catalog = Catalog(
        languages=tuple(Language(code, code, code) for code in LANGUAGES), topics=topics, experts=experts, tables=tables
    )
    challenges = []
    for i in range(CHALLENGES):
        if per_table:
            fits = {"tables": dict(zip([t.number for t in tables], rng.random(len(tables)).tolist(), strict=True))}
        else:
            fits = {"topics": dict(zip([t.id for t in topics], rng.dirichlet([0.3] * TOPICS).tolist(), strict=True))}
        challenges.append(Challenge(id=f"c{i:04d}", languages=speaks(0.15), **fits))
    return AssignmentProblem(tuple(challenges), catalog)


def reference(problem: AssignmentProblem) -> tuple[int, float, bool]:
    """(seated, fit minus load, integral?) of the LP optimum, built from the rules, not the assigner."""
    catalog = problem.catalog
    tables = {t.number: i for i, t in enumerate(catalog.tables)}
    experts = [e for e in catalog.experts if e.present]
    rows, cols, fits = [], [], []
    for c, challenge in enumerate(problem.challenges):
        for e, expert in enumerate(experts):
            ranks = [r for r, code in enumerate(challenge.languages) if code in expert.languages]
            if not ranks:
                continue
            table = catalog.tables[tables[expert.table]]
            topic = challenge.tables[table.number] if challenge.tables is not None else challenge.topics[table.topic]
            rows.append(c)
            cols.append(e)
            fits.append(topic + LANGUAGE_BONUS * 0.5 ** ranks[0])
    n_c, n_x = len(problem.challenges), len(rows)
    # One variable per (challenge, expert) pair, then one per expert seat (its load penalty).
    slot_expert = np.repeat(np.arange(len(experts)), [e.capacity for e in experts])
    slot_rank = np.concatenate([np.arange(1, e.capacity + 1) for e in experts])
    penalty = LOAD_WEIGHT * slot_rank / np.array([e.capacity for e in experts])[slot_expert]
    n_y = len(slot_expert)
    ones_x, ones_y = np.ones(n_x), np.ones(n_y)
    per_challenge = sp.csr_array((ones_x, (rows, np.arange(n_x))), shape=(n_c, n_x + n_y))
    slot_table = np.array([tables[experts[e].table] for e in slot_expert])
    per_table = sp.csr_array((ones_y, (slot_table, n_x + np.arange(n_y))), shape=(len(tables), n_x + n_y))
    a_ub = sp.vstack([per_challenge, per_table]).tocsc()
    b_ub = np.concatenate([np.ones(n_c), [t.capacity for t in catalog.tables]])
    balance = sp.csr_array(
        (np.concatenate([ones_x, -ones_y]), (np.concatenate([cols, slot_expert]), np.arange(n_x + n_y))),
        shape=(len(experts), n_x + n_y),
    )
    most = linprog(
        np.concatenate([-ones_x, np.zeros(n_y)]), A_ub=a_ub, b_ub=b_ub, A_eq=balance, b_eq=np.zeros(len(experts)),
        bounds=(0, 1), method="highs-ipm",
    )  # fmt: skip
    seated = round(-most.fun)
    total = sp.csr_array((ones_x, (np.zeros(n_x, int), np.arange(n_x))), shape=(1, n_x + n_y))
    best = linprog(
        np.concatenate([-np.array(fits), penalty]), A_ub=a_ub, b_ub=b_ub, A_eq=sp.vstack([balance, total]).tocsc(),
        b_eq=np.concatenate([np.zeros(len(experts)), [seated]]), bounds=(0, 1), method="highs-ipm",
    )  # fmt: skip
    x = best.x[:n_x]
    integral = bool(np.abs(x - np.round(x)).max() < 1e-6)
    if integral:  # score the rounded solution exactly, as the assigner scores its own
        chosen = np.round(x).astype(bool)
        load = np.bincount(np.asarray(cols)[chosen], minlength=len(experts))
        objective = float(np.array(fits)[chosen].sum()) - sum(
            LOAD_WEIGHT * n * (n + 1) / 2 / e.capacity for n, e in zip(load, experts, strict=True)
        )
        return int(chosen.sum()), objective, True
    return seated, -float(best.fun), False


def timed(work):
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def show(name: str, figure: str, verdict: str = "") -> None:
    print(f"  {name:<38} {figure:<34} {verdict}")


def bench(title: str, problem: AssignmentProblem, bar: bool = True) -> None:
    print(f"\n{title}")
    exact = Assigner()
    seconds, assignment = [], None
    for _ in range(RUNS):
        elapsed, assignment = timed(lambda: exact.assign(problem))
        seconds.append(elapsed)
    median = statistics.median(seconds)
    verdict = "ok" if median < BAR_SECONDS else "OVER the bar"
    show(
        "exact assignment",
        f"median {format_seconds(median)} (max {format_seconds(max(seconds))})",
        f"bar < {BAR_SECONDS:.0f} s  {verdict}" if bar else "(no bar: the bar's case has a seat for everyone)",
    )
    ref_time, (ref_seated, ref_objective, integral) = timed(lambda: reference(problem))
    gap = ref_objective - assignment.objective
    same = ref_seated == len(assignment.seated) and abs(gap) <= 1e-9 * max(1.0, abs(ref_objective))
    show(
        "optimality gap vs LP reference",
        f"{gap:+.2e} ({'integral' if integral else 'fractional'} LP, {format_seconds(ref_time)})",
        "gap 0  ok" if same else "NOT optimal",
    )
    fair_time, fair = timed(lambda: Assigner(fair=True).assign(problem))
    greedy_time, greedy = timed(lambda: GreedyAssigner().assign(problem))
    show("fair mode", format_seconds(fair_time), f"worst fit {fair.worst_fit:.3f} (exact: {assignment.worst_fit:.3f})")
    show("greedy reference", format_seconds(greedy_time))
    print(f"  {'':<38} {'seated':>7} {'total fit':>10} {'mean fit':>9} {'worst':>7}")
    for name, result in (("exact", assignment), ("fair", fair), ("greedy", greedy)):
        seated = len(result.seated)
        print(
            f"  {name:<38} {seated:>7,} {result.total_fit:>10.2f} {result.total_fit / max(seated, 1):>9.3f} "
            f"{result.worst_fit:>7.3f}"
        )
    for diagnosis in assignment.diagnoses[:2]:
        print(f"  diagnosis: {diagnosis}")


def main() -> None:
    tables = TOPICS * TABLES_PER_TOPIC
    print(
        f"Global assignment: {CHALLENGES:,} challenges, {tables} tables x {TABLE_SEATS} seats "
        f"({tables * TABLE_SEATS:,}), {tables * EXPERTS_PER_TABLE} experts x {EXPERT_SEATS}, "
        f"{len(LANGUAGES)} languages; {RUNS} timed runs each"
    )
    Assigner().assign(synthetic_round(0, per_table=False))  # warm-up: imports, first allocations
    bench("Scores: topic probabilities (15 topics, four tables each)", synthetic_round(1, per_table=False))
    bench("Scores: a random fit per table", synthetic_round(2, per_table=True))
    short = 30
    bench(
        f"Seats short: topic probabilities, {short} seats per table ({tables * short:,} for {CHALLENGES:,})",
        synthetic_round(3, per_table=False, seats=short),
        bar=False,
    )


if __name__ == "__main__":
    main()
