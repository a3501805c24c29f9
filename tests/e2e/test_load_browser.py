"""The rush in real browsers: 20 phones press "Find my table" at the same moment on one server.

Every one of them gets its own answer card and ticket, and the facilitators' board counts all 20.
"""

from __future__ import annotations

import json
import re
import time

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is in requirements-dev.txt").expect
pytestmark = pytest.mark.e2e

PHONES = 20
STEP_TIMEOUT_MS = 120_000  # 20 sessions and 20 pages share two CPU cores
PHONE = (390, 844)
PROJECTOR = (1920, 1080)
TOPICS = [
    "find sponsors and donors to fund our photo contest",
    "convince the regional museum to share its digitised collections",
    "write a memorandum of understanding with a university",
    "donate a dataset of open government data to Wikidata",
    "get the local radio station to talk about Wikipedia",
]


def challenge(n: int) -> str:
    return f"How do we {TOPICS[n % len(TOPICS)]}? (phone {n})"


@pytest.fixture
def phones(browser, app_url):
    """20 phones opening the join link. Each page is a Streamlit session of its own (a session is a
    websocket, not a cookie); one browser context lets them share the cached app bundle, so two CPU
    cores open 20 pages in seconds rather than a minute."""
    context = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]})
    pages = []
    for _ in range(PHONES):
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        page.goto(app_url, wait_until="domcontentloaded")
        pages.append(page)
    yield pages
    context.close()


def test_20_phones_submitting_at_once_are_all_stored_and_answered(
    phones, open_page, passcodes, wait_for_app_run, artifacts
):
    for phone in phones:
        wait_for_app_run(phone, timeout_ms=STEP_TIMEOUT_MS)
    for n, phone in enumerate(phones):
        box = phone.get_by_test_id("stTextArea").locator("textarea")
        box.fill(challenge(n))
        box.press("Tab")  # the value reaches the server on blur; English is preselected by detection
    for phone in phones:
        wait_for_app_run(phone, timeout_ms=STEP_TIMEOUT_MS)
        chip = phone.get_by_test_id("stMultiSelect").get_by_role("button", name="Remove English")
        expect(chip).to_have_count(1, timeout=STEP_TIMEOUT_MS)

    started = time.monotonic()
    for phone in phones:  # as fast as one driver can click: all 20 requests overlap on the server
        phone.get_by_role("button", name="Find my table").click(no_wait_after=True)
    tickets = set()
    for n, phone in enumerate(phones):
        card = phone.locator(".st-key-answer_card")
        expect(card).to_contain_text(challenge(n), timeout=STEP_TIMEOUT_MS)
        expect(card).to_contain_text(re.compile(r"Table \d+|A facilitator will seat you"))
        expect(phone.get_by_test_id("stException")).to_have_count(0)
        ticket = re.search(r"[?&]ticket=([2-9A-Z]{8})", phone.url)
        assert ticket, phone.url
        tickets.add(ticket.group(1))
    seconds = time.monotonic() - started
    print(f"20 phones answered in {seconds:.1f} s")
    assert len(tickets) == PHONES, "every phone got a ticket of its own"

    board = open_page(*PROJECTOR, "/board")
    board.get_by_label("Passcode").fill(passcodes["facilitator"])
    board.keyboard.press("Enter")
    wait_for_app_run(board)
    counters = board.get_by_text(re.compile(r"seated · \d+ in triage")).first
    expect(counters).to_be_visible()
    seated, triaged = map(int, re.search(r"(\d+) seated · (\d+) in triage", counters.inner_text()).groups())
    (artifacts / "e2e-load-figures.json").write_text(
        json.dumps({"phones": PHONES, "answered_in_s": round(seconds, 1), "seated": seated, "triaged": triaged}) + "\n"
    )
    assert seated + triaged == PHONES, counters.inner_text()
    board_text = board.inner_text("body")
    assert [n for n in range(PHONES) if f"(phone {n})" not in board_text] == [], "each one is on the board"
    board.screenshot(path=str(artifacts / "e2e-board-after-20-phones.png"), full_page=True)
