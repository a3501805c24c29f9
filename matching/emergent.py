"""Topics that come from the participants: clusters of challenges the catalog does not cover well.

The seed's groups formed "based on topics suggested by participants". Here the router's TF-IDF rows
of an event's challenges are compared with the catalog's own labelled examples: what this event's
challenges say much more often than the catalog does ("radio" in 23 of 230 challenges, in 0.3 % of
the examples) is what they bring that the topics do not. Challenges sharing such words are
clustered (average linkage on the cosine of those rows, scikit-learn), and a cluster of challenges
that route with low confidence, or that crowd a topic beyond its seats, becomes a suggested topic:
a name from the words its members share, its members, and the reason in words.

`topic_overlaps` warns the other way round: two topics whose profiles share many top words.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import AgglomerativeClustering
from sklearn.preprocessing import normalize as l2_normalize

from matching.catalog import Catalog
from matching.classifier import TopicClassifier, prepare
from matching.router import HIGH_CONFIDENCE
from matching.text import normalize, words

# How the numbers below were chosen: `python bench/emergent.py --quality` runs the suggester on six
# draws of 200 development challenges (data/dev) plus 30 planted radio/TV challenges in English,
# French and Spanish (data/synthetic/radio_tv.csv), on three draws of 470 held-out catalog examples
# plus the same 30, and on development challenges alone (where nothing should be suggested).
#
# A feature (word or character 4-gram) is news when this event's challenges use it at least
# MIN_LIFT times as often as the catalog's examples in their languages would, counting its uses
# less CAUTION standard deviations of chance (Poisson). Five uses where one was expected is often
# chance among a few hundred challenges; thirty where ten were expected is not. Without the
# caution, the development challenges alone gave 13 to 24 "suggestions" held together by phrasing
# ("how do we", "comment"); with it, none or one. With a caution of 2, the television questions
# among 500 stopped counting as news.
MIN_LIFT = 2.0
CAUTION = 1.5
# ... and only when at least this many challenges of the event use it.
MIN_FEATURE_CHALLENGES = 3
# Average-linkage threshold on the cosine of the news-only rows. Those rows are sparse (a few news
# features per challenge): two challenges that share a news word have a clear positive cosine, two
# that share none have 0, so the threshold only has to be above 0. At 0.02 the radio and the
# television questions (which meet through the five that mention both) form one cluster in every
# draw of 230; from 0.05 on they split into two. A cluster too vague to name is split again (see
# `cluster_news`), so a low threshold cannot hide a real group inside a bigger one.
CLUSTER_SIMILARITY = 0.02
# A suggested topic needs people for a table's conversation; smaller groups of similar challenges
# are for the board ("2 others asked about ..."), not for a new table.
MIN_SUGGESTION_SIZE = 4
# A name word must be used by at least MIN_NAME_SHARE of the cluster and be news (MIN_LIFT) both
# against the catalog and against the rest of the event; the best one must be used by
# MIN_DEFINING_SHARE of the cluster: a group held together by many words used once each is not a
# subject. Members that use none of the name words leave the suggestion.
MIN_NAME_SHARE = 0.2
MIN_DEFINING_SHARE = 0.4
NAME_TERMS = 3
# "Low confidence" for suggestions: anything the router is not sure of (below HIGH_CONFIDENCE it
# is right only about two times in three); such challenges are seated, but may belong elsewhere.
UNSURE_BELOW = HIGH_CONFIDENCE
# A language's examples tell what is ordinary in it once there are this many of them.
MIN_LANGUAGE_EXAMPLES = 30

T = TypeVar("T")

KIND_UNSURE = "unsure"  # most members route with low confidence
KIND_CROWDED = "crowded"  # most members route confidently, to a topic with more challenges than seats


@dataclass(frozen=True)
class Background:
    """How ordinary each feature is: the share of the catalog's texts that contain it, per language.

    A challenge's language decides what is ordinary for it: "do" is in a third of the English
    examples but a twentieth of all of them, so a cluster of English challenges must not look as
    if "do" were its news; "télévision" is common in the French examples and rare in the English ones.
    """

    share: np.ndarray  # over all texts, one value per feature
    by_language: Mapping[str, np.ndarray] = field(default_factory=dict)

    def expected(self, languages: Sequence[str | None]) -> np.ndarray:
        """Per feature, how many of these challenges (by their languages) would contain it ordinarily."""
        expected = np.zeros_like(self.share)
        for code, count in Counter(code if code in self.by_language else None for code in languages).items():
            expected += count * (self.by_language[code] if code is not None else self.share)
        return expected


def background_share(
    classifier: TopicClassifier, rows: sp.spmatrix | None = None, languages: Sequence[str | None] | None = None
) -> Background:
    """What is ordinary in the catalog, to tell what is news in an event (computed once per catalog).

    `rows`: the features of the catalog's labelled examples (`classifier.transform(texts)`), the
    texts most like challenges, and `languages` their languages. Without rows, the shares of
    everything the classifier learnt from (names, descriptions, keywords) follow from its idf,
    idf = ln((1 + n) / (1 + df)) + 1.
    """
    if rows is None or rows.shape[0] == 0:
        idf = np.concatenate([classifier.features_.word_idf_, classifier.features_.char_idf_])
        return Background(np.exp(1.0 - idf))
    rows = sp.csr_matrix(rows)
    by_language = {}
    if languages is not None:
        codes = np.asarray([code or "" for code in languages], dtype=object)
        for code in sorted(set(codes) - {""}):
            of_language = rows[np.flatnonzero(codes == code)]
            if of_language.shape[0] >= MIN_LANGUAGE_EXAMPLES:
                by_language[code] = _smoothed_share(of_language)
    return Background(_smoothed_share(rows), by_language)


def news_rows(
    features: sp.spmatrix,
    background: Background,
    languages: Sequence[str | None],
    min_lift: float = MIN_LIFT,
) -> sp.csr_matrix:
    """The rows reweighted to what is news in this event: log(lift / min_lift) per feature, l2-normalised.

    A feature's lift is how many challenges use it over how many would ordinarily (by their
    languages). A challenge without any news feature gets an empty row (it clusters with nothing).
    """
    features = sp.csr_matrix(features)
    if features.shape[0] == 0:
        return features
    counts = _document_counts(features)
    lift = _cautious(counts) / background.expected(languages)
    weights = np.log(np.maximum(lift / min_lift, 1.0))
    weights[counts < MIN_FEATURE_CHALLENGES] = 0.0
    rows = sp.csr_matrix(features @ sp.diags(weights))
    rows.eliminate_zeros()
    return l2_normalize(rows)


def cluster_news(
    rows: sp.csr_matrix,
    min_size: int,
    accept: Callable[[np.ndarray], T | None],
    similarity: float = CLUSTER_SIMILARITY,
) -> list[tuple[np.ndarray, T]]:
    """Clusters of row indices that `accept` names, biggest first, from an average-linkage tree.

    The tree is cut where the average cosine of the news rows falls below `similarity`; a cluster
    that `accept` refuses (no word its members share) is split into the two it was merged from,
    and so on down, so a merge too many never hides a real group inside a bigger, vaguer one.
    """
    present = np.flatnonzero(np.diff(rows.indptr) > 0)
    n = len(present)
    if n < max(min_size, 2):
        return []
    cosine = (rows[present] @ rows[present].T).toarray()
    distance = np.clip(1.0 - cosine, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    cut = 1.0 - similarity
    tree = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=cut, compute_full_tree=True
    ).fit(distance)
    members: dict[int, np.ndarray] = {i: np.array([i]) for i in range(n)}
    for k, (a, b) in enumerate(tree.children_):
        members[n + k] = np.concatenate([members[a], members[b]])
    found: list[tuple[np.ndarray, T]] = []
    pending = [2 * n - 2]  # the root
    while pending:
        node = pending.pop()
        if node < n or len(members[node]) < min_size:
            continue
        if tree.distances_[node - n] <= cut:
            named = accept(present[np.sort(members[node])])
            if named is not None:
                found.append((present[np.sort(members[node])], named))
                continue
        pending.extend(int(child) for child in tree.children_[node - n])
    found.sort(key=lambda pair: (-len(pair[0]), pair[0][0]))
    return found


@dataclass(frozen=True)
class Term:
    """A word a cluster's challenges share: as typed (most common form) and how many use it."""

    word: str
    challenges: int


