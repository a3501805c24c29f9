"""Our word-by-word TF-IDF must equal scikit-learn's TfidfVectorizer exactly, only faster."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

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
