"""The participant's answer card: where to sit, with whom, in which language, and why."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

from clinic.participants import Answer, format_ticket
from pages._ui import escape_markdown

CONFIDENCE_COLOURS = {"high": "green", "medium": "orange", "low": "red"}
_SLOT = "\x00"  # stands for a value in a message, to split the message around it


def with_value(message: Callable[..., str], key: str, name: str, value_markdown: str) -> str:
    """Markdown of message `key` with its {name} filled by `value_markdown`, wherever the language puts it."""
    before, _, after = message(key, **{name: _SLOT}).partition(_SLOT)
    return f"{escape_markdown(before)}{value_markdown}{escape_markdown(after)}"


def bold(text: str) -> str:
    return f"**{escape_markdown(text)}**" if text else ""


def render_answer(
    answer: Answer,
    t: Callable[..., str],
    topic_names: Mapping[str, str],
    native_names: Mapping[str, str],
    ticket_link: str,
) -> None:
    """Draw the card in the participant's language (`t`).

    Participant text goes through st.text only; catalog names and messages are escaped.
    """
    topic = topic_names.get(answer.topic, answer.topic_name)
    with st.container(border=True, key="answer_card"):
        if answer.status == "withdrawn":
            st.info(t("card.withdrawn"))
        elif answer.status == "done":
            st.success(t("card.done"))
        elif answer.seated:
            st.markdown(f"## {escape_markdown(t('card.table', table=answer.table))}")
            st.markdown(f"#### {escape_markdown(topic)}")
            expert = with_value(t, "card.with_expert", "expert", bold(answer.expert_name or ""))
            if answer.expert_affiliation:
                expert += f" ({escape_markdown(answer.expert_affiliation)})"
            st.markdown(f":material/person: {expert}")
            language = native_names.get(answer.language or "", answer.language or "")
            st.markdown(f":material/forum: {with_value(t, 'card.in_language', 'language', bold(language))}")
        else:
            st.markdown(f"### {escape_markdown(t('card.triage_title'))}")
            spoken = t("list.separator").join(native_names.get(code, code) for code in answer.topic_languages)
            reason = t(f"card.triage.{answer.triage_reason or 'low_confidence'}", topic=topic, languages=spoken)
            st.warning(escape_markdown(reason))
        if answer.status not in ("withdrawn", "done"):
            st.divider()
            level = escape_markdown(t("card.confidence", level=t(f"confidence.{answer.confidence}")))
            colour = CONFIDENCE_COLOURS.get(answer.confidence, "gray")
            heading = t("card.why") if answer.seated else t("card.closest", topic=topic)
            st.markdown(f"**{escape_markdown(heading)}** :{colour}-badge[{level}]")
            reason = (
                t("card.because_of", terms=t("list.separator").join(answer.terms))
                if answer.terms
                else t("card.no_terms")
            )
            st.markdown(escape_markdown(reason))
            runners = [topic_names.get(topic_id, topic_id) for topic_id in answer.alternatives[:2]]
            if runners:
                st.caption(escape_markdown(t("card.runner_up", topics=" · ".join(runners))))
        st.markdown(f"**{escape_markdown(t('card.your_challenge'))}**")
        st.text(answer.text)
    with st.container(border=True, key="ticket_box"):
        code = f"`{format_ticket(answer.ticket)}`"  # letters and digits only: nothing to escape
        st.markdown(f":material/confirmation_number: **{with_value(t, 'ticket.title', 'ticket', code)}**")
        st.caption(escape_markdown(t("ticket.help")))
        st.code(ticket_link, language=None, wrap_lines=True)
