"""Participant screen: write a challenge, get a table, an expert and a language; edit or withdraw.

Spoken in the participant's language (?lang=, else the browser's, else the event's default), right
to left for Arabic and Hebrew.
"""

import streamlit as st

from clinic import emergent, participants
from clinic.errors import Rejected
from clinic.i18n import choose_language, explain, translate
from matching.limits import MAX_CHALLENGE_CHARS, MAX_NAME_CHARS
from pages._cards import render_answer
from pages._ui import (
    DATABASE_UNREACHABLE,
    browser_language,
    escape_markdown,
    explained_outages,
    keep_draft,
    open_clinic,
    participant_link,
    query_value,
    text_direction,
)

keep_draft()  # before the first read: if the database is out of reach, what was typed stays
# Read inside the guard: with the database out of reach the page says so and offers to try again,
# also where Streamlit runs this page without app.py around it (its legacy pages/ mode, AppTest).
with explained_outages():
    clinic = open_clinic()
    state = st.session_state
    default_event = clinic.default_event()
    event_code = query_value("event") or state.get("event_code") or (default_event or {}).get("code", "")
    event = clinic.event(event_code)

    # The languages on offer are the event's (or, for a link that leads to no event, the default event's).
    shown_event = event or default_event or {}
    languages = participants.event_languages(clinic, shown_event["code"]) if shown_event else ()
    native = {language.code: language.native_name for language in languages}
    accept_language, browser_locale = browser_language()
    lang = choose_language(
        list(native),
        requested=query_value("lang", 16),
        remembered=state.get("lang"),
        accept_language=accept_language,
        browser_locale=browser_locale,
        default=shown_event.get("default_language"),
    )
    state.lang = lang

    def t(key: str, **params) -> str:
        return translate(lang, key, **params)

    def switch_language() -> None:
        chosen = state.get("language_switch")
        if chosen:  # clicking the language already chosen deselects it: keep it
            state.lang = chosen
            st.query_params["lang"] = chosen

    text_direction(next((language.direction for language in languages if language.code == lang), "ltr"))
    if len(native) > 1:
        state.language_switch = lang
        st.pills(
            t("language.label"),
            list(native),
            format_func=native.get,
            key="language_switch",
            on_change=switch_language,
            label_visibility="collapsed",
        )

    if event is None:
        st.error(t("error.unknown_event"))
        st.stop()
    state.event_code = event["code"]
    with st.container(key="event_title"):  # the organizers' words, in whatever language they wrote them
        st.caption(escape_markdown(event["title"]))
    st.markdown(f"## {escape_markdown(t('page.title'))}")

    ticket = participants.normalize_ticket(query_value("ticket", 40) or state.get("ticket", ""))

    def show_error(error: Rejected) -> None:
        st.error(explain(lang, error))

    def remember(ticket_code: str) -> None:
        state.ticket = ticket_code
        st.query_params.update({"event": event["code"], "ticket": ticket_code, "lang": lang})

    def forget_ticket() -> None:
        state.pop("ticket", None)
        st.query_params.pop("ticket", None)

    def preselect_languages() -> None:
        """Tick the language the challenge is written in, unless the participant already chose."""
        if state.get("languages_touched"):
            return
        try:
            detected = participants.detect_language(clinic, event_code, state.get("challenge_text", ""))
        except DATABASE_UNREACHABLE:  # a callback runs outside the page's guard; ticking a box can wait
            return
        if detected:
            state.languages = [detected]

    if ticket:
        try:
            answer = participants.answer_for_ticket(clinic, ticket)
        except Rejected as error:
            show_error(error)
            forget_ticket()
            if st.button(t("new.submit_another")):
                st.rerun()
            st.stop()
        remember(answer.ticket)
        if "flash" in state:
            st.success(t(state.pop("flash")))
        link = participant_link(event=answer.event_code, ticket=answer.ticket, lang=lang)
        render_answer(answer, t, participants.topic_names(clinic, event_code, lang), native, link)
        if answer.status in ("withdrawn", "done"):
            if st.button(t("new.submit_another"), type="primary"):
                forget_ticket()
                st.rerun()
            st.stop()
        # Others who asked much the same: say "me too" (their text only, never who wrote it).
        similar = emergent.similar_for_ticket(clinic, answer.ticket)
        if similar:
            already = emergent.joined(clinic, answer.ticket)
            with st.container(border=True, key="similar_box"):
                st.markdown(f"**{escape_markdown(t('similar.title'))}**")
                st.caption(t("similar.help"))
                for item in similar:
                    st.text(item.text if len(item.text) <= 300 else item.text[:299] + "…")
                    if item.challenge_id in already:
                        st.caption(t("similar.joined"))
                    elif st.button(t("similar.me_too"), key=f"me_too_{item.challenge_id}"):
                        emergent.me_too(clinic, answer.ticket, item.challenge_id)
                        st.rerun()
        if state.get("edit_for") != answer.ticket or "edit_text" not in state:  # start from what is stored
            state.update(edit_for=answer.ticket, edit_text=answer.text, edit_languages=list(answer.languages))
        with st.expander(t("edit.title")), st.form("edit"):
            new_text = st.text_area(t("form.challenge"), key="edit_text", max_chars=MAX_CHALLENGE_CHARS, height=140)
            new_languages = st.multiselect(
                t("form.languages"),
                list(native),
                key="edit_languages",
                format_func=native.get,
                placeholder=t("form.languages_placeholder"),
                select_all=False,
            )
            if st.form_submit_button(t("edit.save"), type="primary"):
                try:
                    participants.edit_challenge(clinic, answer.ticket, new_text, new_languages)
                    state.flash = "edit.saved"  # a key, so that it shows in the language of the next run
                    state.pop("edit_text", None)  # the next run starts the form from the stored challenge
                    st.rerun()
                except Rejected as error:
                    show_error(error)
                except DATABASE_UNREACHABLE:  # said here, inside the form, so the edited text stays in it
                    st.error(t("error.unavailable"))
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
        placeholder=t("form.languages_placeholder"),
        select_all=False,
        on_change=lambda: state.update(languages_touched=True),
    )
    st.text_input(t("form.name"), key="participant_name", max_chars=MAX_NAME_CHARS)
    if st.button(t("form.submit"), type="primary", width="stretch"):
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
        except DATABASE_UNREACHABLE:
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
