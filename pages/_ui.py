"""Helpers every screen shares: the process-wide clinic, safe text rendering, query parameters."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import streamlit as st
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from clinic import access
from clinic.i18n import translate
from clinic.setup import Clinic

# `&` too: "&lt;i&gt;" must not come out as "<i>" (shown as text, but not as typed).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")

# The database out of reach: refused or dropped connections, a missing SQLite folder, a full pool.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)
# The participant's draft (and edit): kept through a run that fails before the form is drawn again.
DRAFT_KEYS = ("challenge_text", "languages", "languages_touched", "participant_name", "edit_text", "edit_languages")

log = logging.getLogger("peer_clinic")


@st.cache_resource(show_spinner=False)
def open_clinic() -> Clinic:
    """One engine and one router cache per server process, shared by every browser session.

    Opening also makes sure the staff passcodes exist and prints them (once per process).
    """
    clinic = Clinic.open()
    access.ensure_passcodes(clinic.engine, configured_passcodes())
    return clinic


def configured_passcodes() -> dict[str, str]:
    """Passcodes chosen in .streamlit/secrets.toml (`facilitator_passcode`, `organizer_passcode`), if any."""
    chosen = {}
    for role in access.ROLES:
        key = access.secrets_key(role)
        try:
            value = st.secrets.get(key)
        except Exception:  # no secrets file, or one that does not parse: nothing chosen there
            return {}
        if value:
            chosen[key] = str(value)
    return chosen


def escape_markdown(text: str) -> str:
    """Text that st.markdown shows literally: no links, no emphasis, no HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


@contextmanager
def explained_outages() -> Iterator[None]:
    """Run a screen (or a live fragment); if the database is out of reach, say so in the reader's
    language with a button to try again, instead of Streamlit's redacted exception box.

    Nothing is lost: a submission either committed or did not, and the participant's draft is kept
    (`keep_draft`). Only the error's class is logged: its message can hold a host or a user name.
    """
    try:
        yield
    except DATABASE_UNREACHABLE as error:
        log.warning("database unreachable (%s); the screen asked to try again", type(error).__name__)
        language = st.session_state.get("lang") or query_value("lang", 16) or None
        st.error(translate(language, "error.database_unreachable"))
        st.button(translate(language, "error.try_again"), key="peer_clinic_try_again", icon=":material/refresh:")


def keep_draft() -> None:
    """Keep what the participant typed even through a run that fails before the form is drawn.

    Streamlit forgets a widget's value after a run that did not draw it; writing the value back
    through session_state keeps it (Streamlit's documented way to carry widget values over).
    """
    for key in DRAFT_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def query_value(name: str, limit: int = 64) -> str:
    value = st.query_params.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


PUBLIC_URL_VARIABLE = "PEER_CLINIC_PUBLIC_URL"


def app_base_url() -> str:
    """Where phones reach the app: PEER_CLINIC_PUBLIC_URL (set it behind a reverse proxy, e.g.
    https://clinic.example.org/), else the address this browser used, else "" (AppTest)."""
    configured = os.environ.get(PUBLIC_URL_VARIABLE, "").strip()
    if configured:
        return configured.rstrip("/")
    try:
        parts = urlsplit(st.context.url or "")
    except Exception:  # outside a browser session (AppTest) there is no URL
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def participant_link(**params: str) -> str:
    """An absolute link to the participant page with `params` (e.g. the private ticket link)."""
    return f"{app_base_url()}/?{urlencode(params)}"


def current_event() -> dict:
    """The event a staff screen works on: ?event=CODE, else the one chosen before, else the newest."""
    clinic = open_clinic()
    code = query_value("event") or st.session_state.get("event_code", "")
    event = clinic.event(code) if code else None
    if event is None:
        event = clinic.default_event()
    if event is None:
        st.error("There is no clinic in this database yet.")
        st.stop()
    st.session_state.event_code = event["code"]
    return event


def join_link(event_code: str) -> str:
    """The link participants open (and the projector's QR code encodes)."""
    return participant_link(event=event_code)


def browser_language() -> tuple[str | None, str | None]:
    """What the browser prefers: its Accept-Language header and its navigator.language (None if unknown)."""
    try:
        header = st.context.headers.get("Accept-Language")
    except Exception:  # outside a browser session (AppTest) there are no headers
        header = None
    try:
        locale = st.context.locale
    except Exception:
        locale = None
    return header, locale


# Fixed stylesheets: nothing a participant typed ever goes into them (their words stay in st.text and
# in widgets). What participants type (text areas, inputs, their challenge on the card) and the
# event's title take their direction from their own first letters, so Arabic on an English page and
# English on a Hebrew page both read naturally. Streamlit's keyboard hint ("Press Enter to apply") is
# English only and means nothing on a phone: it goes, the character count after it stays.
_PARTICIPANT_TEXT_CSS = """
[data-testid="stMainBlockContainer"] textarea,
[data-testid="stMainBlockContainer"] input[type="text"],
.st-key-answer_card [data-testid="stText"] > *,
.st-key-event_title p { unicode-bidi: plaintext; text-align: start; }
[data-testid="InputInstructions"] > span:first-child:not(:last-child) { display: none; }
[data-testid="InputInstructions"] > span:last-child::before { content: none; }
"""
# Right to left, the main column, the language list and the tooltips flip (Streamlit aligns each
# element left, hence `start`), the expanders' arrows point the reading way, the chosen languages'
# remove buttons keep their gap on the text's side, and the ticket link, a URL, stays left to right.
_RIGHT_TO_LEFT_CSS = """
[data-testid="stMainBlockContainer"] { direction: rtl; }
[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"] { text-align: start; }
[data-testid="stMainBlockContainer"] [data-testid="stCode"] { direction: ltr; text-align: left; }
[data-testid="stMultiSelectDropdown"], [data-testid="stTooltipContent"] { direction: rtl; text-align: right; }
[data-testid="stExpander"] summary [data-testid="stIconMaterial"] { transform: scaleX(-1); }
[data-testid="stMultiSelect"] [data-tag] { margin-right: 0; margin-left: 0.25rem; }
[data-testid="stMultiSelect"] [data-tag] > button { padding-left: 0; padding-right: 0.5rem; }
"""


def text_direction(direction: str) -> None:
    """Lay the participant page out for `direction` ('ltr' or 'rtl', as the catalog's languages say)."""
    css = _PARTICIPANT_TEXT_CSS + (_RIGHT_TO_LEFT_CSS if direction == "rtl" else "")
    st.html(f"<style>{css}</style>")
