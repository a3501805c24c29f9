"""The larger tabs of the organizer console: catalog editing and import, documentation and data."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from clinic import catalog_io, documentation, emergent, facilitation
from clinic.errors import Rejected
from clinic.setup import Clinic
from matching.limits import TOPIC_ID_PATTERN
from matching.text import normalize
from pages._ui import escape_markdown


def render_documentation_tab(clinic: Clinic, event: dict, role: str) -> None:
    """Exports of the session's documentation (available during the session too) and personal data."""
    code = event["code"]
    doc = documentation.documentation(clinic, code)
    questions = len(doc.questions)
    notes = sum(len(q.notes) for q in doc.questions) + sum(len(t.notes) for t in doc.tables)
    st.markdown(
        f"**{questions} question{'' if questions == 1 else 's'} raised**, "
        f"{notes} note{'' if notes == 1 else 's'} gathered."
    )
    wikitext = documentation.to_wikitext(doc)
    markdown = documentation.to_markdown(doc)
    # The data files are made when clicked (not on every rerun of the console), from the data then;
    # downloads need no rerun of the console (on_click="ignore").
    downloads = [
        ("Wikitext", wikitext, documentation.FILE_WIKITEXT, "text/plain"),
        ("Markdown", markdown, documentation.FILE_MARKDOWN, "text/markdown"),
        ("CSV (zip)", lambda: documentation.to_csv(documentation.event_sheets(clinic, code)),
         documentation.FILE_CSV, "application/zip"),
        ("Excel", lambda: documentation.to_xlsx(documentation.event_sheets(clinic, code)),
         documentation.FILE_XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ]  # fmt: skip
    for column, (label, data, part, mime) in zip(st.columns(len(downloads)), downloads, strict=True):
        column.download_button(label, data, documentation.export_file_name(code, part), mime, on_click="ignore")
    st.caption("Ready to paste into the session's wiki page:")
    st.code(wikitext, language=None, wrap_lines=True, height=260)

    st.markdown("#### Personal data")
    st.download_button(
        "Export everything of this event (JSON)",
        lambda: documentation.export_event(clinic, code, role),  # audited: it carries personal data
        documentation.export_file_name(code, documentation.FILE_EVERYTHING),
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


EDITABLE = (
    (catalog_io.TOPICS, "Topics", "id, name, description, active; name_xx / description_xx / keywords_xx per language"),
    (catalog_io.EXPERTS, "Experts", "topics and languages separated by ';'; table = the table they host"),
    (catalog_io.TABLES, "Tables", "number, topic id, capacity (seats)"),
    (catalog_io.LANGUAGES, "Languages", "ISO 639-1 code, name, native name, direction ltr or rtl"),
)


def _show_refusal(error: Rejected) -> None:
    problems = getattr(error, "problems", None)
    if problems:
        st.error("Nothing was changed:\n\n" + "\n".join(f"- {escape_markdown(str(p))}" for p in problems))
    else:
        st.error(error.message)


def render_catalog_tab(clinic: Clinic, event: dict, role: str) -> None:
    """Edit topics, experts, tables and languages; import or export the whole catalog."""
    code = event["code"]
    current = catalog_io.event_catalog(clinic, code)
    rows = catalog_io.catalog_rows(current.catalog)
    version = event["catalog_version"]
    if "catalog_saved" in st.session_state:
        st.success("\n".join(st.session_state.pop("catalog_saved")))
    section = st.segmented_control(
        "Edit", [s for s, _, _ in EDITABLE] + ["import"], default=catalog_io.TOPICS, key="catalog_section",
        format_func=dict([(s, title) for s, title, _ in EDITABLE] + [("import", "Import / export")]).get,
    )  # fmt: skip
    if section in dict((s, t) for s, t, _ in EDITABLE):
        hint = next(h for s, _, h in EDITABLE if s == section)
        st.caption(f"One row per line; add rows at the bottom, delete with the row menu. Columns: {hint}.")
        edited = st.data_editor(
            pd.DataFrame(rows[section]), num_rows="dynamic", width="stretch", hide_index=True,
            key=f"editor_{section}_{version}",
        )  # fmt: skip
        if st.button("Save changes", type="primary", key=f"save_{section}"):
            try:
                catalog = catalog_io.edit_catalog(current.catalog, **{section: edited.to_dict("records")})
                diff = catalog_io.save_catalog_edit(clinic, code, catalog, role)
            except Rejected as error:
                _show_refusal(error)
            else:
                st.session_state.catalog_saved = ["Saved; routing uses it from now on.", *diff.lines()]
                st.rerun()
        return

    left, right = st.columns(2)
    with left:
        st.markdown("**Export**")
        yaml_file = catalog_io.export_yaml(current.catalog, current.settings)
        zip_file = catalog_io.export_csv_bundle(current.catalog, current.settings)
        st.download_button(
            "Catalog as one YAML file", yaml_file, f"{code}-catalog.yaml", "application/yaml", on_click="ignore"
        )
        st.download_button(
            "Catalog as CSV files (zip)", zip_file, f"{code}-catalog.zip", "application/zip", on_click="ignore"
        )
    with right:
        st.markdown("**Import** (replaces this event's catalog; checked whole, applied all or nothing)")
        upload = st.file_uploader(
            "A catalog .yaml or .zip of CSV files", type=["yaml", "yml", "zip"], key="catalog_file"
        )
        if upload is None:
            return
        try:
            parsed = catalog_io.parse_catalog(upload.name, upload.getvalue())
        except Rejected as error:
            _show_refusal(error)
            return
        diff = catalog_io.diff_catalogs(current.catalog, parsed.catalog, current.settings, parsed.settings)
        st.markdown("**What the import changes**")
        st.text("\n".join(diff.lines()))
        if st.button("Apply this import", type="primary", disabled=diff.empty, key="apply_import"):
            try:
                applied = catalog_io.import_catalog(clinic, code, parsed.catalog, parsed.settings, role, upload.name)
            except Rejected as error:
                _show_refusal(error)
            else:
                st.session_state.catalog_saved = [f"Imported {upload.name}.", *applied.lines()]
                st.rerun()


def suggested_topic_id(terms: Sequence[str]) -> str:
    """An id an organizer can keep: the first terms without accents, as a lower-case slug."""
    slug = re.sub(r"[^a-z0-9]+", "-", normalize(" ".join(terms[:2]))).strip("-")[:40]
    return slug if re.fullmatch(TOPIC_ID_PATTERN, slug) else "new-topic"


def render_suggestions_tab(clinic: Clinic, event: dict, role: str) -> None:
    """Topics the participants brought: clusters of unsure or crowded challenges, one click to a table."""
    code = event["code"]
    if st.button("Look for new topics now", key="suggest"):
        st.session_state.pop("suggestions", None)
    if "suggestion_done" in st.session_state:
        st.success(st.session_state.pop("suggestion_done"))
    if st.session_state.get("suggestions", (None,))[0] != code:
        with st.spinner("Grouping the challenges that fit no topic well or crowd one…"):
            st.session_state.suggestions = (code, emergent.topic_suggestions(clinic, code))
    suggestions = st.session_state.suggestions[1]
    if not suggestions:
        st.caption("No new topic stands out among this event's challenges yet.")
    experts = {e.id: f"{e.name} ({', '.join(e.languages)})" for e in clinic.router(event).catalog_.experts}
    texts = {}
    if suggestions:
        board = facilitation.board_snapshot(clinic, code)
        texts = {s.challenge_id: s.text for t in board.tables for s in t.seats}
        texts.update({s.challenge_id: s.text for s in board.triage})
    for suggestion in suggestions:
        with st.container(border=True, key=f"suggestion_{suggestion.key}"):
            st.markdown(f"**{escape_markdown(suggestion.name)}** · {suggestion.size} challenges")
            st.caption(escape_markdown(suggestion.reason))
            with st.expander("Members"):
                st.text("\n".join(f"• {texts.get(m, m)}"[:160] for m in suggestion.members))
            with st.form(f"create_{suggestion.key}"):
                topic_id = st.text_input("Topic id", value=suggested_topic_id(suggestion.terms))
                name = st.text_input("Topic name", value=suggestion.name)
                host = st.selectbox(
                    "Host expert (optional)", [None, *experts], format_func=lambda x: experts.get(x, "nobody yet")
                )
                create, dismiss = st.columns(2)
                if create.form_submit_button("Create topic and table", type="primary"):
                    try:
                        number = emergent.create_topic_from_suggestion(
                            clinic, code, suggestion, topic_id, name, role, host
                        )
                    except Rejected as error:
                        _show_refusal(error)
                    else:
                        st.session_state.suggestion_done = (
                            f"Created topic '{name}' at table {number}; routing uses it now."
                        )
                        st.session_state.pop("suggestions", None)
                        st.rerun()
                if dismiss.form_submit_button("Dismiss"):
                    emergent.dismiss_suggestion(clinic, code, suggestion, role)
                    st.session_state.pop("suggestions", None)
                    st.rerun()
    overlaps = emergent.topic_overlap_warnings(clinic, code)
    if overlaps:
        st.markdown("**Topics that overlap** (a hint to tune their keywords)")
        for overlap in overlaps:
            st.caption(escape_markdown(overlap.reason))
