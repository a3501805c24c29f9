"""Facilitators' live board: every table, the triage queue, one-click actions; refreshes itself."""

from dataclasses import replace

import streamlit as st

from clinic import emergent, facilitation
from clinic.access import ROLE_FACILITATOR
from pages._auth import logout_button, require_role
from pages._board_view import format_clock, render_board, render_optimise
from pages._ui import DATABASE_UNREACHABLE, current_event, escape_markdown, explained_outages, open_clinic

# A live view polls the store's change counter this often; the board is re-read only when it moved.
REFRESH_SECONDS = 2
STALE_BOARD = (
    "The database is out of reach: this is the board as last read. It updates by itself once the "
    "database is back; actions wait until then."
)

st.set_page_config(
    layout="wide", initial_sidebar_state="collapsed"
)  # staff screens use the whole laptop or projector width

role = require_role(ROLE_FACILITATOR)
clinic = open_clinic()
event = current_event()
code = event["code"]

header, actions = st.columns([3, 3], vertical_alignment="bottom")
header.markdown(f"### Live board · {escape_markdown(event['title'])}")
with actions:
    start, optimise, projector, sign_out = st.columns(4)
    if event["round_started_at"] is None:
        if start.button(f"Start round {event['current_round']}", type="primary", key="start_clock"):
            facilitation.start_clock(clinic, code, role)
            st.session_state.pop("board_cache", None)
            st.rerun()
    elif start.button("Start next round", type="primary", key="start_round"):
        result = facilitation.start_next_round(clinic, code, role)
        st.session_state.board_message = (
            "success",
            f"Round {result['round']} started: {result.get('kept', 0)} kept, "
            f"{result.get('seated', 0)} seated again, {result.get('triage', 0)} to triage.",
        )
        st.session_state.pop("board_cache", None)
        st.rerun()
    with optimise.popover("Optimise this round"):
        cached = st.session_state.get("board_cache")
        render_optimise(clinic, code, role, cached[1] if cached else emergent.similar_groups(clinic, code))
    projector.page_link("pages/display.py", label="Projector view", icon=":material/tv:")
    with sign_out:
        logout_button()


def read_board(cached: tuple | None) -> tuple:
    """The board's snapshot, similar challenges and "me too" counts, re-read only when the store's
    change marker moved since `cached` was read."""
    marker = facilitation.change_marker(clinic, event["id"])
    if cached is None or cached[0].marker != marker:
        snapshot = facilitation.board_snapshot(clinic, code)
        cached = (snapshot, emergent.similar_groups(clinic, code), emergent.me_too_counts(clinic, code))
        st.session_state.board_cache = cached
    return cached


@st.fragment(run_every=REFRESH_SECONDS)
def live_board() -> None:
    with explained_outages():  # the fragment re-runs on its own: it explains outages itself
        try:
            cached = read_board(st.session_state.get("board_cache"))
        except DATABASE_UNREACHABLE:
            cached = st.session_state.get("board_cache")
            if cached is None:
                raise  # nothing to show yet: the outage notice
            # Facilitators keep the room's layout in front of them while the database is away.
            st.warning(STALE_BOARD, icon=":material/cloud_off:")
        cached, groups, me_too = cached
        # The clock moves even when nothing else does.
        board = replace(cached, seconds_left=facilitation.seconds_left(cached.event))
        clock = "clock not started" if board.seconds_left is None else f"{format_clock(board.seconds_left)} left"
        st.caption(f"Round {board.round} · {clock} · updates itself every {REFRESH_SECONDS} s")
        render_board(board, code, role, groups, me_too)


live_board()
