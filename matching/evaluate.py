"""How well does routing work? Metrics on held-out labelled challenges, never on training ones."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from matching.catalog import Catalog, Example
from matching.classifier import TopicClassifier
from matching.router import HIGH_CONFIDENCE, LOW_CONFIDENCE, confidence_level


@dataclass(frozen=True)
class Report:
    """Routing quality on a labelled set."""

    n: int
    top1: float
    top2: float
    macro_f1: float
    per_language: dict[str, tuple[float, int]]
    per_topic: dict[str, tuple[float, int]]
    per_confidence: dict[str, tuple[float, int]]
    triage_share: float
    confusion: dict[str, dict[str, int]]


def report(probabilities: np.ndarray, topics: Sequence[str], examples: Sequence[Example]) -> Report:
    topics = np.asarray(topics)
    truth = np.array([example.topic for example in examples])
    order = np.argsort(-probabilities, axis=1)
    predicted = topics[order[:, 0]]
    second = topics[order[:, 1]] if probabilities.shape[1] > 1 else predicted
    correct = predicted == truth
    scores = probabilities[np.arange(len(examples)), order[:, 0]]
    levels = np.array([confidence_level(score) for score in scores])

    def grouped(keys: np.ndarray) -> dict[str, tuple[float, int]]:
        return {
            str(key): (float(correct[keys == key].mean()), int((keys == key).sum()))
            for key in sorted(set(keys.tolist()), key=str)
        }

    languages = np.array([example.language or "?" for example in examples])
    confusion = {str(t): {str(p): int(((truth == t) & (predicted == p)).sum()) for p in topics} for t in topics}
    return Report(
        n=len(examples),
        top1=float(correct.mean()),
        top2=float((correct | (second == truth)).mean()),
        macro_f1=float(f1_score(truth, predicted, average="macro", labels=topics, zero_division=0)),
        per_language=grouped(languages),
        per_topic=grouped(truth),
        per_confidence=grouped(levels),
        triage_share=float((levels == "low").mean()),
        confusion=confusion,
    )


def cross_validated_probabilities(
    catalog: Catalog,
    make_classifier: Callable[[], TopicClassifier] = TopicClassifier,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold topic probabilities for every labelled example of the catalog.

    Each example is predicted by a classifier fitted without it (names, descriptions and keywords
    are always in), so the figure says how routing does on challenges it has not seen.
    """
    examples = list(catalog.examples)
    labels = np.array([example.topic for example in examples])
    topics = sorted(topic.id for topic in catalog.active_topics)
    probabilities = np.zeros((len(examples), len(topics)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for done, (train, test) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        if progress:
            progress(done / folds)
        fold_catalog = replace(catalog, examples=tuple(examples[i] for i in train))
        classifier = make_classifier().fit(fold_catalog)
        fold = classifier.predict_proba([examples[i].text for i in test])
        columns = [topics.index(t) for t in classifier.topics_]
        probabilities[np.ix_(test, columns)] = fold
    if progress:
        progress(1.0)
    return probabilities, topics


def triage_curve(
    probabilities: np.ndarray, topics: Sequence[str], examples: Sequence[Example], steps: int = 41
) -> list[tuple[float, float, float]]:
    """For each triage threshold: (threshold, share sent to triage, accuracy of the rest)."""
    topics = np.asarray(topics)
    truth = np.array([example.topic for example in examples])
    best = probabilities.argmax(axis=1)
    scores = probabilities[np.arange(len(examples)), best]
    correct = topics[best] == truth
    curve = []
    for threshold in np.linspace(0.0, 0.8, steps):
        kept = scores >= threshold
        accuracy = float(correct[kept].mean()) if kept.any() else 1.0
        curve.append((round(float(threshold), 3), float(1 - kept.mean()), accuracy))
    return curve


def format_report(name: str, result: Report) -> str:
    lines = [
        f"== {name}: {result.n} challenges",
        f"top-1 {result.top1:.3f}   top-2 {result.top2:.3f}   macro-F1 {result.macro_f1:.3f}   "
        f"triage (score < {LOW_CONFIDENCE}) {result.triage_share:.1%}",
        "per language: " + "  ".join(f"{k} {v:.3f} (n={n})" for k, (v, n) in result.per_language.items()),
        "per topic:    " + "  ".join(f"{k} {v:.3f} (n={n})" for k, (v, n) in result.per_topic.items()),
        f"per confidence (high >= {HIGH_CONFIDENCE}, low < {LOW_CONFIDENCE}): "
        + "  ".join(f"{k} {v:.3f} (n={n})" for k, (v, n) in result.per_confidence.items()),
    ]
    topics = list(result.confusion)
    width = max(len(t) for t in topics) + 1
    lines.append("confusion (rows: true topic, columns: routed topic)")
    lines.append(" " * width + " ".join(f"{t[:6]:>6}" for t in topics))
    for t in topics:
        lines.append(f"{t:<{width}}" + " ".join(f"{result.confusion[t][p]:>6}" for p in topics))
    return "\n".join(lines)


class MajorityBaseline:
    """Always the topic with the most labelled examples: the floor any router must beat."""

    def fit(self, catalog: Catalog) -> MajorityBaseline:
        self.topics_ = np.array(sorted(topic.id for topic in catalog.active_topics))
        counts = [sum(example.topic == topic for example in catalog.examples) for topic in self.topics_]
        self.majority_ = int(np.argmax(counts))
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probabilities = np.zeros((len(texts), len(self.topics_)))
        probabilities[:, self.majority_] = 1.0
        return probabilities


class EnglishDescriptionBaseline:
    """Word TF-IDF cosine between a challenge and each topic's English name and description."""

    def fit(self, catalog: Catalog) -> EnglishDescriptionBaseline:
        from sklearn.feature_extraction.text import TfidfVectorizer

        topics = sorted(catalog.active_topics, key=lambda topic: topic.id)
        self.topics_ = np.array([topic.id for topic in topics])
        self.vectorizer_ = TfidfVectorizer(sublinear_tf=True)
        self.profiles_ = self.vectorizer_.fit_transform([f"{t.name} {t.description}" for t in topics])
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        similarity = (self.vectorizer_.transform(texts) @ self.profiles_.T).toarray()
        similarity += 1e-9  # a text sharing no word gets a uniform row, not a division by zero
        return similarity / similarity.sum(axis=1, keepdims=True)


def keyword_profile_baseline() -> TopicClassifier:
    """TF-IDF against the hand-written keywords, names and descriptions in every language, no
    labelled examples and no learned model: the "keywords in six languages" approach."""
    return _ProfileOnly()


class _ProfileOnly(TopicClassifier):
    def __init__(self):
        super().__init__(profile_weight=1.0)

    def fit(self, catalog: Catalog) -> _ProfileOnly:
        return super().fit(replace(catalog, examples=()))


def v1_router() -> TopicClassifier:
    """The foundation's router: the same model, learning from the first batch of samples only
    (files samples/<language>.csv, 112 per language), before the later batches (ids `-b2-`, `-b3-`,
    ...) were written."""
    return _FirstBatchOnly()


_LATER_BATCH = re.compile(r"-b\d+-")


class _FirstBatchOnly(TopicClassifier):
    def fit(self, catalog: Catalog) -> _FirstBatchOnly:
        first = tuple(e for e in catalog.examples if not _LATER_BATCH.search(e.id))
        return super().fit(replace(catalog, examples=first))


BASELINES: dict[str, Callable[[], object]] = {
    "majority topic": MajorityBaseline,
    "word TF-IDF on English topic descriptions": EnglishDescriptionBaseline,
    "TF-IDF on keywords in six languages (no examples)": keyword_profile_baseline,
    "v1 router (first batch of samples only)": v1_router,
}


def format_comparison(results: Sequence[tuple[str, Report]]) -> str:
    """One line per contender: overall figures and accuracy per language."""
    languages = sorted({language for _, result in results for language in result.per_language})
    width = max(len(name) for name, _ in results)
    header = f"{'':<{width}}  top-1  top-2  macro-F1  " + "  ".join(f"{code:>5}" for code in languages)
    lines = ["== comparison (same held-out set)", header]
    for name, result in results:
        per_language = "  ".join(f"{result.per_language.get(code, (0.0, 0))[0]:>5.3f}" for code in languages)
        lines.append(f"{name:<{width}}  {result.top1:.3f}  {result.top2:.3f}  {result.macro_f1:>8.3f}  {per_language}")
    return "\n".join(lines)
