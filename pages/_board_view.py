"""The facilitators' board, drawn from a `Board` snapshot: a plain function, so AppTest can call it.

Participant text is shown with st.text only; catalog names pass through escape_markdown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import streamlit as st

from clinic import facilitation
from clinic.access import ROLE_FACILITATOR
from clinic.emergent import SimilarGroup, group_of
from clinic.errors import Rejected
from clinic.facilitation import Board, Seat, TableCard
from pages._ui import DATABASE_UNREACHABLE, escape_markdown, open_clinic

# The store either committed an action or not; with the connection lost mid-way only the board can tell.
ACTION_NOT_SAVED = "The database could not be reached, so this may not be saved: try again once the board updates."
CONFIDENCE_COLOURS = {"high": "green", "medium": "orange", "low": "red"}
TRIAGE_WORDS = {
    "low_confidence": "unsure which topic",
    "no_shared_language": "no shared language",
    "tables_full": "table full",
    "no_host": "no expert present",
    "no_table": "no table left for this topic",
}
TABLES_PER_ROW = 3
ISOLATE, POP_ISOLATE = "\u2068", "\u2069"  # FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE


def format_clock(seconds: int | None) -> str:
    if seconds is None:
        return "–:–"
    sign = "−" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 60:02d}:{seconds % 60:02d}"


def _act(action: Callable[..., None], done: str, *args) -> None:
    """Widget callback for a facilitator action.

    Callbacks receive the arguments of the board the facilitator was looking at (the challenge's
    version then), so a click on a challenge someone else changed meanwhile is refused in words
    instead of silently acting on the new state.
    """
    try:
        action(open_clinic(), *args)
    except Rejected as error:
        st.session_state.board_message = ("error", error.message)
    except DATABASE_UNREACHABLE:  # callbacks run before the page: its outage notice would not catch this
        st.session_state.board_message = ("error", ACTION_NOT_SAVED)
        return  # keep the board as last read on screen
    else:
        st.session_state.board_message = ("success", done)
    st.session_state.pop("board_cache", None)


def _move(clinic, event_code: str, challenge_id: int, version: int, role: str) -> None:
    state = st.session_state
    target = state.get(f"move_{challenge_id}")
    facilitation.seat_at_table(
        clinic, event_code, challenge_id, version, target, role, state.get(f"why_{challenge_id}", "")
    )


def _note(clinic, event_code: str, challenge_id: int, table: int | None, role: str) -> None:
    state = st.session_state
    facilitation.add_note(
        clinic, event_code, state.get(f"note_{challenge_id}", ""), role, state.get(f"kind_{challenge_id}"),
        challenge_id, table,
    )  # fmt: skip


def render_counters(board: Board) -> None:
    # One line of counters: readable on a projector, and it wraps on a facilitator's phone.
    st.markdown(
        f"#### **{board.seated}** seated · **{board.waiting}** in triage · **{board.done}** done · "
        f"**{board.withdrawn}** withdrawn · round {board.round} **{format_clock(board.seconds_left)}**"
    )
    if board.per_language:
        st.caption(
            "By language: " + " · ".join(f"{code} {n}" for code, n in sorted(board.per_language.items()))
            + "  |  By topic: " + " · ".join(f"{topic} {n}" for topic, n in sorted(board.per_topic.items()))
        )  # fmt: skip


def render_seat_actions(board: Board, seat: Seat, event_code: str, role: str) -> None:
    key, version = seat.challenge_id, seat.version
    common = (event_code, seat.challenge_id, version)
    with st.container(key=f"actions_{key}"):
        numbers = [t.number for t in board.tables]
        st.selectbox("Move to table", numbers, key=f"move_{key}", format_func=lambda n: f"Table {n}")
        st.text_input("Override reason (only if full or no shared language)", key=f"why_{key}")
        st.button(
            "Move", key=f"do_move_{key}", type="primary", on_click=_act,
            args=(_move, "Moved to the chosen table.", *common, role),
        )  # fmt: skip
        st.button(
            "Unlock" if seat.locked else "Lock here", key=f"lock_{key}", on_click=_act,
            args=(facilitation.set_locked, "Unlocked." if seat.locked else "Locked.", *common, not seat.locked, role),
        )  # fmt: skip
        if seat.table is not None:
            st.button(
                "Right table", key=f"confirm_{key}", on_click=_act,
                args=(facilitation.confirm_topic, "Confirmed: the router will learn from it.", *common, role),
            )  # fmt: skip
        st.button(
            "Mark done", key=f"done_{key}", on_click=_act,
            args=(facilitation.set_status, "Marked done.", *common, "done", role),
        )  # fmt: skip
        st.button(
            "Withdraw", key=f"withdraw_{key}", on_click=_act,
            args=(facilitation.set_status, "Withdrawn.", *common, "withdrawn", role),
        )  # fmt: skip
        st.radio("Note", facilitation.NOTE_KINDS, index=1, horizontal=True, key=f"kind_{key}")
        st.text_area("What the group raised or suggested", key=f"note_{key}", height=80)
        st.button(
            "Save note", key=f"save_note_{key}", on_click=_act,
            args=(_note, "Note saved.", event_code, seat.challenge_id, seat.table, role),
        )  # fmt: skip


def seat_line(board: Board, seat: Seat, me_too: Mapping[int, int] | None = None) -> str:
    """One plain-text line per seated challenge (participant text never goes through Markdown)."""
    who = seat.participant_name or f"ticket {seat.ticket[:4]}…"
    flags = [seat.language or "/".join(seat.languages), f"{seat.confidence} {seat.topic_score:.0%}"]
    if seat.locked:
        flags.append("locked")
    notes = sum(1 for note in board.notes if note["challenge_id"] == seat.challenge_id)
    if notes:
        flags.append(f"{notes} note{'s' if notes > 1 else ''}")
    if me_too and me_too.get(seat.challenge_id):
        flags.append(f"+{me_too[seat.challenge_id]} me too")
    # Unicode isolates keep an Arabic or Hebrew line from reordering the brackets around it.
    return f"• {ISOLATE}{who}{POP_ISOLATE} [{', '.join(flags)}] {ISOLATE}{seat.first_line}{POP_ISOLATE}"


def render_table(board: Board, table: TableCard, event_code: str, role: str, me_too: Mapping[int, int]) -> None:
    with st.container(border=True, key=f"table_{table.number}"):
        title = f"**Table {table.number}** · {escape_markdown(table.topic_name)}"
        if table.locked:
            title += " :violet-badge[:material/lock: locked]"
        st.markdown(title)
        experts = ", ".join(name for name, _ in table.experts) or "no expert present"
        st.caption(f"{escape_markdown(experts)} · {' '.join(table.languages)}")
        fill = f"{table.used}/{table.capacity} seats" + (" · FULL" if table.full else "")
        st.progress(min(table.used / table.capacity, 1.0), text=fill)
        if table.seats:
            st.text("\n".join(seat_line(board, seat, me_too) for seat in table.seats))
        st.button(
            "Unlock table" if table.locked else "Lock table", key=f"lock_table_{table.number}", type="tertiary",
            on_click=_act,
            args=(facilitation.lock_table, f"Table {table.number} {'unlocked' if table.locked else 'locked'}.",
                  event_code, table.number, not table.locked, role),
        )  # fmt: skip


def render_action_panel(board: Board, event_code: str, role: str, groups: Sequence[SimilarGroup] = ()) -> None:
    """Pick any challenge on the board, then act on it: one panel instead of a menu per seat,
    so a board of 500 challenges stays quick to draw."""
    seats = {seat.challenge_id: seat for table in board.tables for seat in table.seats}
    seats.update({seat.challenge_id: seat for seat in board.triage})
    if not seats:
        return
    st.markdown("#### Act on a challenge")

    def label(challenge_id: int) -> str:
        seat = seats[challenge_id]
        where = f"Table {seat.table}" if seat.table is not None else "Triage"
        who = seat.participant_name or seat.ticket[:4]
        return f"{where} · {who} · {seat.first_line[:60]}"

    chosen = st.selectbox("Challenge", list(seats), format_func=label, key="act_on")
    if chosen in seats:
        st.text(seats[chosen].text[:600])
        group = group_of(list(groups), chosen)
        if group and group.others(chosen):
            about = f" about: {', '.join(group.terms)}" if group.terms else ""
            st.caption(f"{group.others(chosen)} others asked{escape_markdown(about)}")
            where = [f"{seats[i].table or 'triage'}: {seats[i].first_line[:50]}" for i in group.challenge_ids
                     if i != chosen and i in seats]  # fmt: skip
            st.text("\n".join(where[:5]))
        render_seat_actions(board, seats[chosen], event_code, role)


TRIAGE_SHOWN = 25


def render_groups(board: Board, groups: Sequence[SimilarGroup]) -> None:
    """Challenges that ask about the same thing: the seed's groups "based on topics suggested by participants"."""
    shown = [group for group in groups if group.size >= 3][:5]
    if not shown:
        return
    st.markdown("#### Asked by several")
    for group in shown:
        about = ", ".join(group.terms) if group.terms else "similar wording"
        st.caption(f"{group.size} challenges about: {escape_markdown(about)}")


