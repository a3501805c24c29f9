"""Peer Clinic: the one entry point. `streamlit run app.py`

Sets the page up once, opens the clinic (database + demo clinic on first start, staff passcodes
printed to the terminal) and routes to the screens in pages/. A database out of reach is
explained on any screen, in the reader's language, with a button to try again.
"""

import streamlit as st

from pages._ui import explained_outages, open_clinic

st.set_page_config(page_title="Peer Clinic", page_icon=":material/handshake:", initial_sidebar_state="collapsed")

PARTICIPANT_PAGE = st.Page("pages/submit.py", title="Bring a challenge", icon=":material/edit_note:", default=True)
navigation = st.navigation(
    [
        PARTICIPANT_PAGE,
        st.Page("pages/board.py", title="Live board", icon=":material/dashboard:", url_path="board"),
        st.Page("pages/display.py", title="Projector", icon=":material/tv:", url_path="display"),
        st.Page("pages/organize.py", title="Organizer console", icon=":material/tune:", url_path="organize"),
    ],
    position="hidden",
)
with explained_outages():  # the database out of reach: words and a button to try again, on every screen
    open_clinic()
    navigation.run()
