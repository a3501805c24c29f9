"""TF-IDF features of word 1-2-grams and character 4-grams within words, computed word by word.

The features are exactly scikit-learn's `TfidfVectorizer(analyzer="word", ngram_range=(1, 2))`
and `TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), min_df=2)` (sublinear tf, smooth idf,
each block l2-normalised, then the two side by side, l2-normalised again); the test suite checks
the equality. What differs is the work: a word's character n-grams are looked up once per
distinct word and remembered, instead of once per occurrence, which makes routing a batch of
10,000 challenges several times faster; and fitting remembers each text's n-grams (as numbers) from
one fit to the next, so a refit after an organizer's edit only analyses the texts that changed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize as l2_normalize

TOKEN_PATTERN = r"(?u)\b[^\W_]{2,}\b"
_TOKEN = re.compile(TOKEN_PATTERN)
_CACHE_LIMIT = 200_000  # distinct words remembered; a flood of unique junk cannot grow memory forever
# What a GramIndex remembers before it starts over: distinct n-grams, and texts.
_FIT_GRAM_LIMIT = 2_000_000
_FIT_TEXT_LIMIT = 200_000


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
    names: list[str], rows: np.ndarray, grams: np.ndarray, documents: int, min_df: int
) -> tuple[list[str], sp.csr_matrix]:
    """Counts of the n-grams numbered `grams` (in `names`), columns in alphabetical order (as
    scikit-learn numbers its vocabulary), those in fewer than `min_df` documents dropped."""
    seen, columns = np.unique(grams, return_inverse=True)
    counts = _counts(rows, columns, (documents, len(seen)))
    document_frequency = np.bincount(counts.indices, minlength=len(seen))
    keep = np.flatnonzero(document_frequency >= min_df)
    kept_names = [names[i] for i in seen[keep]]
    order = sorted(range(len(keep)), key=kept_names.__getitem__)
    return [kept_names[i] for i in order], counts[:, keep[order]].tocsr()


class GramIndex:
    """Numbers every n-gram it meets and remembers each text's word and character n-grams as arrays
    of those numbers, so that fitting again on mostly the same texts (a refit after one keyword
    changed) skips the string work. Shared by every fit in the process, safely across threads.
    """

    def __init__(self, char_n: int):
        self.char_n = char_n
        self.lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self.names: list[str] = []
        self._numbers: dict[str, int] = {}
        self._texts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._words: dict[str, list[int]] = {}

    def _number(self, gram: str) -> int:
        number = self._numbers.get(gram)
        if number is None:
            number = self._numbers[gram] = len(self.names)
            self.names.append(gram)
        return number

    def _grams_of(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        known = self._texts.get(text)
        if known is None:
            word_grams_ = [self._number(gram) for gram in word_grams(text)]
            char_grams_: list[int] = []
            for word in text.split():
                numbers = self._words.get(word)
                if numbers is None:
                    numbers = self._words[word] = [self._number(g) for g in char_grams(word, self.char_n)]
                char_grams_.extend(numbers)
            known = self._texts[text] = (np.array(word_grams_, dtype=np.int64), np.array(char_grams_, dtype=np.int64))
        return known

    def occurrences(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every n-gram occurrence in `texts`: word rows and numbers, character rows and numbers
        (`names[number]` is the n-gram). Call with `lock` held."""
        if len(self.names) > _FIT_GRAM_LIMIT or len(self._texts) > _FIT_TEXT_LIMIT:
            self._clear()
        grams = [self._grams_of(text) for text in texts]
        rows = np.arange(len(texts))
        words = [w for w, _ in grams]
        chars = [c for _, c in grams]

        def flat(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
            joined = np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)
            return np.repeat(rows, lengths), joined

        return (*flat(words), *flat(chars))


_GRAM_INDEXES: dict[int, GramIndex] = {}
_GRAM_INDEXES_LOCK = threading.Lock()


def gram_index(char_n: int) -> GramIndex:
    """The process's GramIndex for character n-grams of length `char_n`."""
    with _GRAM_INDEXES_LOCK:
        if char_n not in _GRAM_INDEXES:
            _GRAM_INDEXES[char_n] = GramIndex(char_n)
        return _GRAM_INDEXES[char_n]


class WordCharTfidf:
    """Fit on texts, then transform texts into word and character TF-IDF features."""

    def __init__(self, char_n: int = 4, char_min_df: int = 2):
        self.char_n = char_n
        self.char_min_df = char_min_df

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Learn the vocabularies and idf weights, and return the texts' features, in one pass."""
        index = gram_index(self.char_n)
        with index.lock:  # the names list may grow under another fit: take what is needed inside
            word_rows, word_grams_, char_rows, char_grams_ = index.occurrences(texts)
            names, documents = index.names, len(texts)
            words, word_counts = _sorted_block(names, word_rows, word_grams_, documents, min_df=1)
            chars, char_counts = _sorted_block(names, char_rows, char_grams_, documents, self.char_min_df)
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
