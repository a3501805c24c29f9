"""Translations (data/i18n) and the choice of a participant's language (clinic.i18n)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from clinic.errors import Rejected
from clinic.i18n import (
    FALLBACK_LANGUAGE,
    I18N_FOLDER,
    choose_language,
    explain,
    messages,
    placeholders,
    preferred_languages,
    shipped_languages,
    translate,
)
from matching import load_catalog
from matching.router import TRIAGE_REASONS

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_catalog(ROOT / "data" / "demo")
CLINIC_LANGUAGES = [language.code for language in DEMO.languages]
TRANSLATED = [code for code in CLINIC_LANGUAGES if code != FALLBACK_LANGUAGE]
ENGLISH = messages(FALLBACK_LANGUAGE)
# Where the English is also right: French says "Table 4" too, and most languages list with ", ".
SAME_AS_ENGLISH = {("fr", "card.table")} | {(code, "list.separator") for code in TRANSLATED}
# The screens that speak to participants, and the modules whose refusals they show.
PARTICIPANT_PAGES = [ROOT / "pages" / "submit.py", ROOT / "pages" / "_cards.py"]
PARTICIPANT_USE_CASES = [ROOT / "clinic" / "participants.py"]


def test_the_clinic_languages_are_the_shipped_ones():
    assert CLINIC_LANGUAGES == ["en", "fr", "es", "ar", "sv", "he"]
    assert sorted(shipped_languages()) == sorted(CLINIC_LANGUAGES)


@pytest.mark.parametrize("language", CLINIC_LANGUAGES)
def test_a_language_file_is_a_flat_map_of_non_empty_strings(language: str):
    raw = yaml.safe_load((I18N_FOLDER / f"{language}.yaml").read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    bad = [key for key, value in raw.items() if not isinstance(key, str) or not isinstance(value, str) or not value]
    assert not bad, f"{language}.yaml: these keys are not non-empty strings: {bad}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_english_key_is_translated(language: str):
    missing = [key for key in ENGLISH if key not in messages(language)]
    assert not missing, f"{language}.yaml lacks {len(missing)} key(s) of en.yaml: {', '.join(missing)}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_language_has_keys_english_lacks(language: str):
    extra = [key for key in messages(language) if key not in ENGLISH]
    assert not extra, f"{language}.yaml has key(s) en.yaml does not: {', '.join(extra)}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_are_kept(language: str):
    changed = {
        key: (sorted(placeholders(english)), sorted(placeholders(messages(language)[key])))
        for key, english in ENGLISH.items()
        if key in messages(language) and placeholders(english) != placeholders(messages(language)[key])
    }
    assert not changed, f"{language}.yaml changes placeholders (English, {language}): {changed}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_nothing_is_left_in_english(language: str):
    same = [key for key, text in messages(language).items() if text == ENGLISH[key]]
    assert not [key for key in same if (language, key) not in SAME_AS_ENGLISH], f"{language}: still English: {same}"


def string_arguments(path: Path, function: str) -> set[str]:
    """The literal first arguments of calls to `function` in a module (f-strings: their literal head)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        first = node.args[0]
        if name != function:
            continue
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.add(first.value)
        elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
            found.add(first.values[0].value + "*")
    return found


def test_every_key_the_participant_screens_use_exists():
    used = {key for page in PARTICIPANT_PAGES for key in string_arguments(page, "t")}
    assert used, "the pages call t('...')"
    missing = [
        key
        for key in used
        if (key.endswith("*") and not any(k.startswith(key[:-1]) for k in ENGLISH))
        or (not key.endswith("*") and key not in ENGLISH)
    ]
    assert not missing, f"pages use keys en.yaml lacks: {missing}"


def test_every_refusal_a_participant_can_meet_has_a_message():
    codes = {code for module in PARTICIPANT_USE_CASES for code in string_arguments(module, "Rejected")}
    assert {"empty", "too_long", "no_language", "unknown_ticket", "not_editable", "closed"} <= codes
    missing = sorted(code for code in codes if f"error.{code}" not in ENGLISH)
    assert not missing, f"en.yaml has no error.<code> for: {missing}"


def test_every_triage_reason_and_confidence_level_has_words():
    keys = [f"card.triage.{reason}" for reason in TRIAGE_REASONS]
    keys += [f"confidence.{level}" for level in ("high", "medium", "low")]
    assert not [key for key in keys if key not in ENGLISH]


def test_a_message_may_have_a_placeholder_called_language():
    assert translate("fr", "card.in_language", language="Español") == "en Español"
    assert translate("ar", "card.in_language", language="Français") == "لغة الحوار: Français"


def test_a_missing_key_or_language_falls_back_to_english():
    assert translate("de", "form.submit") == ENGLISH["form.submit"]
    assert translate(None, "form.submit") == ENGLISH["form.submit"]
    assert translate("fr", "no.such.key") == "no.such.key"


@pytest.mark.parametrize(
    "language, grouped", [("en", "100,000"), ("fr", "100\u202f000"), ("es", "100.000"), ("ar", "100,000")]
)
def test_numbers_are_grouped_as_each_language_writes_them(language: str, grouped: str):
    assert grouped in translate(language, "error.too_long", length=100_000, limit=2000)


def test_a_refusal_is_explained_in_the_participants_language():
    error = Rejected("too_long", "Your challenge is 2,500 characters long.", length=2500, limit=2000)
    assert explain("sv", error) == "Din utmaning är 2\u00a0500 tecken lång; korta den till 2\u00a0000."
    assert explain("he", Rejected("empty", "Please write")) == messages("he")["error.empty"]


def test_a_refusal_without_words_keeps_the_use_cases_sentence():
    assert explain("fr", Rejected("brand_new_code", "Something new went wrong.")) == "Something new went wrong."


@pytest.mark.parametrize(
    "header, expected",
    [
        ("he-IL,he;q=0.9,en-US;q=0.8,en;q=0.7", ["he", "en"]),
        ("en;q=0.5, ar-EG", ["ar", "en"]),
        ("fr-CA, *;q=0.1", ["fr"]),
        ("sv;q=0, es", ["es"]),
        ("de;q=abc, es", ["es"]),
        ("", []),
        (None, []),
    ],
)
def test_accept_language_is_read_best_first(header, expected):
    assert preferred_languages(header) == expected


OFFERED = CLINIC_LANGUAGES


@pytest.mark.parametrize(
    "given, expected",
    [
        ({"requested": "ar", "remembered": "fr", "accept_language": "he", "default": "en"}, "ar"),
        ({"requested": "AR-eg"}, "ar"),
        ({"requested": "de", "remembered": "fr", "accept_language": "he"}, "fr"),
        ({"accept_language": "de-DE,de;q=0.9,sv;q=0.8", "browser_locale": "es", "default": "en"}, "sv"),
        ({"accept_language": "de-DE", "browser_locale": "he-IL", "default": "en"}, "he"),
        ({"accept_language": "de-DE", "default": "fr"}, "fr"),
        ({"requested": "../../etc/passwd"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_is_the_first_the_clinic_offers_of_link_session_browser_default(given, expected):
    assert choose_language(OFFERED, **given) == expected


def test_only_the_clinics_languages_are_chosen():
    assert choose_language(["fr", "es"], requested="he", accept_language="he,en") == "fr"


def test_no_translation_carries_markup_or_html():
    """Messages are escaped for Markdown by the page; none should need HTML or links to read well."""
    for language in CLINIC_LANGUAGES:
        suspicious = {k: v for k, v in messages(language).items() if re.search(r"<[a-z/]|\]\(|\*\*", v)}
        assert not suspicious, f"{language}: {suspicious}"
