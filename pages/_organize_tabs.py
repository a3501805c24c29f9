"""The larger tabs of the organizer console: catalog editing and import, documentation and data."""

from __future__ import annotations

import streamlit as st

from clinic import documentation
from clinic.errors import Rejected
from clinic.setup import Clinic


def render_documentation_tab(clinic: Clinic, event: dict, role: str) -> None:
    """Exports of the session's documentation (available during the session too) and personal data."""
    code = event["code"]
    doc = documentation.documentation(clinic, code)
    st.markdown(
        f"**{len(doc.questions)} questions raised**, "
        f"{sum(len(q.notes) for q in doc.questions) + sum(len(t.notes) for t in doc.tables)} notes gathered."
    )
    wikitext = documentation.to_wikitext(doc)
    markdown = documentation.to_markdown(doc)
    sheets = documentation.event_sheets(clinic, code)
    columns = st.columns(4)
    columns[0].download_button("Wikitext", wikitext, f"{code}-documentation.wiki", "text/plain")
    columns[1].download_button("Markdown", markdown, f"{code}-documentation.md", "text/markdown")
    columns[2].download_button("CSV (zip)", documentation.to_csv(sheets), f"{code}-data.zip", "application/zip")
    columns[3].download_button(
        "Excel",
        documentation.to_xlsx(sheets),
        f"{code}-data.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    st.caption("Ready to paste into the session's wiki page:")
    st.code(wikitext, language=None, wrap_lines=True, height=260)

    st.markdown("#### Personal data")
    st.download_button(
        "Export everything of this event (JSON)",
        documentation.export_event(clinic, code),
        f"{code}-everything.json",
        "application/json",
        on_click="ignore",
    )
    with st.expander("Erase participants' personal data"):
        st.warning(
            "Names are blanked and tickets stop working at once (participants can no longer edit or withdraw). "
            "Close submissions first if the session is still running. This cannot be undone."
        )
        mode = st.radio(
            "Challenge texts",
            documentation.ERASE_MODES,
            format_func={
                documentation.ERASE_ANONYMISE: "keep them, anonymised",
                documentation.ERASE_REMOVE: "remove them",
            }.get,
            horizontal=True,
        )
        confirm = st.text_input(f"Type the event code ({code}) to confirm")
        if st.button("Erase personal data", type="primary", disabled=confirm.strip() != code):
            try:
                counts = documentation.erase_personal_data(clinic, code, mode, role)
            except Rejected as error:
                st.error(error.message)
            else:
                st.success(f"Erased: {counts.get('challenges', 0)} challenges made anonymous.")