def render_triage(board: Board, event_code: str, role: str) -> None:
    st.markdown(f"#### Triage queue ({board.waiting})")
    if not board.triage:
        st.caption("Nobody is waiting for a facilitator.")
        return
    topic_of = {table.number: table.topic_name for table in board.tables}
    for seat in board.triage[:TRIAGE_SHOWN]:
        with st.container(border=True, key=f"triage_{seat.challenge_id}"):
            st.text(seat.text if len(seat.text) <= 300 else seat.text[:299] + "…")
            who = seat.participant_name or f"ticket {seat.ticket[:4]}…"
            why = TRIAGE_WORDS.get(seat.triage_reason or "", seat.triage_reason or "")
            st.caption(f"{escape_markdown(who)} · speaks {' '.join(seat.languages)} · {why}")
            for number in seat.candidates[:3]:
                st.button(
                    f"Seat at table {number} · {topic_of.get(number, '')}",
                    key=f"seat_{seat.challenge_id}_{number}",
                    width="stretch",
                    on_click=_act,
                    args=(facilitation.seat_at_table, f"Seated at table {number}.", event_code, seat.challenge_id,
                          seat.version, number, role),
                )  # fmt: skip
    if board.waiting > TRIAGE_SHOWN:
        st.caption(f"… and {board.waiting - TRIAGE_SHOWN} more: pick them in “Act on a challenge”.")