class TermFinder:
    """The readable words a group of an event's challenges shares and the rest of the event does not.

    Words are the classifier's single-word features (never a character n-gram, never a two-word
    feature). A word must be news for the group, against the catalog (by the members' languages)
    and against the rest of the event; a word of the classifier's `stop_words_` (in the texts of
    half the topics or more: "how", "de") must moreover be news for the whole event. That last
    rule cannot simply drop stop words: "radio" is one (the demo catalog mentions radio under half
    of its topics), yet it is exactly what a cluster of radio questions is about.
    """

    def __init__(
        self,
        classifier: TopicClassifier,
        features: sp.spmatrix,
        background: Background,
        languages: Sequence[str | None],
        texts: Sequence[str] | None = None,
        min_lift: float = MIN_LIFT,
    ):
        n_words = classifier.features_.n_word_features
        self.words = sp.csr_matrix(features)[:, :n_words].tocsr()
        self.names = classifier.feature_names_[:n_words]
        self.languages = np.asarray([code or "" for code in languages], dtype=object)
        self.background = background
        self.texts = texts
        self.min_lift = min_lift
        self.total = _document_counts(self.words)
        expected = background.expected(list(self.languages))[:n_words]
        event_lift = _cautious(self.total) / np.maximum(expected, np.finfo(float).tiny)
        common = np.fromiter((str(name) in classifier.stop_words_ for name in self.names), bool, n_words)
        readable = np.fromiter((" " not in str(name) and not str(name).isdigit() for name in self.names), bool, n_words)
        self.usable = readable & ~(common & (event_lift < min_lift))

    def terms(self, members: np.ndarray, top: int = NAME_TERMS, cautious: bool = True) -> tuple[Term, ...]:
        """The group's best words, best first (none when nothing is shared enough).

        `cautious=False` for a group found by other means (two near-duplicates): their words are
        not discounted for chance, so even a pair can be named by the word it shares.
        """
        ranked = self._ranked(members, top, cautious)
        forms = _surface_forms([self.texts[i] for i in members]) if self.texts is not None else {}
        return tuple(Term(forms.get(str(self.names[j]), str(self.names[j])), count) for j, count in ranked)

    def subject(self, members: np.ndarray, min_size: int) -> tuple[np.ndarray, tuple[Term, ...]] | None:
        """The members that use the group's words, and those words, if the group has a subject.

        It has one when a word is used by at least MIN_DEFINING_SHARE of the group. Members that
        use none of the words go (they joined through a character n-gram or a rarer word), and at
        least `min_size` must stay.
        """
        ranked = self._ranked(members, NAME_TERMS)
        if not ranked or ranked[0][1] < MIN_DEFINING_SHARE * len(members):
            return None
        chosen = [str(self.names[j]) for j, _ in ranked]
        rows = self.words[members]
        used = np.unique(rows.indices)
        columns = [j for j in used if self.usable[j] and any(_variants(str(self.names[j]), word) for word in chosen)]
        uses = members[np.asarray((rows[:, columns] > 0).sum(axis=1)).ravel() > 0]
        if len(uses) < min_size:
            return None
        return uses, self.terms(uses) or self.terms(members)

    def _ranked(self, members: np.ndarray, top: int, cautious: bool = True) -> list[tuple[int, int]]:
        """(word column, members using it) of the group's best words."""
        n_in = len(members)
        n_out = self.words.shape[0] - n_in
        in_counts = _document_counts(self.words[members])
        out_counts = self.total - in_counts
        share_in = in_counts / max(n_in, 1)
        expected_in = self.background.expected(list(self.languages[members]))[: len(self.names)] / max(n_in, 1)
        ordinary = np.maximum((out_counts + 1.0) / (n_out + 1.0), expected_in)
        lift = ((_cautious(in_counts) if cautious else in_counts) / max(n_in, 1)) / ordinary
        candidates = np.flatnonzero(
            self.usable & (share_in >= MIN_NAME_SHARE) & (in_counts >= 2) & (lift >= self.min_lift)
        )
        scores = share_in[candidates] * np.log(lift[candidates])
        chosen: list[tuple[int, int]] = []
        for j in candidates[np.argsort(-scores, kind="stable")]:
            word = str(self.names[j])
            if any(_variants(word, str(self.names[k])) for k, _ in chosen):
                continue  # "station" and "stations": one is enough
            chosen.append((int(j), int(in_counts[j])))
            if len(chosen) == top:
                break
        return chosen


