"""Similar challenges: cosine of the router's TF-IDF rows, the same read from either side, never itself."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from matching.similarity import MIN_SIMILARITY, SimilarChallenges

DATA = Path(__file__).resolve().parents[2] / "data"


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


PLANTED = _rows(DATA / "synthetic" / "radio_tv.csv")
DEV = [row for path in sorted((DATA / "dev").glob("*.csv")) for row in _rows(path)]
# Every sixth development challenge (all six languages, all topics) and the 30 planted radio/TV ones.
TEXTS = {row["id"]: row["text"] for row in DEV[::6] + PLANTED}


@pytest.fixture(scope="module")
def index(router) -> SimilarChallenges:
    features = router.classifier_.transform(list(TEXTS.values()))
    return SimilarChallenges(k=len(TEXTS)).fit(features, list(TEXTS))


def test_similarity_is_symmetric_and_never_includes_the_challenge_itself(index):
    assert index.pairs(), "the planted challenges must have similar partners"
    for challenge_id in index.ids_:
        near = index.neighbours(challenge_id)
        assert challenge_id not in [n.id for n in near]
        for neighbour in near:
            back = {n.id: n.similarity for n in index.neighbours(neighbour.id)}
            assert back[challenge_id] == neighbour.similarity
            assert index.similarity(challenge_id, neighbour.id) == index.similarity(neighbour.id, challenge_id)


def test_neighbours_are_above_the_threshold_best_first_and_at_most_k(router, index):
    for challenge_id in index.ids_:
        scores = [n.similarity for n in index.neighbours(challenge_id, k=2)]
        assert len(scores) <= 2
        assert scores == sorted(scores, reverse=True)
        assert all(score >= round(MIN_SIMILARITY, 4) for score in scores)
    assert all(score >= MIN_SIMILARITY for _, _, score in index.pairs())


def test_each_pair_is_listed_once(index):
    pairs = index.pairs()
    assert len({frozenset((a, b)) for a, b, _ in pairs}) == len(pairs)
    assert [score for *_, score in pairs] == sorted((score for *_, score in pairs), reverse=True)


def test_planted_radio_questions_find_each_other_and_unrelated_ones_mostly_nobody(index):
    """The threshold's promise: most planted challenges have a planted partner; few development
    challenges (different questions) have any partner at all."""
    planted = {row["id"] for row in PLANTED}
    with_partner = [i for i in planted if any(n.id in planted for n in index.neighbours(i))]
    assert len(with_partner) >= 0.6 * len(planted)
    development = [i for i in index.ids_ if i not in planted]
    lonely = [i for i in development if not any(n.id not in planted for n in index.neighbours(i))]
    assert len(lonely) >= 0.9 * len(development)


def test_across_languages_where_the_words_are_shared(index):
    """French and Spanish questions about television channels share "television" once accents are
    folded; the English and French ones about radio nerves share "radio" and "interview"."""
    assert index.similarity("radio-fr-06", "radio-es-06") >= MIN_SIMILARITY
    assert index.similarity("radio-en-05", "radio-fr-05") >= MIN_SIMILARITY


def test_a_new_text_finds_the_indexed_ones_and_exclude_is_honoured(router, index):
    text = TEXTS["radio-en-01"]
    (found,) = index.query(router.classifier_.transform([text]))
    assert found[0].id == "radio-en-01"
    assert found[0].similarity == pytest.approx(1.0, abs=1e-6)
    (found,) = index.query(router.classifier_.transform([text]), exclude={"radio-en-01"})
    assert "radio-en-01" not in [n.id for n in found]
    (nothing,) = index.query(router.classifier_.transform(["zzzz qqqq"]))
    assert nothing == ()


def test_groups_are_disjoint_and_similar_on_average(index):
    groups = index.groups()
    members = [challenge_id for group in groups for challenge_id in group]
    assert len(members) == len(set(members))
    for group in groups:
        assert len(group) >= 2
        pairs = [index.similarity(a, b) for i, a in enumerate(group) for b in group[i + 1 :]]
        assert np.mean(pairs) >= MIN_SIMILARITY
    assert any(len(group) >= 3 and all(g.startswith("radio-") for g in group) for group in groups)


def test_refit_gives_the_same_answers(router, index):
    again = SimilarChallenges(k=len(TEXTS)).fit(router.classifier_.transform(list(TEXTS.values())), list(TEXTS))
    assert again.pairs() == index.pairs()


def test_bad_input_is_refused_and_an_empty_event_works():
    with pytest.raises(ValueError, match="rows"):
        SimilarChallenges().fit(sp.csr_matrix((2, 3)), ["a"])
    with pytest.raises(ValueError, match="unique"):
        SimilarChallenges().fit(sp.csr_matrix((2, 3)), ["a", "a"])
    empty = SimilarChallenges().fit(sp.csr_matrix((0, 3)), [])
    assert empty.pairs() == [] and empty.groups() == [] and empty.all_neighbours() == {}
    assert empty.query(sp.csr_matrix((1, 3))) == [()]
