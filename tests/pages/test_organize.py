"""The organizer console in AppTest: gate, catalog editing and import, trying, quality, events, exports."""

from __future__ import annotations

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from clinic import access, catalog_io
from clinic import participants as P
from clinic.setup import Clinic

ORGANIZER = "org-code-1"
FACILITATOR = "fac-code-1"


@pytest.fixture
def console(new_session, database, monkeypatch) -> AppTest:
    monkeypatch.setenv(access.environment_variable(access.ROLE_ORGANIZER), ORGANIZER)
    monkeypatch.setenv(access.environment_variable(access.ROLE_FACILITATOR), FACILITATOR)
    at = new_session()
    at.switch_page("pages/organize.py")
    at.run()
    return at


def sign_in(at: AppTest, code: str = ORGANIZER) -> AppTest:
    at.text_input[0].input(code)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_facilitator_passcode_does_not_open_the_console(console):
    sign_in(console, FACILITATOR)
    assert not console.tabs
    assert any("passcode" in e.value.lower() for e in console.error)


def test_editing_a_table_takes_effect_for_the_next_participant(console, database):
    sign_in(console)
    console.segmented_control(key="catalog_section").set_value(catalog_io.TABLES)
    console.run()
    editor = next(frame for frame in console.dataframe if "capacity" in frame.value.columns)
    assert list(editor.value["number"]) == list(range(1, 9))
    # AppTest cannot type into a data editor: what Save sends is the edited rows, as below.
    clinic = Clinic.open(database.url)
    event = clinic.default_event()
    catalog = clinic.router(event).catalog_
    rows = catalog_io.catalog_rows(catalog)[catalog_io.TABLES]
    for row in rows:
        row["capacity"] = 1 if row["number"] == 1 else row["capacity"]
    edited = catalog_io.edit_catalog(catalog, tables=rows)
    catalog_io.save_catalog_edit(clinic, event["code"], edited, access.ROLE_ORGANIZER)
    assert P.submit_challenge(clinic, event["code"], "We need a grant and sponsors", ["en"]).table == 1
    assert P.submit_challenge(clinic, event["code"], "Another grant and sponsor question", ["en"]).table is None


def test_an_edit_naming_an_unknown_topic_is_refused_in_words(database):
    clinic = Clinic.open(database.url)
    catalog = clinic.router(clinic.default_event()).catalog_
    rows = catalog_io.catalog_rows(catalog)[catalog_io.TABLES]
    rows[6]["topic"] = "glams"
    with pytest.raises(catalog_io.CatalogRefused) as refused:
        catalog_io.edit_catalog(catalog, tables=rows)
    assert "row 7" in str(refused.value.problems[0]) and "glams" in str(refused.value.problems[0])


def test_try_a_challenge_shows_route_terms_and_every_topic_score(console):
    sign_in(console)
    console.text_area[0].input("Comment trouver des sponsors pour notre projet ?")
    button(console, "Route it").click()
    console.run()
    shown = "\n".join(m.value for m in console.markdown)
    assert "Grants and fundraising" in shown and "confidence **high**" in shown
    assert "sponsors" in shown
    assert console.get("vega_lite_chart") or console.get("arrow_vega_lite_chart")


def test_import_preview_then_apply(console, database):
    sign_in(console)
    clinic = Clinic.open(database.url)
    event = clinic.default_event()
    current = catalog_io.event_catalog(clinic, event["code"])
    spec = yaml.safe_load(catalog_io.export_yaml(current.catalog, current.settings))
    assert spec  # the export is YAML a person can read
    parsed = catalog_io.parse_catalog("catalog.yaml", catalog_io.export_yaml(current.catalog, current.settings))
    assert catalog_io.diff_catalogs(current.catalog, parsed.catalog, current.settings, parsed.settings).empty


def test_events_tab_creates_an_event_from_this_catalog(console, database):
    sign_in(console)
    form_inputs = [t for t in console.text_input if t.label.startswith("Code")]
    form_inputs[0].input("wmcon2019")
    next(t for t in console.text_input if t.label == "Title" and t.value == "").input("Clinic 2019")
    button(console, "Create event").click()
    console.run()
    assert not console.exception
    clinic = Clinic.open(database.url)
    created = clinic.event("wmcon2019")
    assert created and created["title"] == "Clinic 2019"
    assert "wmcon2019" in "\n".join(m.value for m in console.markdown)


def test_documentation_tab_offers_every_export(console):
    sign_in(console)
    labels = {b.label for b in console.get("download_button")}
    assert {"Wikitext", "Markdown", "CSV (zip)", "Excel", "Export everything of this event (JSON)"} <= labels


def test_quality_tab_measures_cross_validated_accuracy(console):
    sign_in(console)
    console.button(key="measure").click()
    console.run(timeout=300)
    assert not console.exception
    labels = {m.label: m.value for m in console.metric}
    assert float(labels["Top-1 accuracy"].rstrip("%")) > 50
    assert "Examples" in labels
    frames = [frame.value for frame in console.dataframe]
    assert any("language" in frame.columns and len(frame) == 6 for frame in frames)


def test_suggested_topic_becomes_a_table_in_one_click(console, database):
    import csv
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    clinic = Clinic.open(database.url)
    planted = list(csv.DictReader((root / "data" / "synthetic" / "radio_tv.csv").open(encoding="utf-8")))
    others = [row for path in sorted((root / "data" / "dev").glob("*.csv")) for row in csv.DictReader(path.open())]
    for row in planted + others[::4]:
        P.submit_challenge(clinic, "wmcon2018", row["text"], [row["language"], "en"])
    sign_in(console)
    names = " ".join(m.value for m in console.markdown)
    assert "radio" in names.lower() or "tv" in names.lower(), names[-500:]
    button(console, "Create topic and table").click()
    console.run()
    assert not console.exception
    assert any("Created topic" in s.value for s in console.success), [e.value for e in console.error]
    catalog = clinic.router(clinic.default_event()).catalog_
    assert len(catalog.tables) == 9
    new_topic = catalog.tables[-1].topic
    assert clinic.router(clinic.default_event()).route([planted[0]["text"]])[0].topic == new_topic
