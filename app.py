"""Peer Clinic: the one entry point. `streamlit run app.py`

Sets the page up once, opens the clinic (database + demo clinic on first start) and routes to
the screens in pages/.
"""

import streamlit as st

from pages._ui import open_clinic

st.set_page_config(page_title="Peer Clinic", page_icon=":material/handshake:", layout="centered", initial_sidebar_state="collapsed")
open_clinic()  # fails here, with the reason, if the database cannot be opened

navigation = st.navigation(
    [st.Page("pages/submit.py", title="Bring a challenge", icon=":material/edit_note:", url_path="submit", default=True)],
    position="hidden",
)
navigation.run()