@dataclass(frozen=True)
class Suggestion:
    """A topic the participants brought: its name, members and why it is suggested.

    `reason` says it in English; the fields say it for a translated screen. `key` stays the same
    while the cluster keeps its words, so a dismissed suggestion can stay dismissed as it grows.
    """

    key: str
    name: str
    terms: tuple[str, ...]
    members: tuple[Hashable, ...]
    kind: str  # KIND_UNSURE | KIND_CROWDED
    topic: str  # the topic most members route to now
    topic_name: str
    routed: int  # members routed to `topic`
    unsure: int  # members routed with low confidence
    topic_routed: int  # challenges of the event routed to `topic`
    seats: int  # seats at `topic`'s tables
    counts: tuple[int, ...] = field(default=())  # challenges using each term

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def reason(self) -> str:
        shared = ", ".join(self.terms)
        if self.kind == KIND_UNSURE and self.unsure == self.routed == self.size:
            return f"{self.size} challenges route to '{self.topic_name}' with low confidence and share: {shared}"
        if self.kind == KIND_UNSURE:
            return (
                f"{self.size} challenges share: {shared}; {self.unsure} of them route with low confidence,"
                f" {self.routed} to '{self.topic_name}'"
            )
        return (
            f"{self.size} challenges share: {shared}; '{self.topic_name}' has {self.topic_routed} challenges"
            f" for {self.seats} seats"
        )


