"""A participant on a phone, in a real browser: write a challenge in French, get a table, see it on a projector.

Screenshots go to artifacts/ for people to look at (CI keeps them).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is in requirements-dev.txt").expect
pytestmark = pytest.mark.e2e

PHONE = (390, 844)
PROJECTOR = (1920, 1080)
FRENCH = "Comment convaincre le musée régional de partager ses collections numérisées sous licence libre ?"
IMG_PAYLOAD = "<img src=x onerror=alert(1)>"
WITH_IMG_PAYLOAD = f"How do we reply to a museum that pasted {IMG_PAYLOAD} into our shared document?"
TABLE = re.compile(r"Table \d+")


@pytest.fixture(scope="module")
def shared() -> dict:
    """What one test leaves for the next (the phone's ticket link, for the projector)."""
    return {}


@pytest.fixture
def participant(wait_for_app_run):
    """What a participant does on the page, waiting for each of the app's runs to finish."""

    class Participant:
        def write(self, page: Page, text: str) -> None:
            box = page.get_by_test_id("stTextArea").locator("textarea")
            box.fill(text)
            box.press("Tab")  # Streamlit takes a text area's value on blur (and preselects languages)
            wait_for_app_run(page)

        def speaks(self, page: Page, native_name: str) -> None:
            """Detection preselects the language the challenge is written in; pick it by hand otherwise."""
            select = page.get_by_test_id("stMultiSelect")
            chip = select.get_by_role("button", name=f"Remove {native_name}")
            if chip.count() == 0:
                select.get_by_role("combobox").click()
                page.get_by_role("option", name=native_name, exact=True).click()
                page.keyboard.press("Escape")
                wait_for_app_run(page)
            expect(chip).to_have_count(1)

        def find_my_table(self, page: Page) -> Locator:
            page.get_by_role("button", name="Find my table").click()
            card = page.locator(".st-key-answer_card")
            expect(card).to_be_visible()
            wait_for_app_run(page)
            expect(page.get_by_test_id("stException")).to_have_count(0)
            return card

        def submit_in_french(self, page: Page) -> Locator:
            self.write(page, FRENCH)
            self.speaks(page, "Français")
            return self.find_my_table(page)

    return Participant()


def test_a_phone_gets_a_table_in_french(open_page, participant, artifacts, shared):
    page = open_page(*PHONE)

    card = participant.submit_in_french(page)

    expect(card).to_contain_text(TABLE)
    expect(card).to_contain_text("Français")
    expect(card).to_contain_text(FRENCH)
    expect(page.locator(".st-key-ticket_box")).to_contain_text(re.compile(r"[2-9A-Z]{4}-[2-9A-Z]{4}"))
    assert re.search(r"[?&]ticket=[2-9A-Z]{8}", page.url), page.url
    page.screenshot(path=artifacts / "e2e-phone-submit.png", full_page=True)
    shared["ticket_link"] = page.url


def test_the_same_card_on_a_projector(open_page, participant, artifacts, shared):
    link = shared.get("ticket_link")
    if link is None:  # this test alone: submit on a phone first
        phone = open_page(*PHONE)
        participant.submit_in_french(phone)
        link = phone.url

    page = open_page(*PROJECTOR, "/" + link[link.index("?") :])  # a new session, as after a refresh

    card = page.locator(".st-key-answer_card")
    expect(card).to_contain_text(TABLE)
    expect(card).to_contain_text("Français")
    expect(card).to_contain_text(FRENCH)
    page.screenshot(path=artifacts / "e2e-projector-card.png", full_page=True)


def test_html_in_a_challenge_is_shown_as_text_never_run(open_page, participant, artifacts):
    page = open_page(*PHONE)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    participant.write(page, WITH_IMG_PAYLOAD)
    participant.speaks(page, "English")
    card = participant.find_my_table(page)

    expect(card).to_contain_text(WITH_IMG_PAYLOAD)
    assert IMG_PAYLOAD in page.inner_text("body"), "the markup is visible as the participant typed it"
    expect(page.locator('img[src="x"]')).to_have_count(0)
    assert dialogs == [], f"the page ran script from a challenge: {dialogs}"
    page.screenshot(path=artifacts / "e2e-phone-html-as-text.png", full_page=True)
