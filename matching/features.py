"""TF-IDF features of word 1-2-grams and character 4-grams within words, computed word by word.

The features are exactly scikit-learn's `TfidfVectorizer(analyzer="word", ngram_range=(1, 2))`
and `TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), min_df=2)` (sublinear tf, smooth idf,
each block l2-normalised, then the two side by side, l2-normalised again); the test suite checks
the equality. What differs is the work: a word's character n-grams are looked up once per
distinct word and remembered, instead of once per occurrence, which makes routing a batch of
10,000 challenges and refitting after an organizer's edit several times faster.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize as l2_normalize

TOKEN_PATTERN = r"(?u)\b[^\W_]{2,}\b"
_TOKEN = re.compile(TOKEN_PATTERN)
_CACHE_LIMIT = 200_000  # distinct words remembered; a flood of unique junk cannot grow memory forever


def char_grams(word: str, n: int) -> list[str]:
    """scikit-learn's char_wb n-grams of one word: padded with a space each side."""
    padded = f" {word} "
    return [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]


def word_grams(text: str) -> list[str]:
    tokens = _TOKEN.findall(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def _idf(document_frequency: np.ndarray, documents: int) -> np.ndarray:
    return np.log((1 + documents) / (1 + document_frequency)) + 1.0


def _counts(rows: list[int], columns: list[int], shape: tuple[int, int]) -> sp.csr_matrix:
    coordinates = (np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64))
    counts = sp.csr_matrix((np.ones(len(columns)), coordinates), shape=shape)
    counts.sum_duplicates()
    return counts


def _weigh(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf times idf, l2-normalised rows (an empty block stays empty)."""
    if counts.shape[1] == 0:  # e.g. no character n-gram seen twice in a tiny catalog
        return sp.csr_matrix(counts.shape)
    counts = counts.copy()
    counts.data = (np.log(counts.data) + 1.0) * idf[counts.indices]
    return l2_normalize(counts)


def _tfidf(rows: list[int], columns: list[int], shape: tuple[int, int], idf: np.ndarray) -> sp.csr_matrix:
    return _weigh(_counts(rows, columns, shape), idf)


def _sorted_block(
    ids: dict[str, int], rows: list[int], columns: list[int], documents: int, min_df: int
) -> tuple[list[str], sp.csr_matrix]:
    """Counts with columns in alphabetical order (as scikit-learn numbers its vocabulary), rare ones dropped."""
    counts = _counts(rows, columns, (documents, len(ids)))
    names = np.array(list(ids), dtype=object)
    document_frequency = np.bincount(counts.indices, minlength=len(ids))
    keep = np.flatnonzero(document_frequency >= min_df)
    order = keep[np.argsort(names[keep], kind="stable")]
    return [str(name) for name in names[order]], counts[:, order].tocsr()


class WordCharTfidf:
    """Fit on texts, then transform texts into word and character TF-IDF features."""

    def __init__(self, char_n: int = 4, char_min_df: int = 2):
        self.char_n = char_n
        self.char_min_df = char_min_df

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Learn the vocabularies and idf weights, and return the texts' features, in one pass."""
        word_ids: dict[str, int] = {}
        char_ids: dict[str, int] = {}
        grams_of: dict[str, list[int]] = {}
        word_rows: list[int] = []
        word_columns: list[int] = []
        char_rows: list[int] = []
        char_columns: list[int] = []
        for i, text in enumerate(texts):
            for gram in word_grams(text):
                word_rows.append(i)
                word_columns.append(word_ids.setdefault(gram, len(word_ids)))
            for word in text.split():
                columns = grams_of.get(word)
                if columns is None:
                    columns = grams_of[word] = [
                        char_ids.setdefault(g, len(char_ids)) for g in char_grams(word, self.char_n)
                    ]
                char_columns.extend(columns)
                char_rows.extend([i] * len(columns))
        documents = len(texts)
        words, word_counts = _sorted_block(word_ids, word_rows, word_columns, documents, min_df=1)
        chars, char_counts = _sorted_block(char_ids, char_rows, char_columns, documents, self.char_min_df)
        self.word_vocabulary_ = {gram: i for i, gram in enumerate(words)}
        self.char_vocabulary_ = {gram: i for i, gram in enumerate(chars)}
        self.word_idf_ = _idf(np.bincount(word_counts.indices, minlength=len(words)), documents)
        self.char_idf_ = _idf(np.bincount(char_counts.indices, minlength=len(chars)), documents)
        self.feature_names_ = np.array(words + chars, dtype=object)
        self._word_cache: dict[str, list[int]] = {}
        word_block = _weigh(word_counts, self.word_idf_)
        char_block = _weigh(char_counts, self.char_idf_)
        return l2_normalize(sp.hstack([word_block, char_block]).tocsr())

    def fit(self, texts: Sequence[str]) -> WordCharTfidf:
        self.fit_transform(texts)
        return self

    @property
    def n_word_features(self) -> int:
        return len(self.word_vocabulary_)

    def _char_columns(self, word: str) -> list[int]:
        columns = self._word_cache.get(word)
        if columns is None:
            vocabulary = self.char_vocabulary_
            columns = [vocabulary[g] for g in char_grams(word, self.char_n) if g in vocabulary]
            if len(self._word_cache) >= _CACHE_LIMIT:
                self._word_cache.clear()
            self._word_cache[word] = columns
        return columns

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        texts = list(texts)
        word_rows: list[int] = []
        word_columns: list[int] = []
        char_rows: list[int] = []
        char_columns: list[int] = []
        word_vocabulary = self.word_vocabulary_
        for i, text in enumerate(texts):
            for gram in word_grams(text):
                j = word_vocabulary.get(gram)
                if j is not None:
                    word_rows.append(i)
                    word_columns.append(j)
            for word in text.split():
                columns = self._char_columns(word)
                char_columns.extend(columns)
                char_rows.extend([i] * len(columns))
        word_block = _tfidf(word_rows, word_columns, (len(texts), len(word_vocabulary)), self.word_idf_)
        char_block = _tfidf(char_rows, char_columns, (len(texts), len(self.char_vocabulary_)), self.char_idf_)
        return l2_normalize(sp.hstack([word_block, char_block]).tocsr())
