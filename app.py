"""Peer Clinic: the one entry point. `streamlit run app.py`

Sets the page up once, opens the clinic (database + demo clinic on first start, staff passcodes
printed to the terminal) and routes to the screens in pages/.
"""

import streamlit as st

from pages._ui import open_clinic

st.set_page_config(page_title="Peer Clinic", page_icon=":material/handshake:", initial_sidebar_state="collapsed")
open_clinic()  # fails here, with the reason, if the database cannot be opened

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
navigation.run()
