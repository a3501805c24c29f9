"""Organizers' console: the catalog, trying challenges, routing quality, events, documentation."""

import altair as alt
import pandas as pd
import streamlit as st

from clinic import organizing, participants
from clinic.access import ROLE_ORGANIZER
from clinic.errors import Rejected
from pages._auth import logout_button, require_role
from pages._organize_tabs import render_catalog_tab, render_documentation_tab, render_suggestions_tab
from pages._ui import current_event, escape_markdown, open_clinic

st.set_page_config(layout="wide", initial_sidebar_state="collapsed")
role = require_role(ROLE_ORGANIZER)
clinic = open_clinic()
event = current_event()
code = event["code"]

header, switch, sign_out = st.columns([4, 2, 1], vertical_alignment="bottom")
header.markdown(f"### Organizer console · {escape_markdown(event['title'])} (`{code}`)")
events = organizing.list_events(clinic)
# No widget key: the index follows the event in use, also after creating a new one.
chosen = switch.selectbox("Event", [e["code"] for e in events], index=[e["code"] for e in events].index(code))
if chosen != code:
    st.session_state.event_code = chosen
    st.query_params["event"] = chosen
    st.rerun()
with sign_out:
    logout_button()

catalog_tab, try_tab, quality_tab, suggestions_tab, events_tab, docs_tab = st.tabs(
    ["Catalog", "Try a challenge", "Routing quality", "Suggested topics", "Events", "Documentation & data"]
)

with catalog_tab:
    render_catalog_tab(clinic, event, role)

with try_tab:
    with st.form("try"):
        text = st.text_area("A challenge as a participant would write it", height=110)
        tried = st.form_submit_button("Route it", type="primary")
    if tried:
        try:
            trial = organizing.try_challenge(clinic, code, text)
        except Rejected as error:
            st.error(error.message)
        else:
            route = trial.route
            names = participants.topic_names(clinic, code, None)
            place = f"table {route.table} with {trial.expert_name}, in {route.language}" if route.seated else "triage"
            st.markdown(
                f"**{escape_markdown(names.get(route.topic, route.topic))}** · score {route.topic_score:.0%} · "
                f"confidence **{route.confidence}** · {escape_markdown(place)}"
            )
            st.markdown("Words that drove it: " + escape_markdown(", ".join(route.terms) or "none"))
            chart = pd.DataFrame({"topic": list(trial.scores), "score": list(trial.scores.values())})
            st.bar_chart(chart, x="topic", y="score", horizontal=True, sort="-score")

