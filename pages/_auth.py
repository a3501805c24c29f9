"""The passcode gate of the staff screens (board, organize): call `require_role` first thing.

The role a browser session signed in as lives only in `st.session_state` (never in the URL or a
cookie), so a reload or a new tab asks again. Wrong passcodes are slowed down per client address,
counted in the database, so a reload or a new tab does not start the count over.
"""

from __future__ import annotations

import math

import streamlit as st

from clinic import access
from pages._ui import configured_passcodes, open_clinic

ROLE_KEY = "peer_clinic_role"

SCREEN_NAMES = {access.ROLE_FACILITATOR: "facilitators", access.ROLE_ORGANIZER: "organizers"}


def signed_in_role() -> str | None:
    """The role this browser session signed in as, if any."""
    return st.session_state.get(ROLE_KEY)


def require_role(role: str) -> str:
    """Return the session's role if it may open a screen that needs `role`; else show only the
    passcode form and stop the script, so nothing else of the page renders."""
    held = signed_in_role()
    if access.may_act_as(held, role):
        return held
    _passcode_form(role)
    st.stop()
    raise AssertionError("st.stop() ends the script run")  # for type checkers


def logout_button(label: str = "Sign out", key: str = "peer_clinic_sign_out") -> None:
    """A button that makes this browser session forget its role (the next screen asks again)."""
    if st.button(label, key=key, icon=":material/logout:"):
        held = st.session_state.pop(ROLE_KEY, None)
        if held:
            access.sign_out(open_clinic().engine, held)
        st.rerun()


def _client() -> str:
    """The throttle's key for this browser: its address as Streamlit sees it. Streamlit gives none on
    localhost or in AppTest, and only the proxy's behind some proxies: those browsers share one key."""
    return access.client_key(st.context.ip_address)


def _wait_message(seconds: float) -> str:
    return f"Too many wrong passcodes. Wait {math.ceil(seconds)} s before trying again."


def _passcode_form(role: str) -> None:
    st.subheader("Staff passcode", anchor=False)
    st.caption(f"This screen is for {SCREEN_NAMES[role]}. Participants don't need a passcode.")
    # clear_on_submit: what was typed does not stay in the widget between reruns.
    with st.form("peer_clinic_passcode", clear_on_submit=True, enter_to_submit=True):
        attempt = st.text_input("Passcode", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Open", type="primary")
    if not submitted:
        return
    if not attempt.strip():
        st.error("Type the passcode.")
        return
    outcome = access.attempt_sign_in(open_clinic().engine, role, attempt, configured_passcodes(), _client())
    if outcome.role:
        st.session_state[ROLE_KEY] = outcome.role
        st.rerun()
    if not outcome.checked:
        st.error(_wait_message(outcome.wait))
        return
    st.error("Wrong passcode.")
    if outcome.wait > 0:
        st.warning(_wait_message(outcome.wait))
