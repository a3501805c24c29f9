"""Participant screen: write a challenge, get a table, an expert and a language; edit or withdraw."""

import streamlit as st
from sqlalchemy.exc import OperationalError

from clinic import participants
from clinic.errors import Rejected
from clinic.i18n import translate
from matching.limits import MAX_CHALLENGE_CHARS, MAX_NAME_CHARS
from pages._cards import render_answer
from pages._ui import escape_markdown, open_clinic, participant_link, query_value

clinic = open_clinic()
state = st.session_state
default_event = clinic.default_event()
event_code = query_value("event") or state.get("event_code") or (default_event or {}).get("code", "")
event = clinic.event(event_code)
lang = query_value("lang", 8) or state.get("lang") or (event or {}).get("default_language", "en")
state.lang = lang


def t(key: str, **params) -> str:
    # Formatted here, not by translate(): its first parameter is called `language`, and so is
    # the parameter of "card.in_language" (passing it through raised a TypeError on every card).
    text = translate(lang, key)
    return text.format(**params) if params else text


if event is None:
    st.error(t("error.unknown_event"))
    st.stop()
state.event_code = event["code"]
st.caption(escape_markdown(event["title"]))
st.markdown(f"## {escape_markdown(t('page.title'))}")

languages = participants.event_languages(clinic, event_code)
native = {language.code: language.native_name for language in languages}
ticket = participants.normalize_ticket(query_value("ticket", 40) or state.get("ticket", ""))


def show_error(error: Rejected) -> None:
    st.error(t(f"error.{error.code}", **error.details) if error.details else t(f"error.{error.code}"))


def remember(ticket_code: str) -> None:
    state.ticket = ticket_code
    st.query_params.update({"event": event["code"], "ticket": ticket_code})


def preselect_languages() -> None:
    """Tick the language the challenge is written in, unless the participant already chose."""
    if state.get("languages_touched"):
        return
    detected = participants.detect_language(clinic, event_code, state.get("challenge_text", ""))
    if detected:
        state.languages = [detected]


if ticket:
    try:
        answer = participants.answer_for_ticket(clinic, ticket)
    except Rejected as error:
        show_error(error)
        state.pop("ticket", None)
        st.query_params.pop("ticket", None)
        if st.button(t("new.submit_another")):
            st.rerun()
        st.stop()
    remember(answer.ticket)
    if "flash" in state:
        st.success(state.pop("flash"))
    link = participant_link(event=answer.event_code, ticket=answer.ticket, lang=lang)
    render_answer(answer, t, participants.topic_names(clinic, event_code, lang), native, link)
    if answer.status in ("withdrawn", "done"):
        if st.button(t("new.submit_another"), type="primary"):
            state.pop("ticket", None)
            st.query_params.pop("ticket", None)
            st.rerun()
        st.stop()
    with st.expander(t("edit.title")), st.form("edit"):
        new_text = st.text_area(t("form.challenge"), value=answer.text, max_chars=MAX_CHALLENGE_CHARS, height=140)
        new_languages = st.multiselect(
            t("form.languages"), list(native), default=list(answer.languages), format_func=native.get
        )
        if st.form_submit_button(t("edit.save"), type="primary"):
            try:
                participants.edit_challenge(clinic, answer.ticket, new_text, new_languages)
                state.flash = t("edit.saved")
                st.rerun()
            except Rejected as error:
                show_error(error)
    with st.expander(t("withdraw.title")):
        st.write(t("withdraw.confirm_text"))
        if st.button(t("withdraw.confirm"), key="withdraw"):
            participants.withdraw_challenge(clinic, answer.ticket)
            st.rerun()
    st.stop()

st.write(t("page.intro"))
if "submission_key" not in state:
    state.submission_key = participants.new_submission_key()
st.text_area(
    t("form.challenge"),
    key="challenge_text",
    max_chars=MAX_CHALLENGE_CHARS,
    height=150,
    placeholder=t("form.challenge_placeholder"),
    help=t("form.challenge_help", limit=MAX_CHALLENGE_CHARS),
    on_change=preselect_languages,
)
st.multiselect(
    t("form.languages"),
    list(native),
    key="languages",
    format_func=native.get,
    help=t("form.languages_help"),
    on_change=lambda: state.update(languages_touched=True),
)
st.text_input(t("form.name"), key="participant_name", max_chars=MAX_NAME_CHARS)
if st.button(t("form.submit"), type="primary", use_container_width=True):
    try:
        answer = participants.submit_challenge(
            clinic,
            event_code,
            state.get("challenge_text", ""),
            state.get("languages") or [],
            state.get("participant_name", ""),
            submission_key=state.submission_key,
        )
    except Rejected as error:
        show_error(error)
    except OperationalError:
        st.error(t("error.unavailable"))
    else:
        for key in ("submission_key", "challenge_text", "languages", "languages_touched", "participant_name"):
            state.pop(key, None)
        remember(answer.ticket)
        st.rerun()

with st.expander(t("form.have_ticket")), st.form("open_ticket", border=False):
    code = st.text_input(t("form.ticket"), max_chars=20)
    if st.form_submit_button(t("form.open_ticket")):
        remember(participants.normalize_ticket(code))
        st.rerun()
