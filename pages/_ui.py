"""Helpers every screen shares: the process-wide clinic, safe text rendering, query parameters."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

import streamlit as st

from clinic.setup import Clinic

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


@st.cache_resource(show_spinner=False)
def open_clinic() -> Clinic:
    """One engine and one router cache per server process, shared by every browser session."""
    return Clinic.open()


def escape_markdown(text: str) -> str:
    """Text that st.markdown shows literally: no links, no emphasis, no HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def query_value(name: str, limit: int = 64) -> str:
    value = st.query_params.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def participant_link(**params: str) -> str:
    """An absolute link to this page with `params` (e.g. the private ticket link)."""
    try:
        parts = urlsplit(st.context.url or "")
        base = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else ""
    except Exception:  # outside a browser session (AppTest) there is no URL
        base = ""
    return f"{base}?{urlencode(params)}"
