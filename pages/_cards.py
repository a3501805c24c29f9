"""The participant's answer card: where to sit, with whom, in which language, and why."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

from clinic.participants import Answer, format_ticket
from pages._ui import escape_markdown

CONFIDENCE_COLOURS = {"high": "green", "medium": "orange", "low": "red"}


def render_answer(
    answer: Answer,
    lang: str,
    t: Callable[..., str],
    topic_names: Mapping[str, str],
    native_names: Mapping[str, str],
) -> None:
    topic = escape_markdown(topic_names.get(answer.topic, answer.topic_name))
    with st.container(border=True, key="answer_card"):
        if answer.status == "withdrawn":
            st.info(t("card.withdrawn"))
        elif answer.status == "done":
            st.success(t("card.done"))
        elif answer.seated:
            st.markdown(f"## {escape_markdown(t('card.table', table=answer.table))} · {topic}")
            expert = escape_markdown(answer.expert_name or "")
            if answer.expert_affiliation:
                expert += f" ({escape_markdown(answer.expert_affiliation)})"
            st.markdown(f"**{escape_markdown(t('card.with_expert', expert='')).strip()}** {expert}")
            language = native_names.get(answer.language or "", answer.language or "")
            st.markdown(
                f"**{escape_markdown(t('card.in_language', language='')).strip()}** {escape_markdown(language)}"
            )
        else:
            st.markdown(f"## {escape_markdown(t('card.triage_title'))}")
            st.warning(
                t(
                    f"card.triage.{answer.triage_reason or 'low_confidence'}",
                    topic=topic_names.get(answer.topic, ""),
                )
            )
        if answer.status not in ("withdrawn", "done"):
            level = t(f"confidence.{answer.confidence}")
            colour = CONFIDENCE_COLOURS.get(answer.confidence, "gray")
            badge = escape_markdown(t("card.confidence", level=level))
            st.markdown(f"**{escape_markdown(t('card.why'))}** · :{colour}-badge[{badge}]")
            if answer.terms:
                st.markdown(escape_markdown(t("card.because_of", terms=", ".join(answer.terms))))
            else:
                st.markdown(escape_markdown(t("card.no_terms")))
            runners = [topic_names.get(topic, topic) for topic in answer.alternatives[:2]]
            if runners:
                st.caption(t("card.runner_up", topics=" · ".join(runners)))
        st.markdown(f"**{escape_markdown(t('card.your_challenge'))}**")
        st.text(answer.text)
    with st.container(border=True, key="ticket_box"):
        st.markdown(f"**{escape_markdown(t('ticket.title'))}:** `{format_ticket(answer.ticket)}`")
        st.caption(t("ticket.help"))
        st.code(f"?event={answer.event_code}&ticket={answer.ticket}", language=None)