with quality_tab:
    stored, learnt = organizing.corrections_waiting(clinic, code)
    st.caption(
        f"The router learns from the shipped samples and from facilitators' corrections: {learnt} learnt, "
        f"{stored - learnt} new since the last refit."
    )
    left, right = st.columns(2)
    if stored > learnt and left.button(f"Learn from {stored - learnt} new corrections", type="primary"):
        organizing.learn_from_corrections(clinic, code, role)
        st.session_state.pop("quality", None)
        st.rerun()
    if right.button("Measure routing quality (cross-validation)", key="measure") or "quality" in st.session_state:
        if st.session_state.get("quality", (None,))[0] != (code, learnt):
            bar = st.progress(0.0, text="Cross-validating: each fold refits the router without its examples")
            try:
                quality = organizing.routing_quality(clinic, code, progress=lambda done: bar.progress(done))
            except Rejected as error:
                st.error(error.message)
                st.stop()
            previous = st.session_state.get("quality", (None, None))[1]
            st.session_state.quality = ((code, learnt), quality, previous)
            bar.empty()
        _, quality, previous = st.session_state.quality
        result = quality.report
        delta = None if previous is None else f"{result.top1 - previous.report.top1:+.1%}"
        cols = st.columns(4)
        cols[0].metric("Top-1 accuracy", f"{result.top1:.1%}", delta=delta)
        cols[1].metric("Top-2 accuracy", f"{result.top2:.1%}")
        cols[2].metric("Macro-F1", f"{result.macro_f1:.3f}")
        cols[3].metric("Examples", f"{quality.samples} + {quality.corrections} corrections")
        by_language = pd.DataFrame(
            [(k, v, n) for k, (v, n) in result.per_language.items()], columns=["language", "accuracy", "n"]
        )
        by_topic = pd.DataFrame(
            [(quality.topic_names.get(k, k), v, n) for k, (v, n) in result.per_topic.items()],
            columns=["topic", "accuracy", "n"],
        )
        by_confidence = pd.DataFrame(
            [(k, v, n) for k, (v, n) in result.per_confidence.items()], columns=["confidence", "accuracy", "n"]
        )
        a, b, c = st.columns(3)
        a.dataframe(by_language, hide_index=True, column_config={"accuracy": st.column_config.ProgressColumn(
            min_value=0.0, max_value=1.0, format="percent")})  # fmt: skip
        b.dataframe(by_topic, hide_index=True, column_config={"accuracy": st.column_config.ProgressColumn(
            min_value=0.0, max_value=1.0, format="percent")})  # fmt: skip
        c.dataframe(by_confidence, hide_index=True)
        st.markdown("**Confusion matrix** (rows: true topic, columns: routed topic)")
        cells = pd.DataFrame(
            [(quality.topic_names.get(t, t), quality.topic_names.get(r, r), n)
             for t, row in result.confusion.items() for r, n in row.items()],
            columns=["true topic", "routed topic", "challenges"],
        )  # fmt: skip
        heat = alt.Chart(cells).mark_rect().encode(x="routed topic:N", y="true topic:N", color="challenges:Q")
        labels = heat.mark_text(baseline="middle").encode(text="challenges:Q", color=alt.value("black"))
        st.altair_chart(heat + labels, width="stretch")
        st.markdown("**Triage threshold**: below it, a challenge goes to the facilitators instead of a table")
        curve = pd.DataFrame(quality.curve, columns=["threshold", "share to triage", "accuracy of the rest"])
        threshold = st.slider("Threshold", 0.0, 0.8, 0.3, 0.02)
        point = curve.iloc[(curve["threshold"] - threshold).abs().argmin()]
        st.line_chart(curve, x="threshold", y=["share to triage", "accuracy of the rest"])
        st.caption(
            f"At {point['threshold']:.2f}: {point['share to triage']:.1%} go to triage; "
            f"the rest are routed {point['accuracy of the rest']:.1%} correctly."
        )

with suggestions_tab:
    render_suggestions_tab(clinic, event, role)

with events_tab:
    st.dataframe(pd.DataFrame(events)[["code", "title", "date", "current_round", "submissions_open"]], hide_index=True)
    with st.form("settings"):
        st.markdown("**This event's settings**")
        title = st.text_input("Title", value=event["title"])
        date = st.text_input("Date (YYYY-MM-DD)", value=event["date"])
        rounds = st.number_input("Rounds", 1, 20, int(event["rounds"]))
        minutes = st.number_input("Minutes per round", 1, 240, int(event["minutes_per_round"]))
        open_ = st.toggle("Submissions open", value=bool(event["submissions_open"]))
        learn = st.toggle("Learn from facilitators' corrections", value=bool(event["learn_from_corrections"]))
        if st.form_submit_button("Save settings", type="primary"):
            try:
                organizing.update_event_settings(
                    clinic, code,
                    {"title": title, "date": date, "rounds": int(rounds), "minutes_per_round": int(minutes),
                     "submissions_open": open_, "learn_from_corrections": learn},
                    role,
                )  # fmt: skip
            except Rejected as error:
                st.error(error.message)
            else:
                st.success("Saved.")
    with st.form("copy"):
        st.markdown("**New event from this one's catalog**")
        new_code = st.text_input("Code (goes in the join link)", placeholder="wmcon2019")
        new_title = st.text_input("Title")
        new_date = st.text_input("Date (YYYY-MM-DD)")
        if st.form_submit_button("Create event"):
            try:
                created = organizing.copy_event(clinic, code, new_code, new_title, new_date, role)
            except Rejected as error:
                st.error(error.message)
            else:
                st.session_state.event_code = created["code"]
                st.query_params["event"] = created["code"]
                st.rerun()

with docs_tab:
    render_documentation_tab(clinic, event, role)
