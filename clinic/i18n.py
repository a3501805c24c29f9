"""Participant-facing words, one YAML file per language in data/i18n/, and which language to speak.

English is complete and is the fallback for a key another language lacks, so a missing
translation shows English rather than a raw key (tests/clinic/test_i18n.py makes sure none is
missing). No Streamlit here: the page passes in what the browser said.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import yaml

from clinic.errors import Rejected

I18N_FOLDER = Path(__file__).resolve().parent.parent / "data" / "i18n"
FALLBACK_LANGUAGE = "en"

# Digit grouping as each language writes it ("2,000", "2 000", "2.000"). Arabic keeps the digits
# 0-9 the clinic's tables and tickets use, so a table number reads the same on the card and the sign.
THOUSANDS_SEPARATORS = {"fr": "\u202f", "sv": "\u00a0", "es": "."}

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?=$|[-_])")


@cache
def messages(language: str) -> dict[str, str]:
    """Every key of one language file (empty if the language has none)."""
    path = I18N_FOLDER / f"{language}.yaml"
    if not path.exists():
        return {}
    return {str(k): str(v) for k, v in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items()}


def shipped_languages() -> tuple[str, ...]:
    """Languages that have a translation file, English first."""
    others = sorted(path.stem for path in I18N_FOLDER.glob("*.yaml") if path.stem != FALLBACK_LANGUAGE)
    return (FALLBACK_LANGUAGE, *others)


def placeholders(text: str) -> set[str]:
    """The {names} a message expects to be filled in."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def translate(language: str | None, key: str, /, **params: object) -> str:
    """The message `key` in `language` (else English), filled in with `params`.

    Positional-only, so that a message may itself have a `{language}` or `{key}` placeholder.
    """
    text = messages(language or FALLBACK_LANGUAGE).get(key) or messages(FALLBACK_LANGUAGE).get(key, key)
    if not params:
        return text
    return text.format(**{name: format_number(value, language) for name, value in params.items()})


def format_number(value: object, language: str | None) -> object:
    """Whole numbers grouped as `language` groups them; anything else unchanged."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return f"{value:,}".replace(",", THOUSANDS_SEPARATORS.get(language or "", ","))


def explain(language: str | None, error: Rejected) -> str:
    """A refusal in the participant's language; the use case's English sentence if no key names it."""
    key = f"error.{error.code}"
    if key not in messages(FALLBACK_LANGUAGE):
        return error.message
    return translate(language, key, **error.details)


def normalize_language(tag: str | None) -> str:
    """'fr-CA' -> 'fr', 'HE' -> 'he'; '' for anything that is not a language tag."""
    match = _LANGUAGE_TAG.match((tag or "").strip())
    return match.group(0).lower() if match else ""


def preferred_languages(accept_language: str | None) -> list[str]:
    """The languages of an Accept-Language header, most wanted first ('he-IL,he;q=0.9,en;q=0.5' -> he, en)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = normalize_language(tag)
        if code and quality > 0:
            ranked.append((-quality, position, code))
    return list(dict.fromkeys(code for _, _, code in sorted(ranked)))


def choose_language(
    offered: Sequence[str],
    *,
    requested: str | None = None,
    remembered: str | None = None,
    accept_language: str | None = None,
    browser_locale: str | None = None,
    default: str | None = None,
) -> str:
    """The first of these the clinic offers: ?lang=, this session's choice, the browser's, the event's default."""
    candidates: Iterable[str] = (
        normalize_language(requested),
        normalize_language(remembered),
        *preferred_languages(accept_language),
        normalize_language(browser_locale),
        normalize_language(default),
    )
    return next((code for code in candidates if code in offered), offered[0] if offered else FALLBACK_LANGUAGE)
