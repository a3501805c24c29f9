"""Participant-facing words, one YAML file per language in data/i18n/.

English is complete and is the fallback for a key another language lacks, so a missing
translation shows English rather than a raw key.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

I18N_FOLDER = Path(__file__).resolve().parent.parent / "data" / "i18n"
FALLBACK_LANGUAGE = "en"


@cache
def messages(language: str) -> dict[str, str]:
    path = I18N_FOLDER / f"{language}.yaml"
    if not path.exists():
        return {}
    return {str(k): str(v) for k, v in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items()}


def translate(language: str | None, key: str, **params: object) -> str:
    text = messages(language or FALLBACK_LANGUAGE).get(key) or messages(FALLBACK_LANGUAGE).get(key, key)
    return text.format(**params) if params else text
