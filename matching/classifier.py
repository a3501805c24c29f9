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
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import normalize as l2_normalize

from matching.catalog import Catalog
from matching.features import WordCharTfidf
from matching.limits import MAX_ROUTED_CHARS
from matching.text import LanguageProfiles, normalize, words


def prepare(text: str) -> str:
    """What the features are computed from: the normalised start of the text."""
    return normalize(text[:MAX_ROUTED_CHARS])


@lru_cache(maxsize=200_000)
def _prepared_training_text(text: str) -> str:
    """`prepare`, remembered: a refit after one edit meets the same thousands of texts again."""
    return prepare(text)


class TopicClassifier:
    """Scikit-learn-style estimator: `fit(catalog)`, then `predict_proba(texts)`.

    Parameters are stored as given; everything learnt ends in `_`.
    """

    def __init__(
        self,
        alpha: float = 5e-6,
        epochs: int = 8,
        keyword_weight: float = 1.0,
        profile_weight: float = 0.3,
        profile_temperature: float = 0.05,
        char_n: int = 4,
    ):
        self.alpha = alpha
        self.epochs = epochs
        self.keyword_weight = keyword_weight
        self.profile_weight = profile_weight
        self.profile_temperature = profile_temperature
        self.char_n = char_n

    # -- learning ---------------------------------------------------------------------------
    def training_documents(self, catalog: Catalog) -> tuple[list[str], list[str], list[float], list[str | None]]:
        """Texts, topic labels, weights and (where known) the language of each text the model learns from."""
        docs: list[str] = []
        labels: list[str] = []
        weights: list[float] = []
        languages: list[str | None] = []

        def add(text: str, topic: str, weight: float, language: str | None) -> None:
            docs.append(text)
            labels.append(topic)
            weights.append(weight)
            languages.append(language)

        active = {topic.id for topic in catalog.active_topics}
        for topic in catalog.active_topics:
            add(f"{topic.name}. {topic.description}", topic.id, 1.0, None)
            for code in sorted(set(topic.names) | set(topic.descriptions)):
                add(f"{topic.names.get(code, '')}. {topic.descriptions.get(code, '')}", topic.id, 1.0, code)
            for code, keywords in topic.keywords.items():
                for keyword in keywords:
                    add(keyword, topic.id, self.keyword_weight, code)
        for example in catalog.examples:
            if example.topic in active:
                add(example.text, example.topic, 1.0, example.language)
        return docs, labels, weights, languages

    def fit(self, catalog: Catalog) -> TopicClassifier:
        docs, labels, weights, languages = self.training_documents(catalog)
        if not docs:
            raise ValueError("The catalog has no active topic to learn from.")
        prepared = [_prepared_training_text(doc) for doc in docs]
        self.features_ = WordCharTfidf(char_n=self.char_n)
        features = self.features_.fit_transform(prepared)
        weights = np.asarray(weights)
        self.topics_ = np.array(sorted(set(labels)))
        label_index = np.searchsorted(self.topics_, labels)
        if len(self.topics_) > 1:
            # Logistic loss by SGD: the same model as LogisticRegression, fitted in a tenth of the
            # time (an organizer's edit must refit in well under a second), deterministic by seed.
            # One binary model per topic, two at a time (the solver releases the GIL).
            self.model_ = SGDClassifier(
                loss="log_loss", alpha=self.alpha, max_iter=self.epochs, tol=None, random_state=0, n_jobs=2
            )
            self.model_.fit(features, label_index, sample_weight=weights)
        else:
            self.model_ = None
        membership = sp.csr_matrix((weights, (label_index, np.arange(len(labels)))))  # topics x docs
        self.profiles_ = l2_normalize(membership @ features)
        if self.model_ is not None:
            coef, intercept = self.model_.coef_, self.model_.intercept_
            if len(self.topics_) == 2:  # a binary model has one row: p(second) = expit(d), p(first) = 1 - p
                coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
            self.coef_, self.intercept_ = coef, intercept
            self.weights_ = np.ascontiguousarray(np.vstack([coef, self.profiles_.toarray()]).T)
        # Words found in the texts of half the topics or more carry no topic signal ("the", "de",
        # "partner"): they are never shown as a reason, even when their n-grams score.
        n_words = self.features_.n_word_features
        spread = np.asarray(((membership @ features[:, :n_words]) > 0).sum(axis=0)).ravel()
        word_names = self.features_.feature_names_[:n_words]
        widespread = word_names[spread >= len(self.topics_) / 2]
        self.stop_words_ = frozenset(str(name) for name in widespread if " " not in name)
        self.feature_names_ = self.features_.feature_names_
        spoken = set(catalog.language_codes)
        known = [i for i, code in enumerate(languages) if code in spoken]
        self.language_profiles_ = LanguageProfiles().fit(features[known], [languages[i] for i in known])
        # For explanations: weights relative to the mean topic, so shared words push nowhere.
        if self.model_ is not None:
            self.push_weights_ = self.coef_ - self.coef_.mean(axis=0)
        return self

    # -- predicting -------------------------------------------------------------------------
    def transform(self, texts: Sequence[str], prepared: Sequence[str] | None = None) -> sp.csr_matrix:
        """TF-IDF features of the texts (pass `prepared`, the normalised texts, if already at hand)."""
        prepared = [prepare(text) for text in texts] if prepared is None else prepared
        return self.features_.transform(prepared)

    def predict_proba(self, texts: Sequence[str], features: sp.csr_matrix | None = None) -> np.ndarray:
        """Probability of each topic in `topics_` order, one row per text (rows sum to 1)."""
        features = self.transform(texts) if features is None else features
        if self.model_ is None:
            return np.ones((features.shape[0], 1))
        # One sparse-by-dense product gives both the model's scores and the profile similarities
        # (what SGDClassifier.predict_proba computes, without its per-call checks: routing one
        # challenge is a handful of microseconds of arithmetic, so the overhead was most of it).
        scores = np.asarray(features @ self.weights_)
        k = len(self.topics_)
        learned = expit(scores[:, :k] + self.intercept_)
        learned /= learned.sum(axis=1, keepdims=True)
        similarity = scores[:, k:] / self.profile_temperature
        similarity -= similarity.max(axis=1, keepdims=True)
        prior = np.exp(similarity)
        prior /= prior.sum(axis=1, keepdims=True)
        return (1 - self.profile_weight) * learned + self.profile_weight * prior

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.topics_[self.predict_proba(texts).argmax(axis=1)]

    def explain(
        self,
        texts: Sequence[str],
        topics: Sequence[str],
        features: sp.csr_matrix | None = None,
        prepared: Sequence[str] | None = None,
        top: int = 4,
    ) -> list[tuple[str, ...]]:
        """For each text, the words that pushed it most towards its topic, as the participant wrote them.

        A feature's push is its TF-IDF value times the topic's weight (relative to the mean over
        topics); a character n-gram's push goes to the words that contain it.
        """
        prepared = [prepare(text) for text in texts] if prepared is None else prepared
        features = self.transform(texts, prepared) if features is None else features
        if self.model_ is None:
            return [() for _ in texts]
        explanations = []
        n_words = self.features_.n_word_features
        topic_rows = np.searchsorted(self.topics_, np.asarray(topics))
        for i, text in enumerate(texts):
            start, end = features.indptr[i], features.indptr[i + 1]
            indices = features.indices[start:end]
            push = features.data[start:end] * self.push_weights_[topic_rows[i], indices]
            strongest = np.argsort(-push)[:12]
            text_words = [w for w in dict.fromkeys(words(prepared[i])) if w not in self.stop_words_]
            scores: dict[str, float] = {}
            for j in strongest:
                if push[j] <= 0:
                    break
                # A word feature credits the words it is made of, a character n-gram the words containing it.
                name = str(self.feature_names_[indices[j]]).strip()
                parts = name.split() if indices[j] < n_words else ()
                for word in text_words:
                    if word in parts if parts else name in word:
                        scores[word] = scores.get(word, 0.0) + float(push[j])
            best = sorted(scores, key=scores.get, reverse=True)[:top]
            explanations.append(_surface_forms(text, prepared[i], best))
        return explanations


def _surface_forms(text: str, prepared: str, normalised: Sequence[str]) -> tuple[str, ...]:
    """The normalised words as the participant typed them (first occurrence)."""
    if not normalised:
        return ()
    originals = words(text[:MAX_ROUTED_CHARS])
    folded = words(prepared)
    if len(originals) != len(folded):  # markup or a URL was dropped: match word by word instead
        folded = [normalize(original) for original in originals]
    forms: dict[str, str] = {}
    for original, key in zip(originals, folded, strict=True):
        forms.setdefault(key, original)
    return tuple(forms.get(word, word) for word in normalised)
