"""Projector view: the round clock, how to join, and how full each table is (no challenge texts)."""

from io import BytesIO

import segno
import streamlit as st

from clinic import facilitation, participants
from clinic.access import ROLE_FACILITATOR
from clinic.i18n import translate
from pages._auth import require_role
from pages._board_view import format_clock
from pages._ui import current_event, escape_markdown, explained_outages, join_link, open_clinic

REFRESH_SECONDS = 2

st.set_page_config(layout="wide", initial_sidebar_state="collapsed")  # the whole projector width
TABLES_PER_ROW = 4

require_role(ROLE_FACILITATOR)
clinic = open_clinic()
event = current_event()
link = join_link(event["code"])


@st.cache_data(show_spinner=False)
def qr_png(url: str) -> bytes:
    buffer = BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=10, border=2)
    return buffer.getvalue()


title, join = st.columns([3, 1], vertical_alignment="center")
with title:
    st.markdown(f"# {escape_markdown(event['title'])}")
    st.markdown(f"### {escape_markdown(translate(event['default_language'], 'display.join'))}: `{link}`")
    # The room speaks the clinic's languages: the invitation stands in each of them.
    others = [translate(code, "display.join") for code in participants.event_language_codes(clinic, event["code"])]
    st.markdown(" · ".join(f"**{escape_markdown(text)}**" for text in dict.fromkeys(others)))
with join:
    st.image(qr_png(link), width=220)


@st.fragment(run_every=REFRESH_SECONDS)
def live_display() -> None:
    with explained_outages():  # the fragment re-runs on its own: it explains outages itself
        board = facilitation.board_snapshot(clinic, event["code"])
        seconds = facilitation.seconds_left(board.event)
        st.markdown(f"## Round {board.round}" + ("" if seconds is None else f" · {format_clock(seconds)}"))
        st.caption(f"{board.seated} seated · {board.waiting} waiting for a facilitator · {board.done} done")
        for start in range(0, len(board.tables), TABLES_PER_ROW):
            for column, table in zip(
                st.columns(TABLES_PER_ROW), board.tables[start : start + TABLES_PER_ROW], strict=False
            ):
                with column, st.container(border=True, key=f"display_table_{table.number}"):
                    st.markdown(f"## Table {table.number}")
                    st.markdown(f"**{escape_markdown(table.topic_name)}**")
                    st.caption(escape_markdown(", ".join(name for name, _ in table.experts)))
                    st.markdown(" ".join(f":blue-badge[{code}]" for code in table.languages))
                    fill = "FULL" if table.full else f"{table.capacity - table.used} seats free"
                    st.progress(min(table.used / table.capacity, 1.0), text=f"{table.used}/{table.capacity} · {fill}")
                    # Who sits here: first names or ticket codes, never what they wrote.
                    seated = [seat.participant_name.split()[0] if seat.participant_name else seat.ticket[:4]
                              for seat in table.seats]  # fmt: skip
                    if seated:
                        st.text(" · ".join(seated))


live_display()