class TopicSuggester:
    """Scikit-learn-style: `fit(...)` on an event's challenges, then read `suggestions_`.

    Candidates are the challenges the router is unsure of, and those of topics with more
    challenges than seats; among them, clusters of at least `min_size` that share news words
    become suggestions, biggest first.
    """

    def __init__(
        self,
        min_size: int = MIN_SUGGESTION_SIZE,
        min_lift: float = MIN_LIFT,
        cluster_similarity: float = CLUSTER_SIMILARITY,
        unsure_below: float = UNSURE_BELOW,
    ):
        self.min_size = min_size
        self.min_lift = min_lift
        self.cluster_similarity = cluster_similarity
        self.unsure_below = unsure_below

    def fit(
        self,
        features: sp.spmatrix,
        ids: Sequence[Hashable],
        classifier: TopicClassifier,
        seats: Mapping[str, int],
        background: Background | None = None,
        texts: Sequence[str] | None = None,
        topic_names: Mapping[str, str] | None = None,
        languages: Sequence[str | None] | None = None,
    ) -> TopicSuggester:
        """`features`: the router's rows of the event's active challenges, one per id.

        `seats`: topic id -> seats at its tables in a round (a topic without a table has 0).
        `background`: `background_share(classifier, example_rows)`, computed once per catalog.
        `texts`: the challenges' texts, to name terms as participants typed them ("télévision").
        `languages`: the language each challenge is written in (None: unknown); by default the
        classifier's guess from the features.
        """
        features = sp.csr_matrix(features)
        ids = list(ids)
        if features.shape[0] != len(ids):
            raise ValueError(f"{features.shape[0]} rows of features for {len(ids)} ids.")
        background = background_share(classifier) if background is None else background
        topic_names = dict(topic_names or {})
        if features.shape[0]:
            probabilities = classifier.predict_proba([""] * features.shape[0], features)
            best = probabilities.argmax(axis=1)
            self.topics_ = classifier.topics_[best]
            self.scores_ = probabilities[np.arange(len(best)), best]
        else:
            self.topics_, self.scores_ = np.array([], dtype=object), np.array([])
        routed = Counter(str(topic) for topic in self.topics_)
        crowded = {topic for topic, count in routed.items() if count > seats.get(topic, 0)}
        unsure = self.scores_ < self.unsure_below
        self.candidates_ = unsure | np.isin(self.topics_, sorted(crowded))
        if languages is None:
            languages = classifier.language_profiles_.predict(features)
        rows = news_rows(features, background, languages, self.min_lift)
        finder = TermFinder(classifier, features, background, languages, texts, self.min_lift)
        candidates = np.flatnonzero(self.candidates_)
        suggestions = []
        clusters = cluster_news(
            rows[candidates],
            self.min_size,
            lambda group: finder.subject(candidates[group], self.min_size),
            self.cluster_similarity,
        )
        for _, (members, terms) in clusters:
            topic, in_topic = Counter(str(t) for t in self.topics_[members]).most_common(1)[0]
            n_unsure = int(unsure[members].sum())
            suggestions.append(
                Suggestion(
                    key=suggestion_key(terms),
                    name=" / ".join([_capitalised(terms[0].word), *(term.word for term in terms[1:])]),
                    terms=tuple(term.word for term in terms),
                    members=tuple(ids[i] for i in members),
                    kind=KIND_UNSURE if 2 * n_unsure >= len(members) else KIND_CROWDED,
                    topic=topic,
                    topic_name=topic_names.get(topic, topic),
                    routed=in_topic,
                    unsure=n_unsure,
                    topic_routed=routed[topic],
                    seats=int(seats.get(topic, 0)),
                    counts=tuple(term.challenges for term in terms),
                )
            )
        self.suggestions_ = suggestions
        return self


