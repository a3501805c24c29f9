"""Text normalisation and offline language detection shared by every matcher.

Normalising once, the same way for catalog keywords and for challenges, is what lets a phone
typed "reunion" meet the keyword "réunion", and "المتاحف" meet "الْمَتَاحِف".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize as l2_normalize

# Arabic letters whose variants people type interchangeably (hamza seats, alef maqsura,
# ta marbuta); folding them costs nothing in meaning for routing and gains a lot in matching.
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": ""})
# Invisible characters nobody means to store. Zero-width joiners (U+200C/U+200D) stay: they join
# emoji sequences (👩🏽‍💻) and shape Persian and Arabic words.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_MARKUP = re.compile(r"<[^>]{0,200}>|&[a-zA-Z#0-9]{1,10};|https?://\S+")
_WORD = re.compile(r"[^\W_]{2,}")
# Every combining mark (accents, Arabic harakat, Hebrew niqqud) maps to nothing: dropping them
# with str.translate runs in C, ten times faster than testing each character's category.
_DROP_MARKS = {cp: None for cp in range(0x0300, 0x10000) if unicodedata.category(chr(cp)) == "Mn"}


def clean_text(text: str) -> str:
    """Remove what a person cannot see: null bytes, control and bidi control characters.

    Applied to what is stored, so the stored text is what the participant saw in the box.
    """
    text = unicodedata.normalize("NFC", text or "")
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


def normalize(text: str) -> str:
    """Fold case, accents, Arabic/Hebrew diacritics and letter variants; drop markup and URLs."""
    text = _MARKUP.sub(" ", clean_text(text))
    folded = text.casefold()
    if folded.isascii():
        return folded
    stripped = unicodedata.normalize("NFKD", folded).translate(_DROP_MARKS)
    return unicodedata.normalize("NFC", stripped).translate(_ARABIC_FOLD)


def words(text: str) -> list[str]:
    """The words of an already normalised text (letters and digits, two or more)."""
    return _WORD.findall(text)


_LETTER = re.compile(r"[^\W\d_]")
_SCRIPTS = {
    "ar": re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]"),
    "he": re.compile(r"[\u0590-\u05ff\ufb1d-\ufb4f]"),
}


def _script_share(text: str, script: re.Pattern) -> float:
    """Share of the letters (in the first 500 characters) written in `script`."""
    if not script.search(text, endpos=500):  # most texts: one fast scan, no counting
        return 0.0
    letters = len(_LETTER.findall(text, endpos=500))
    return len(script.findall(text, endpos=500)) / letters if letters else 0.0


DETECTION_CHARS = 240


class LanguageDetector:
    """Offline language identification restricted to the clinic's languages.

    py3langid's model ships inside the package (nothing is fetched). Arabic and Hebrew are told
    by their script, which is certain even for two words; other short texts are often ambiguous,
    so a guess below `min_probability` is reported as unknown rather than as a wrong language.
    """

    _models: dict[tuple[str, ...], object] = {}  # loading is ~0.7 s: once per language set

    def __init__(self, languages: Sequence[str], min_probability: float = 0.6):
        self.languages = tuple(languages)
        self.min_probability = min_probability

    @classmethod
    def _model(cls, languages: tuple[str, ...]):
        if languages not in cls._models:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            model.set_languages(list(languages))
            cls._models[languages] = model
        return cls._models[languages]

    def load(self) -> LanguageDetector:
        """Load the model now (0.7 s), so that the first participant does not wait for it."""
        self._model(tuple(c for c in self.languages if c not in ("ar", "he")))
        return self

    def detect(self, text: str, guess: str | None = None) -> str | None:
        """The most likely of the clinic's languages, or None when the text does not tell.

        `guess`: a confident answer from `LanguageProfiles`, taken for texts of two words or more
        (it costs nothing; py3langid is asked only when there is no guess).
        """
        text = clean_text(text)
        for code, script in _SCRIPTS.items():
            if code in self.languages and _script_share(text, script) > 0.5:
                return code
        latin = [c for c in self.languages if c not in ("ar", "he")]
        if not latin or len(_WORD.findall(text, endpos=200)) < 2:
            return None
        if guess in latin:
            return guess
        # The first few hundred characters tell the language as well as the whole text does.
        code, probability = self._model(tuple(latin)).classify(text[:DETECTION_CHARS])
        return code if probability >= self.min_probability else None

    def detect_many(self, texts: Iterable[str]) -> list[str | None]:
        return [self.detect(t) for t in texts]


class LanguageProfiles:
    """Tell the clinic's languages apart by the catalog's own texts in each of them.

    The centroid of each language's TF-IDF rows (keywords, translated names, labelled examples)
    is compared with a text's row: on the development set this agrees with py3langid on every
    challenge, at no extra cost, since the router computes those rows anyway. Only a clear
    winner (cosine margin >= `min_margin`) counts; otherwise the answer is None.
    """

    def __init__(self, min_margin: float = 0.1):
        self.min_margin = min_margin

    def fit(self, features: sp.csr_matrix, languages: Sequence[str]) -> LanguageProfiles:
        self.languages_ = sorted(set(languages))
        if len(self.languages_) < 2:
            self.centroids_ = None
            return self
        rows = [self.languages_.index(code) for code in languages]
        membership = sp.csr_matrix(
            (np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(self.languages_), len(rows))
        )
        self.centroids_ = np.ascontiguousarray(l2_normalize(membership @ features).toarray().T)
        return self

    def predict(self, features: sp.csr_matrix) -> list[str | None]:
        if self.centroids_ is None or features.shape[0] == 0:
            return [None] * features.shape[0]
        similarity = np.asarray(features @ self.centroids_)
        order = np.argsort(-similarity, axis=1)
        rows = np.arange(similarity.shape[0])
        margin = similarity[rows, order[:, 0]] - similarity[rows, order[:, 1]]
        return [
            self.languages_[best] if m >= self.min_margin else None for best, m in zip(order[:, 0], margin, strict=True)
        ]