def render_notes(board: Board) -> None:
    if not board.notes:
        return
    texts = {seat.challenge_id: seat.first_line for table in board.tables for seat in table.seats}
    texts.update({seat.challenge_id: seat.first_line for seat in board.triage})
    lines = [
        f"Table {note['table_number'] or '–'} · {note['kind']}: {note['text']}"
        + (f"  (on: {texts[note['challenge_id']]})" if note["challenge_id"] in texts else "")
        for note in board.notes
    ]
    with st.expander(f"Gathered questions and suggestions ({len(board.notes)})"):
        st.text("\n".join(lines))


def render_board(
    board: Board,
    event_code: str,
    role: str = ROLE_FACILITATOR,
    groups: Sequence[SimilarGroup] = (),
    me_too: Mapping[int, int] | None = None,
) -> None:
    """The whole board: counters, table grid and notes; the action panel and triage queue beside."""
    message = st.session_state.pop("board_message", None)
    if message:
        (st.error if message[0] == "error" else st.success)(message[1])
    render_counters(board)
    tables, side = st.columns([3, 1])
    with tables:
        for start in range(0, len(board.tables), TABLES_PER_ROW):
            columns = st.columns(TABLES_PER_ROW)
            for column, table in zip(columns, board.tables[start : start + TABLES_PER_ROW], strict=False):
                with column:
                    render_table(board, table, event_code, role, me_too or {})
        render_notes(board)
    with side:
        render_groups(board, groups)
        render_action_panel(board, event_code, role, groups)
        render_triage(board, event_code, role)


def render_optimise(clinic, event_code: str, role: str, groups: Sequence[SimilarGroup] = ()) -> None:
    """Preview the optimal seating of the round's unlocked challenges, then apply it in one click."""
    st.caption(
        "Re-seats every challenge that is not locked or placed by hand, so that as many as possible sit at "
        "their best table in a language they share with the expert. Low-confidence ones stay in triage."
    )
    fair = st.toggle("Fairness: raise the worst-off participant's fit first", key="optimise_fair")
    together = [set(group.challenge_ids) for group in groups]
    if st.button("Preview", key="optimise_preview"):
        st.session_state.round_plan = (fair, facilitation.plan_round(clinic, event_code, fair, together))
    if "round_plan" not in st.session_state:
        return
    planned_fair, plan = st.session_state.round_plan
    board = facilitation.board_snapshot(clinic, event_code)
    names = {
        seat.challenge_id: seat.participant_name or f"ticket {seat.ticket[:4]}…"
        for seat in [*(s for t in board.tables for s in t.seats), *board.triage]
    }
    lines = [
        f"{names.get(move.challenge, move.challenge)}: "
        f"{'triage' if move.from_table is None else f'table {move.from_table}'} → "
        f"{'triage' if move.to_table is None else f'table {move.to_table}'}"
        for move in plan.moves
    ]
    st.text("\n".join(lines) if lines else "Nobody would move: the round is already optimal.")
    st.caption(f"{plan.seated} seated, {plan.triaged} in triage after it · total fit {plan.total_fit}")
    for diagnosis in plan.diagnoses:
        st.warning(escape_markdown(diagnosis))
    if plan.moves and st.button(f"Apply {len(plan.moves)} moves", type="primary", key="optimise_apply"):
        try:
            moved = facilitation.apply_round_plan(clinic, event_code, plan, role, planned_fair, together)
        except Rejected as error:
            st.session_state.board_message = ("error", error.message)
        else:
            st.session_state.board_message = ("success", f"Optimised: {moved} challenges moved.")
        st.session_state.pop("round_plan", None)
        st.session_state.pop("board_cache", None)
        st.rerun()
