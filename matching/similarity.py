"""Which challenges of an event ask about the same thing: cosine similarity of the router's TF-IDF rows.

The rows are the ones the router already computes (`router.classifier_.transform(texts)`: word 1-2-grams
and character 4-grams, l2-normalised), so a cosine is a dot product. Across languages, two challenges
meet only through what their texts share: words that fold to the same form ("radio"; "télévision",
"televisión" and "television" all become "television") and character 4-grams of related words
("partenariat", "partnership"). Nothing translates: "emisora" and "station" do not meet, and an Arabic
or Hebrew challenge meets only challenges in the same script.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import AgglomerativeClustering

# Two challenges are "similar" from this cosine on. Chosen on the two development sets (data/dev and
# data/dev2: 288 challenges each, six languages, eight topics) with 30 planted radio/TV challenges
# (data/synthetic), in the feature space of the router fitted on the shipped 2,400 samples: at 0.235,
# 67 % of the planted challenges find another planted one, while 7.6 % (dev) and 6.2 % (dev2) of the
# development challenges, which are all different questions, have any "similar" partner. At 0.20 a
# fifth to a quarter would; at 0.25 only half the planted ones find each other. The features depend
# on the training texts: when the samples change, tests/matching/test_similarity.py says whether
# this still holds.
MIN_SIMILARITY = 0.235

# How many similar challenges a participant or a facilitator is shown at most.
DEFAULT_NEIGHBOURS = 3


@dataclass(frozen=True)
class Neighbour:
    """Another challenge, and how similar it is (cosine, 0..1)."""

    id: Hashable
    similarity: float


class SimilarChallenges:
    """Scikit-learn-style index of an event's challenges: `fit(features, ids)`, then ask.

    `neighbours(id)` gives the most similar other challenges of the event (never itself), `query`
    the most similar ones for texts that are not in the index (a submission being typed). Every
    pair's similarity is one number, the same read from either side.
    """

    def __init__(self, k: int = DEFAULT_NEIGHBOURS, min_similarity: float = MIN_SIMILARITY):
        self.k = k
        self.min_similarity = min_similarity

    def fit(self, features: sp.spmatrix, ids: Sequence[Hashable]) -> SimilarChallenges:
        """Index the challenges: one l2-normalised TF-IDF row per id (e.g. the active ones only)."""
        features = sp.csr_matrix(features)
        ids = list(ids)
        if features.shape[0] != len(ids):
            raise ValueError(f"{features.shape[0]} rows of features for {len(ids)} ids.")
        if len(set(ids)) != len(ids):
            raise ValueError("Challenge ids must be unique.")
        self.features_ = features
        self.ids_ = ids
        self.index_ = {challenge_id: i for i, challenge_id in enumerate(ids)}
        # Features by column, so a query row meets every indexed challenge in one sparse product
        # (a tenth of a millisecond among 2,000, against three for the row-major product).
        self.by_feature_ = features.T.tocsr()
        self.similarity_ = _similar_pairs(features, self.min_similarity)
        return self

    # -- within the event ---------------------------------------------------------------------
    def neighbours(self, challenge_id: Hashable, k: int | None = None) -> tuple[Neighbour, ...]:
        """The other challenges most similar to this one, most similar first (at most k)."""
        i = self.index_[challenge_id]
        start, end = self.similarity_.indptr[i], self.similarity_.indptr[i + 1]
        return self._best(self.similarity_.indices[start:end], self.similarity_.data[start:end], k)

    def all_neighbours(self, k: int | None = None) -> dict[Hashable, tuple[Neighbour, ...]]:
        """`neighbours` of every indexed challenge that has any."""
        found = {challenge_id: self.neighbours(challenge_id, k) for challenge_id in self.ids_}
        return {challenge_id: near for challenge_id, near in found.items() if near}

    def similarity(self, a: Hashable, b: Hashable) -> float:
        """The cosine of two indexed challenges (0 below the threshold, and for a challenge with itself)."""
        return float(self.similarity_[self.index_[a], self.index_[b]])

    def pairs(self) -> list[tuple[Hashable, Hashable, float]]:
        """Every similar pair once, (earlier id, later id, similarity), most similar first."""
        upper = sp.triu(self.similarity_, k=1).tocoo()
        order = np.lexsort((upper.col, upper.row, -upper.data))
        return [(self.ids_[upper.row[j]], self.ids_[upper.col[j]], float(upper.data[j])) for j in order]

    def groups(self, min_size: int = 2) -> list[tuple[Hashable, ...]]:
        """Challenges that ask about the same thing, for the board: biggest group first.

        Average linkage: a group's challenges are similar on average (above the threshold), so a
        chain of pairwise resemblances (radio, then radio archives, then archives) does not glue
        unrelated questions together. Only challenges with a similar partner can be in a group,
        so only those are clustered: a few dozen rows even when the event has hundreds.
        """
        linked = np.flatnonzero(np.diff(self.similarity_.indptr) > 0)
        if len(linked) < max(min_size, 2):
            return []
        similarity = self.similarity_[linked][:, linked].toarray()
        # Only rows in one connected component can share a group: cluster each component apart.
        _, component = connected_components(similarity > 0, directed=False)
        found: list[tuple[Hashable, ...]] = []
        for c in np.unique(component):
            rows = np.flatnonzero(component == c)
            if len(rows) < max(min_size, 2):
                continue
            labels = _average_linkage(similarity[np.ix_(rows, rows)], self.min_similarity)
            for label in np.unique(labels):
                members = rows[labels == label]
                if len(members) >= min_size:
                    found.append(tuple(self.ids_[linked[m]] for m in members))
        found.sort(key=lambda group: (-len(group), self.index_[group[0]]))
        return found

    # -- texts not in the index ------------------------------------------------------------
    def query(
        self, features: sp.spmatrix, k: int | None = None, exclude: Collection[Hashable] = ()
    ) -> list[tuple[Neighbour, ...]]:
        """For each row (a text not indexed), the most similar indexed challenges, best first.

        `exclude`: ids never to return (e.g. the asker's own challenge).
        """
        scores = sp.csr_matrix(sp.csr_matrix(features) @ self.by_feature_)
        skip = {self.index_[challenge_id] for challenge_id in exclude if challenge_id in self.index_}
        found = []
        for i in range(scores.shape[0]):
            start, end = scores.indptr[i], scores.indptr[i + 1]
            columns, values = scores.indices[start:end], scores.data[start:end]
            keep = values >= self.min_similarity
            if skip:
                keep &= ~np.isin(columns, list(skip))
            found.append(self._best(columns[keep], values[keep], k))
        return found

    def _best(self, columns: np.ndarray, values: np.ndarray, k: int | None) -> tuple[Neighbour, ...]:
        k = self.k if k is None else k
        order = np.lexsort((columns, -values))[:k]  # ties: the earlier challenge first
        return tuple(Neighbour(self.ids_[columns[j]], round(float(values[j]), 4)) for j in order)


def _similar_pairs(features: sp.csr_matrix, min_similarity: float) -> sp.csr_matrix:
    """Cosines of all pairs at or above the threshold, symmetric, with an empty diagonal."""
    if features.shape[0] == 0:
        return sp.csr_matrix((0, 0))
    product = sp.csr_matrix(features @ features.T)
    # A sparse product may add the same terms in another order for (i, j) and (j, i): average the
    # two, so a pair's similarity is exactly the same read from either side.
    product = sp.csr_matrix((product + product.T) / 2)
    product.setdiag(0)
    product.data[product.data < min_similarity] = 0
    product.eliminate_zeros()
    product.sort_indices()
    return product


def _average_linkage(similarity: np.ndarray, min_similarity: float) -> np.ndarray:
    """Cluster labels: average-linkage groups whose mean pairwise cosine stays >= `min_similarity`."""
    distance = 1.0 - similarity
    np.fill_diagonal(distance, 0.0)
    model = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0 - min_similarity
    )
    return model.fit_predict(np.clip(distance, 0.0, None))
