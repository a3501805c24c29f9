"""Which topic is a challenge about? TF-IDF features, a linear model and topic profiles.

The model learns from every labelled text the catalog has: each topic's name and description in
every language, each keyword (down-weighted: a keyword is one word, not a challenge) and every
labelled example. Word n-grams catch phrases; character n-grams inside word boundaries let
"partenariat" meet "partnership" and an Arabic word meet its form with a prefix attached.
The topic profiles (the centroid of a topic's texts) are a prior that keeps a topic with few
examples reachable through its keywords.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize as l2_normalize

from matching.catalog import Catalog
from matching.limits import MAX_ROUTED_CHARS
from matching.text import normalize, words


def _prepare(text: str) -> str:
    return normalize(text[:MAX_ROUTED_CHARS])


class TopicClassifier:
    """Scikit-learn-style estimator: `fit(catalog)`, then `predict_proba(texts)`.

    Parameters are stored as given; everything learnt ends in `_`.
    """

    def __init__(
        self,
        C: float = 10.0,
        keyword_weight: float = 0.3,
        profile_weight: float = 0.3,
        profile_temperature: float = 0.05,
        char_ngrams: tuple[int, int] = (3, 5),
        word_ngrams: tuple[int, int] = (1, 2),
    ):
        self.C = C
        self.keyword_weight = keyword_weight
        self.profile_weight = profile_weight
        self.profile_temperature = profile_temperature
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams

    # -- learning ---------------------------------------------------------------------------
    def training_documents(self, catalog: Catalog) -> tuple[list[str], list[str], list[float]]:
        """Texts, topic labels and weights the model learns from."""
        docs: list[str] = []
        labels: list[str] = []
        weights: list[float] = []
        active = {topic.id for topic in catalog.active_topics}
        for topic in catalog.active_topics:
            descriptions = [f"{topic.name}. {topic.description}"] + [
                f"{topic.names.get(code, '')}. {topic.descriptions.get(code, '')}"
                for code in set(topic.names) | set(topic.descriptions)
            ]
            for text in descriptions:
                docs.append(text)
                labels.append(topic.id)
                weights.append(1.0)
            for keywords in topic.keywords.values():
                for keyword in keywords:
                    docs.append(keyword)
                    labels.append(topic.id)
                    weights.append(self.keyword_weight)
        for example in catalog.examples:
            if example.topic in active:
                docs.append(example.text)
                labels.append(example.topic)
                weights.append(1.0)
        return docs, labels, weights

    def fit(self, catalog: Catalog) -> TopicClassifier:
        docs, labels, weights = self.training_documents(catalog)
        if not docs:
            raise ValueError("The catalog has no active topic to learn from.")
        prepared = [_prepare(doc) for doc in docs]
        self.word_vectorizer_ = TfidfVectorizer(
            analyzer="word",
            token_pattern=r"(?u)\b[^\W_]{2,}\b",
            ngram_range=self.word_ngrams,
            sublinear_tf=True,
            lowercase=False,
        )
        self.char_vectorizer_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True, lowercase=False, min_df=2
        )
        features = sp.hstack(
            [self.word_vectorizer_.fit_transform(prepared), self.char_vectorizer_.fit_transform(prepared)]
        ).tocsr()
        features = l2_normalize(features)
        self.topics_ = np.array(sorted(set(labels)))
        label_index = np.searchsorted(self.topics_, labels)
        if len(self.topics_) > 1:
            self.model_ = LogisticRegression(C=self.C, max_iter=300)
            self.model_.fit(features, label_index, sample_weight=np.asarray(weights))
        else:
            self.model_ = None
        profiles = sp.vstack(
            [sp.csr_matrix(features[label_index == k].multiply(
                np.asarray(weights)[label_index == k][:, None]).sum(axis=0))
             for k in range(len(self.topics_))]
        )
        self.profiles_ = l2_normalize(sp.csr_matrix(profiles))
        self.keyword_sets_ = {
            topic.id: {normalize(k) for keywords in topic.keywords.values() for k in keywords}
            for topic in catalog.active_topics
        }
        return self

    # -- predicting -------------------------------------------------------------------------
    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        prepared = [_prepare(text) for text in texts]
        features = sp.hstack(
            [self.word_vectorizer_.transform(prepared), self.char_vectorizer_.transform(prepared)]
        ).tocsr()
        return l2_normalize(features)

    def predict_proba(self, texts: Sequence[str], features: sp.csr_matrix | None = None) -> np.ndarray:
        """Probability of each topic in `topics_` order, one row per text (rows sum to 1)."""
        features = self.transform(texts) if features is None else features
        if self.model_ is None:
            return np.ones((features.shape[0], 1))
        learned = self.model_.predict_proba(features)
        similarity = (features @ self.profiles_.T).toarray() / self.profile_temperature
        similarity -= similarity.max(axis=1, keepdims=True)
        prior = np.exp(similarity)
        prior /= prior.sum(axis=1, keepdims=True)
        return (1 - self.profile_weight) * learned + self.profile_weight * prior

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.topics_[self.predict_proba(texts).argmax(axis=1)]

    def explain(self, text: str, topic: str, top: int = 4) -> tuple[str, ...]:
        """The words of `text` that pushed it most towards `topic`, as the participant wrote them."""
        if self.model_ is None:
            return ()
        k = int(np.searchsorted(self.topics_, topic))
        coef = self.model_.coef_[k] - self.model_.coef_.mean(axis=0)
        n_word = len(self.word_vectorizer_.vocabulary_)
        row = self.transform([text])
        weights = dict(zip(row.indices, row.data * coef[row.indices], strict=True))
        char_analyzer = self.char_vectorizer_.build_analyzer()
        char_vocabulary = self.char_vectorizer_.vocabulary_
        word_vocabulary = self.word_vectorizer_.vocabulary_
        scores: dict[str, float] = {}
        for word in dict.fromkeys(words(_prepare(text))):
            score = weights.get(word_vocabulary.get(word, -1), 0.0)
            for gram in char_analyzer(word):
                index = char_vocabulary.get(gram)
                if index is not None:
                    score += weights.get(n_word + index, 0.0)
            if word in self.keyword_sets_.get(topic, ()):
                score *= 1.5
            scores[word] = score
        best = sorted((s, w) for w, s in scores.items() if s > 0)[::-1][:top]
        surface = _surface_forms(text)
        return tuple(surface.get(word, word) for _, word in best)


def _surface_forms(text: str) -> dict[str, str]:
    """Map each normalised word back to the form the participant typed."""
    import re

    forms: dict[str, str] = {}
    for original in re.findall(r"[^\W_]{2,}", text[:MAX_ROUTED_CHARS]):
        forms.setdefault(normalize(original), original)
    return forms
