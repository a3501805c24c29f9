"""Organizers in a real browser: the session's data files are made when clicked, and hold it all."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from clinic.documentation import ACTION_EXPORT, EXPORT_FORMAT

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is in requirements-dev.txt").expect
pytestmark = pytest.mark.e2e

PROJECTOR = (1920, 1080)
PHONE = (390, 844)
CHALLENGE = "How do we write the MOU with the national archive? (organizer download test)"


def test_the_data_downloads_hold_what_was_submitted_and_the_json_export_is_audited(
    open_page, passcodes, wait_for_app_run
):
    phone = open_page(*PHONE)
    box = phone.get_by_test_id("stTextArea").locator("textarea")
    box.fill(CHALLENGE)
    box.press("Tab")
    wait_for_app_run(phone)
    phone.get_by_role("button", name="Find my table").click()
    expect(phone.locator(".st-key-answer_card")).to_be_visible()

    console = open_page(*PROJECTOR, "/organize")
    console.get_by_label("Passcode").fill(passcodes["organizer"])
    console.keyboard.press("Enter")
    wait_for_app_run(console)
    console.get_by_role("tab", name="Documentation & data").click()
    wait_for_app_run(console)

    with console.expect_download() as wiki_download:
        console.get_by_role("button", name="Wikitext").click()
    assert wiki_download.value.suggested_filename == "wmcon2018-documentation.wiki"
    with console.expect_download() as csv_download:
        console.get_by_role("button", name="CSV (zip)").click()
    assert csv_download.value.suggested_filename == "wmcon2018-data.zip"
    with zipfile.ZipFile(csv_download.value.path()) as archive:
        assert {"challenges.csv", "assignments.csv", "notes.csv"} <= set(archive.namelist())
        assert CHALLENGE in archive.read("challenges.csv").decode("utf-8-sig")

    with console.expect_download() as json_download:
        console.get_by_role("button", name="Export everything of this event (JSON)").click()
    everything = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    assert everything["format"] == EXPORT_FORMAT
    assert CHALLENGE in [row["text"] for row in everything["tables"]["challenges"]]
    exports = [row for row in everything["tables"]["audit_log"] if row["action"] == ACTION_EXPORT]
    assert [row["role"] for row in exports] == ["organizer"], "this one export, by the organizer, is in the log"
    expect(console.get_by_test_id("stException")).to_have_count(0)
