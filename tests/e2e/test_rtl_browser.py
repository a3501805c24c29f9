"""Arabic and Hebrew on a phone, in a real browser: the page, the text area and the card read right to left.

Screenshots (390x844) go to artifacts/e2e-rtl-<language>-*.png for people to look at (CI keeps them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from clinic.i18n import translate

if TYPE_CHECKING:
    from playwright.sync_api import Page

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is in requirements-dev.txt").expect
pytestmark = pytest.mark.e2e

PHONE = (390, 844)
CHALLENGES = {
    "ar": "كيف نجد رعاة وممولين لجوائز مسابقة الصور التي ننظمها؟",
    "he": "איך ממשיכים את השותפות עם הספרייה הלאומית אחרי שאיש הקשר שלנו עוזב?",
}
NATIVE_NAMES = {"ar": "العربية", "he": "עברית"}

# Where a block's last line of text sits in its box: its gaps to the box's left and right edges (the
# last line, because a full line fills the box whichever way it is aligned). A heading's text, not the
# link icon Streamlit adds after it.
LAST_LINE_GAPS_JS = """element => {
  const range = document.createRange();
  range.selectNodeContents(element.querySelector('[data-heading-text]') || element);
  const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
  const top = Math.max(...rects.map(r => r.top));
  const line = rects.filter(r => r.top > top - 4);
  const box = element.getBoundingClientRect();
  return {left: Math.min(...line.map(r => r.left)) - box.left, right: box.right - Math.max(...line.map(r => r.right))};
}"""
ENGLISH_ON_A_HEBREW_PAGE = (
    "How do we keep our museum partner after the director who signed the agreement with us retires next "
    "spring, and nobody else there knows the project?"
)


def style(locator, prop: str) -> str:
    return locator.evaluate(f"e => getComputedStyle(e).{prop}")


def assert_right_aligned(locator) -> None:
    gaps = locator.evaluate(LAST_LINE_GAPS_JS)
    assert gaps["right"] < 2 and gaps["left"] > gaps["right"], f"not aligned right: {gaps}"


def assert_nothing_sticks_out(page: Page) -> None:
    """No sideways scrolling on a phone: nothing is wider than the screen."""
    widths = page.evaluate(
        """() => { const main = document.querySelector('[data-testid="stMain"]');
                   return [main.scrollWidth, main.clientWidth, document.documentElement.scrollWidth]; }"""
    )
    assert widths[0] <= widths[1] and widths[2] <= PHONE[0], f"wider than the phone: {widths}"


def unfocus(page: Page) -> None:
    """Tab leaves the focus on a help icon, whose tooltip would cover the screenshot."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)


@pytest.mark.parametrize("language", ["ar", "he"])
def test_a_phone_in_a_right_to_left_language(open_page, wait_for_app_run, artifacts, language: str):
    page = open_page(*PHONE, f"/?lang={language}")
    main = page.get_by_test_id("stMainBlockContainer")
    title = page.locator("h2").first
    title.wait_for()  # the page's timeout: the first run of a fresh server fits the router
    expect(title).to_have_text(translate(language, "page.title"))
    assert style(main, "direction") == "rtl"
    assert_right_aligned(title)
    box = page.get_by_test_id("stTextArea").locator("textarea")
    assert style(box, "direction") == "rtl"
    expect(box).to_have_attribute("placeholder", translate(language, "form.challenge_placeholder"))
    assert_nothing_sticks_out(page)
    page.screenshot(path=artifacts / f"e2e-rtl-{language}-form.png")

    box.fill(CHALLENGES[language])
    box.press("Tab")  # Streamlit takes the value on blur, and ticks the language it is written in
    wait_for_app_run(page)
    expect(page.get_by_test_id("stMultiSelect").get_by_text(NATIVE_NAMES[language])).to_be_visible()
    unfocus(page)
    page.screenshot(path=artifacts / f"e2e-rtl-{language}-form-filled.png")
    page.get_by_role("button", name=translate(language, "form.submit")).click()
    wait_for_app_run(page)

    card = page.locator(".st-key-answer_card")
    expect(card).to_be_visible()
    expect(card).to_contain_text(CHALLENGES[language])
    assert style(card, "direction") == "rtl"
    assert_right_aligned(card.locator("h2, h3").first)
    assert_right_aligned(card.get_by_test_id("stText"))
    link = page.locator(".st-key-ticket_box").get_by_test_id("stCode")
    expect(link).to_contain_text(f"lang={language}")
    assert style(link, "direction") == "ltr", "the ticket link is a URL: left to right"
    assert_nothing_sticks_out(page)
    card.screenshot(path=artifacts / f"e2e-rtl-{language}-card.png")
    page.locator(".st-key-ticket_box").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / f"e2e-rtl-{language}-card-ticket.png")


def test_english_typed_on_a_hebrew_page_reads_left_to_right(open_page, wait_for_app_run, artifacts):
    page = open_page(*PHONE, "/?lang=he")
    box = page.get_by_test_id("stTextArea").locator("textarea")
    box.fill(ENGLISH_ON_A_HEBREW_PAGE)
    box.press("Tab")
    wait_for_app_run(page)
    languages = page.get_by_test_id("stMultiSelect")
    if languages.get_by_role("button", name="Remove English").count() == 0:  # not ticked by detection
        languages.get_by_role("combobox").click()
        page.get_by_role("option", name="English", exact=True).click()
        page.keyboard.press("Escape")
        wait_for_app_run(page)
    page.get_by_role("button", name=translate("he", "form.submit")).click()
    wait_for_app_run(page)

    card = page.locator(".st-key-answer_card")
    expect(card).to_contain_text(ENGLISH_ON_A_HEBREW_PAGE)
    gaps = card.get_by_test_id("stText").evaluate(LAST_LINE_GAPS_JS)
    assert gaps["left"] < 2, f"an English challenge starts at the left, even on a Hebrew page: {gaps}"
    card.get_by_test_id("stText").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "e2e-rtl-he-english-challenge.png")


def test_the_browsers_language_is_spoken_without_asking(browser, app_url, wait_for_app_run):
    context = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, locale="he-IL")
    try:
        page = context.new_page()
        page.goto(app_url + "/?event=wmcon2018", wait_until="domcontentloaded")
        wait_for_app_run(page)
        page.locator("h2").first.wait_for()
        expect(page.locator("h2").first).to_have_text(translate("he", "page.title"))
        assert style(page.get_by_test_id("stMainBlockContainer"), "direction") == "rtl"
    finally:
        context.close()
