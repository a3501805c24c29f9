from matching.text import LanguageDetector, clean_text, normalize, words


def test_normalize_folds_case_accents_and_arabic_hebrew_marks():
    assert normalize("Réunion ÉCOLE") == "reunion ecole"
    assert normalize("الْمَتَاحِف") == normalize("المتاحف")
    assert normalize("أإآ ى ة") == "ااا ي ه"
    assert normalize("שָׁלוֹם") == "שלום"


def test_normalize_drops_markup_and_urls_but_keeps_words():
    assert words(normalize("<b>museum</b> see https://example.org/x &amp; more")) == ["museum", "see", "more"]


def test_clean_text_removes_invisible_characters_only():
    assert clean_text("a\x00b\u200fc\x07 d\r\ne") == "abc d\ne"
    assert clean_text("  مرحبا 😀  ") == "مرحبا 😀"


def test_detector_uses_script_for_arabic_and_hebrew_even_when_short():
    detector = LanguageDetector(["en", "fr", "es", "ar", "sv", "he"])
    assert detector.detect("متحف") == "ar"
    assert detector.detect("מוזיאון") == "he"


def test_detector_tells_latin_languages_apart_and_abstains_when_unsure():
    detector = LanguageDetector(["en", "fr", "es", "ar", "sv", "he"])
    assert detector.detect("Comment convaincre le musée de travailler avec nous ?") == "fr"
    assert detector.detect("¿Cómo encontramos socios para nuestro proyecto?") == "es"
    assert detector.detect("Hur hittar vi samarbetspartner till projektet?") == "sv"
    assert detector.detect("How do we find partners for our project?") == "en"
    assert detector.detect("ok") is None
    assert detector.detect("") is None


def test_detector_only_answers_with_the_clinic_languages():
    detector = LanguageDetector(["en", "fr"])
    assert detector.detect("Wie finden wir Partner für unser Projekt in der Stadt?") in ("en", "fr", None)
    assert detector.detect("متحف") is None


def test_language_profiles_agree_with_the_labels_of_the_development_set(router):
    import csv
    from pathlib import Path

    rows = [
        row
        for path in sorted((Path(__file__).resolve().parents[2] / "data" / "dev").glob("*.csv"))
        for row in csv.DictReader(path.open(encoding="utf-8"))
    ]
    routes = router.route([row["text"] for row in rows])
    agreeing = sum(route.detected_language == row["language"] for route, row in zip(routes, rows, strict=True))
    assert agreeing / len(rows) >= 0.98


def test_language_profiles_abstain_without_a_clear_winner():
    import scipy.sparse as sp

    from matching.text import LanguageProfiles

    features = sp.csr_matrix([[1.0, 0.0], [0.0, 1.0]])
    profiles = LanguageProfiles().fit(features, ["en", "fr"])
    assert profiles.predict(sp.csr_matrix([[1.0, 0.0], [0.7, 0.7], [0.0, 0.0]])) == ["en", None, None]