def suggestion_key(terms: Sequence[Term | str]) -> str:
    """A short stable id from a suggestion's words (the same words in any order, the same key)."""
    folded = sorted(normalize(term.word if isinstance(term, Term) else term) for term in terms)
    return hashlib.sha256("\n".join(folded).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class TopicOverlap:
    """Two topics an organizer may want to tell apart better (their keywords, descriptions)."""

    first: str
    second: str
    first_name: str
    second_name: str
    shared: tuple[str, ...]  # top words both profiles have
    share: float  # len(shared) / the number of top words compared
    similarity: float  # cosine of the two profiles
    torn: int = 0  # challenges (when given) whose two best topics are these two, nearly tied

    @property
    def reason(self) -> str:
        text = f"'{self.first_name}' and '{self.second_name}' share {self.share:.0%} of their top terms"
        if self.shared:
            text += f" ({', '.join(self.shared[:5])})"
        if self.torn:
            text += f"; {self.torn} challenges hesitate between them"
        return text


# Overlap warnings: the 20 heaviest words of each topic's profile are compared. The demo topics,
# which organizers found distinct, share at most one (5 %, "contact" between exit and outreach);
# six in common (30 %) means two topics are largely described with the same words.
OVERLAP_TOP_TERMS = 20
MIN_OVERLAP_SHARE = 0.3
# A challenge "hesitates" between its two best topics when the second has at least this share of
# the first's probability; a pair is flagged when a fifth of what routes to either hesitates.
TORN_RATIO = 0.7
MIN_TORN_SHARE = 0.2
MIN_TORN = 3


def topic_overlaps(
    classifier: TopicClassifier,
    catalog: Catalog,
    features: sp.spmatrix | None = None,
    top: int = OVERLAP_TOP_TERMS,
    min_share: float = MIN_OVERLAP_SHARE,
) -> list[TopicOverlap]:
    """Pairs of active topics whose profiles (or, given challenges' `features`, routes) overlap strongly.

    A topic's top words are its profile's heaviest single-word features, without the classifier's
    stop words (words of half the topics or more). Most overlapping first.
    """
    n_words = classifier.features_.n_word_features
    names = classifier.feature_names_[:n_words]
    usable = np.array([" " not in str(name) and str(name) not in classifier.stop_words_ for name in names])
    profiles = sp.csr_matrix(classifier.profiles_)
    tops: list[list[str]] = []
    for row in range(profiles.shape[0]):
        weights = profiles[row, :n_words].toarray().ravel() * usable
        best = [j for j in np.argsort(-weights, kind="stable")[:top] if weights[j] > 0]
        tops.append([str(names[j]) for j in best])
    similarity = (profiles @ profiles.T).toarray()
    torn = np.zeros_like(similarity, dtype=int)
    routed = np.zeros(len(classifier.topics_), dtype=int)
    if features is not None and features.shape[0]:
        probabilities = classifier.predict_proba([""] * features.shape[0], sp.csr_matrix(features))
        order = np.argsort(-probabilities, axis=1)[:, :2]
        first = probabilities[np.arange(len(order)), order[:, 0]]
        second = probabilities[np.arange(len(order)), order[:, 1]] if order.shape[1] > 1 else first * 0
        routed = np.bincount(order[:, 0], minlength=len(classifier.topics_))
        for (a, b), hesitates in zip(order, second >= TORN_RATIO * first, strict=True):
            if hesitates:
                torn[a, b] += 1
                torn[b, a] += 1
    names_by_id = {topic.id: topic.name for topic in catalog.topics}
    found = []
    for a in range(len(classifier.topics_)):
        for b in range(a + 1, len(classifier.topics_)):
            shared = [word for word in tops[a] if word in set(tops[b])]
            share = len(shared) / max(top, 1)
            hesitating = int(torn[a, b])
            flagged_by_routes = hesitating >= max(MIN_TORN, MIN_TORN_SHARE * min(routed[a], routed[b]))
            if share < min_share and not flagged_by_routes:
                continue
            first, second = str(classifier.topics_[a]), str(classifier.topics_[b])
            found.append(
                TopicOverlap(
                    first=first,
                    second=second,
                    first_name=names_by_id.get(first, first),
                    second_name=names_by_id.get(second, second),
                    shared=tuple(shared),
                    share=round(share, 3),
                    similarity=round(float(similarity[a, b]), 4),
                    torn=hesitating,
                )
            )
    found.sort(key=lambda overlap: (-overlap.share, -overlap.torn, overlap.first, overlap.second))
    return found


def _cautious(counts: np.ndarray) -> np.ndarray:
    """Counts less CAUTION standard deviations of their Poisson noise."""
    return np.maximum(counts - CAUTION * np.sqrt(counts), 0.0)


def _smoothed_share(rows: sp.csr_matrix) -> np.ndarray:
    """The share of rows containing each feature, as if one more row contained every feature."""
    return (_document_counts(rows) + 1.0) / (rows.shape[0] + 1.0)


def _document_counts(rows: sp.csr_matrix) -> np.ndarray:
    """How many rows use each feature."""
    return np.bincount(rows.indices, minlength=rows.shape[1]).astype(float) if rows.nnz else np.zeros(rows.shape[1])


def _surface_forms(texts: Sequence[str]) -> dict[str, str]:
    """Normalised word -> the form participants typed most often (an acronym keeps its capitals)."""
    seen: dict[str, Counter] = {}
    for text in texts:
        typed = words(text)
        folded = words(prepare(text))
        if len(typed) != len(folded):
            folded = [normalize(word) for word in typed]
        for original, key in zip(typed, folded, strict=True):
            seen.setdefault(key, Counter())[original if original.isupper() else original.lower()] += 1
    return {key: forms.most_common(1)[0][0] for key, forms in seen.items()}


def _variants(a: str, b: str) -> bool:
    """Two forms of one word, as far as a name needs to know ("radio", "radios"; "tv" is only "tv")."""
    shorter, longer = sorted((a, b), key=len)
    return longer.startswith(shorter) if len(shorter) >= 4 else a == b


def _capitalised(word: str) -> str:
    return word if word.isupper() else word[:1].upper() + word[1:]
