"""Our word-by-word TF-IDF must equal scikit-learn's TfidfVectorizer exactly, only faster."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from matching import features as features_module
from matching.features import TOKEN_PATTERN, WordCharTfidf, char_grams

TEXTS = [
    "how do we find sponsors for our grant",
    "comment trouver des sponsors pour notre projet",
    "كيف نجد رعاة لمشروعنا",
    "איך נמצא ספונסרים",
    "a b  c\tdd\nee",
    "",
    "grant grant grant sponsors",
]


def reference(train, test):
    word = TfidfVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), sublinear_tf=True, lowercase=False, min_df=2)
    word.fit(train)
    char.fit(train)
    return normalize(sp.hstack([word.transform(test), char.transform(test)]).tocsr())


def test_char_grams_match_scikit_learn_char_wb():
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), lowercase=False).build_analyzer()
    for word in ["a", "ab", "abc", "abcd", "partenariat", "متحف"]:
        assert char_grams(word, 4) == analyzer(word)


def test_features_equal_scikit_learn_on_training_and_unseen_texts():
    features = WordCharTfidf()
    fitted = features.fit_transform(TEXTS)
    assert np.allclose(fitted.toarray(), reference(TEXTS, TEXTS).toarray())
    unseen = ["sponsors for the museum", "projet de subvention", "", "zzz"]
    assert np.allclose(features.transform(unseen).toarray(), reference(TEXTS, unseen).toarray())
    # Transforming twice (the second time from the word cache) gives the same matrix.
    assert np.allclose(features.transform(unseen).toarray(), features.transform(unseen).toarray())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abcdé אב ضص\t\n", max_size=30), min_size=1, max_size=8), st.text(max_size=40))
def test_features_equal_scikit_learn_on_random_text(train, extra):
    try:
        expected = reference(train, train + [extra])
    except ValueError:  # scikit-learn refuses an empty vocabulary; a catalog never has one
        return
    features = WordCharTfidf()
    features.fit(train)
    assert np.allclose(features.transform(train + [extra]).toarray(), expected.toarray())


def test_a_refit_after_an_edit_reuses_what_it_remembers_and_still_equals_scikit_learn(monkeypatch):
    """Fitting again on mostly the same texts takes their n-grams from the process's GramIndex; the
    result must be what a fresh fit gives, also when the index starts over because it is full."""
    WordCharTfidf().fit(TEXTS)  # the index now knows every text
    edited = [*TEXTS[:-1], "grant grant sponsors museum", "nouveau mot clé"]
    assert np.allclose(WordCharTfidf().fit_transform(edited).toarray(), reference(edited, edited).toarray())

    monkeypatch.setattr(features_module, "_FIT_TEXT_LIMIT", 1)  # full: it forgets, then fits as new
    again = ["grant sponsors once more", *TEXTS[2:]]
    assert np.allclose(WordCharTfidf().fit_transform(again).toarray(), reference(again, again).toarray())


def test_fits_in_threads_at_once_each_equal_their_own_fresh_fit():
    corpora = [[f"{text} {n}x{n}" for text in TEXTS] + [f"only in corpus {n} " * n] for n in range(1, 9)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        fitted = list(pool.map(lambda corpus: WordCharTfidf().fit_transform(corpus), corpora))
    for corpus, matrix in zip(corpora, fitted, strict=True):
        assert np.allclose(matrix.toarray(), reference(corpus, corpus).toarray())
