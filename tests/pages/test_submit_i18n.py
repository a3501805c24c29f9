"""The participant page in each of the clinic's six languages: join, submit, read the card, edit, withdraw.

For every language, everything the page shows is compared with the English words (en.yaml) that
language translates differently: none of them may appear. Names of people, affiliations, the
event's title and what the participant typed are not UI words and are left out of the comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from clinic.i18n import FALLBACK_LANGUAGE, messages, translate
from matching import load_catalog

ROOT = Path(__file__).resolve().parents[2]
DEMO = load_catalog(ROOT / "data" / "demo")
LANGUAGES = [language.code for language in DEMO.languages]
NATIVE_NAMES = {language.code: language.native_name for language in DEMO.languages}
ENGLISH = messages(FALLBACK_LANGUAGE)
EVENT_TITLE = "Peer-consultation clinic: Bring your partnership challenges or questions!"
# Words that are not the interface's: people, organisations, the product's name.
NOT_UI_WORDS = sorted(
    {EVENT_TITLE, "Peer Clinic", *NATIVE_NAMES.values()}
    | {expert.name for expert in DEMO.experts}
    | {expert.affiliation for expert in DEMO.experts if expert.affiliation},
    key=len,
    reverse=True,
)

# (first challenge, its edit) in each language; each names its topic plainly.
CHALLENGES = {
    "en": (
        "How do we find sponsors and write a grant application to fund the prizes of our photo contest?",
        "The national statistics office wants to donate its open data to Wikidata: how do we batch upload it?",
    ),
    "fr": (
        "Comment trouver des sponsors locaux pour financer les prix de notre concours photo ?",
        "Comment signer une convention avec les archives départementales sur la licence des photos ?",
    ),
    "es": (
        "¿Cómo firmamos un convenio con la universidad sin que su departamento jurídico cambie la licencia?",
        "¿Cómo subimos a Wikidata los datos abiertos del instituto de estadística y los mantenemos al día?",
    ),
    "ar": (
        "كيف نجد رعاة وممولين لجوائز مسابقة الصور التي ننظمها؟",
        "كيف نتعاون مع الفروع في الدول المجاورة في المنطقة العربية؟",
    ),
    "sv": (
        "Hur ser vi till att samarbetet med länsmuseet fortsätter när vår kontaktperson går i pension?",
        "Hur laddar vi upp museets metadata till Wikidata i en stor batch?",
    ),
    "he": (
        "איך ממשיכים את השותפות עם הספרייה הלאומית אחרי שאיש הקשר שלנו עוזב?",
        "איך מנסחים מזכר הבנות עם הארכיון העירוני על רישיון התמונות?",
    ),
}
RIGHT_TO_LEFT = {language.code for language in DEMO.languages if language.direction == "rtl"}


def test_there_is_a_challenge_for_every_clinic_language():
    assert sorted(CHALLENGES) == sorted(LANGUAGES)
    assert sorted(RIGHT_TO_LEFT) == ["ar", "he"]


# --- what is on the screen ---------------------------------------------------------------------

_ICON = re.compile(r":material/[a-z_]+:")
_BADGE = re.compile(r":[a-z]+-badge\[(.*?)\]")


def as_read(source: str) -> str:
    """Markdown source as the reader sees it: icons, escapes, emphasis, code and heading marks gone."""
    text = _BADGE.sub(r"\1", _ICON.sub("", source))
    text = re.sub(r"\\(.)|\*\*|`", lambda match: match.group(1) or "", text)
    return text.lstrip("# ").strip()


def on_screen(at: AppTest) -> list[str]:
    """Every string a participant can read: texts, labels, hints, placeholders, options, alerts."""
    found: list[str] = []

    def visit(node) -> None:
        kind = type(node).__name__
        if kind not in ("Html", "TextArea", "TextInput"):  # <style> only; typed values are the user's
            value = getattr(node, "value", None)
            if isinstance(value, str):
                found.append(value)
        for attribute in ("label", "help", "placeholder"):
            value = getattr(node, attribute, None)
            if isinstance(value, str) and value:
                found.append(value)
        if kind in ("Multiselect", "ButtonGroup"):
            found.extend(node.options)
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    return [as_read(text) for text in found if text]


def message_pattern(template: str, whole: bool = False) -> re.Pattern:
    """A regex matching `template` with any values filled in (as a whole line if `whole`)."""
    parts = re.split(r"\{\w+\}", template)
    body = ".+?".join(re.escape(part) for part in parts)
    # A template with next to no words of its own ("in {language}") only counts as a whole line.
    whole = whole or sum(ch.isalpha() for ch in "".join(parts)) < 3
    return re.compile(rf"^{body}$" if whole else rf"(?<!\w){body}(?!\w)")


def untranslated(lines: list[str], language: str, own_words: list[str]) -> list[tuple[str, str]]:
    """(key, line) for each line that shows an English message `language` says differently."""
    allowed = sorted([*NOT_UI_WORDS, *(word for word in own_words if word)], key=len, reverse=True)
    cleaned = []
    for line in lines:
        for word in allowed:
            line = line.replace(word, "\u2060")
        cleaned.append(line)
    translated = messages(language)
    checks = [(key, message_pattern(text)) for key, text in ENGLISH.items() if translated.get(key) != text]
    return [(key, line) for line in cleaned for key, pattern in checks if pattern.search(line)]


def latin_words(lines: list[str], own_words: list[str]) -> list[str]:
    """Latin-script words left on an Arabic or Hebrew screen once names and the user's words are set aside."""
    allowed = sorted([*NOT_UI_WORDS, *own_words, "GLAM"], key=len, reverse=True)
    left = []
    for line in lines:
        for word in allowed:
            line = line.replace(word, " ")
        left += re.findall(r"[A-Za-z]{3,}", line)
    return left


# --- what a participant does -------------------------------------------------------------------


def click(at: AppTest, label: str) -> AppTest:
    buttons = [button for button in at.button if button.label == label]
    assert buttons, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    buttons[0].click().run()
    assert not at.exception, at.exception
    return at


def open_in(new_session, language: str | None, **context) -> AppTest:
    at = new_session()
    if language:
        at.query_params["lang"] = language
    at.context.update(context)
    at.run()
    assert not at.exception, at.exception
    return at


def heading(at: AppTest) -> str:
    return next(as_read(m.value) for m in at.markdown if m.value.startswith("## "))


def ticket_link(at: AppTest) -> str:
    (link,) = [code.value for code in at.code]
    return link


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_whole_participant_flow_speaks_the_participants_language(new_session, database, language: str):
    def say(key: str, **params) -> str:
        return translate(language, key, **params)

    first, edited = CHALLENGES[language]
    own_words = [first, edited, *first.split(), *edited.split()]
    # Topic names are the catalog's words: shown in this language where the catalog has them.
    own_words += [topic.name_in(language) for topic in DEMO.topics]
    screens: dict[str, list[str]] = {}

    at = open_in(new_session, language)
    assert heading(at) == say("page.title")
    assert at.text_area(key="challenge_text").label == say("form.challenge")
    assert at.text_area(key="challenge_text").placeholder == say("form.challenge_placeholder")
    assert at.multiselect(key="languages").placeholder == say("form.languages_placeholder")
    assert say("form.submit") in [button.label for button in at.button]
    screens["form"] = on_screen(at)

    click(at, say("form.submit"))  # nothing written yet
    assert [error.value for error in at.error] == [say("error.empty")]
    screens["refusal"] = on_screen(at)

    at.text_area(key="challenge_text").set_value(first).run()
    at.multiselect(key="languages").set_value([language]).run()
    click(at, say("form.submit"))
    assert not at.error, [error.value for error in at.error]
    lines = on_screen(at)
    table = message_pattern(messages(language)["card.table"], whole=True)
    assert any(table.search(line) for line in lines) or say("card.triage_title") in lines, lines
    assert first in [text.value for text in at.text], "the card repeats the challenge as typed"
    assert f"lang={language}" in ticket_link(at), "the private link keeps the language"
    ticket = at.session_state["ticket"]
    own_words += [ticket_link(at), f"{ticket[:4]}-{ticket[4:]}"]  # codes, not words
    screens["card"] = lines

    (box,) = at.text_area
    box.set_value(edited)
    click(at, say("edit.save"))
    assert [success.value for success in at.success] == [say("edit.saved")]
    assert edited in [text.value for text in at.text]
    screens["edited card"] = on_screen(at)

    click(at, say("withdraw.confirm"))
    assert [info.value for info in at.info] == [say("card.withdrawn")]
    assert say("new.submit_another") in [button.label for button in at.button]
    screens["withdrawn"] = on_screen(at)
    assert database.seats_taken() == {}

    if language == FALLBACK_LANGUAGE:
        return
    english = {screen: untranslated(lines, language, own_words) for screen, lines in screens.items()}
    assert not {screen: found for screen, found in english.items() if found}, f"English on the {language} screens"
    if language in RIGHT_TO_LEFT:
        latin = {screen: latin_words(lines, own_words) for screen, lines in screens.items()}
        assert not {screen: words for screen, words in latin.items() if words}, f"Latin words on the {language} screens"


# --- choosing the language ---------------------------------------------------------------------


def test_without_a_choice_the_page_speaks_the_events_default(new_session):
    at = open_in(new_session, None)
    assert heading(at) == ENGLISH["page.title"]
    (switcher,) = at.pills
    assert switcher.options == [NATIVE_NAMES[code] for code in LANGUAGES], "native names, the clinic's order"
    assert switcher.value == "en"


def test_the_browsers_language_is_used_when_the_link_names_none(new_session):
    assert heading(open_in(new_session, None, locale="sv-SE")) == translate("sv", "page.title")
    assert heading(open_in(new_session, "fr", locale="sv-SE")) == translate("fr", "page.title"), "?lang= first"
    assert heading(open_in(new_session, None, locale="de-DE")) == ENGLISH["page.title"], "not a clinic language"


@pytest.mark.parametrize("asked", ["de", "xx-YY", "<script>", "HE"])
def test_only_a_clinic_language_is_taken_from_the_link(new_session, asked: str):
    expected = "he" if asked == "HE" else "en"
    assert heading(open_in(new_session, asked)) == translate(expected, "page.title")


def test_the_switcher_changes_the_language_and_it_sticks_for_the_session(new_session):
    at = open_in(new_session, None)
    at.pills[0].set_value("he").run()
    assert not at.exception, at.exception

    assert heading(at) == translate("he", "page.title")
    assert at.query_params["lang"] in ("he", ["he"]), "the link names the language chosen"
    del at.query_params["lang"]  # e.g. a page reached without it: the session remembers
    at.run()
    assert heading(at) == translate("he", "page.title")
    assert at.pills[0].value == "he"


def test_a_private_link_opens_the_card_in_its_language(new_session):
    at = open_in(new_session, "fr")
    at.text_area(key="challenge_text").set_value(CHALLENGES["fr"][0]).run()
    click(at, translate("fr", "form.submit"))
    link = ticket_link(at)

    later = new_session()  # a refresh, or the link opened on another phone
    for name, value in re.findall(r"(\w+)=([^&]+)", link.split("?", 1)[1]):
        later.query_params[name] = value
    later.run()

    assert not later.exception, later.exception
    assert heading(later) == translate("fr", "page.title")
    assert translate("fr", "edit.title") in [expander.label for expander in later.expander]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refusal_is_said_in_the_participants_language(new_session, database, language: str):
    at = open_in(new_session, language)
    at.text_area(key="challenge_text").set_value(CHALLENGES[language][0]).run()
    at.multiselect(key="languages").set_value([]).run()
    click(at, translate(language, "form.submit"))

    assert [error.value for error in at.error] == [translate(language, "error.no_language")]
    assert database.count_challenges() == 0


def test_an_unknown_ticket_and_an_unknown_event_are_explained_in_the_language_asked(new_session):
    at = new_session()
    at.query_params.update({"lang": "he", "ticket": "ZZZZZZZZ"})
    at.run()
    assert [error.value for error in at.error] == [translate("he", "error.unknown_ticket")]
    assert [button.label for button in at.button] == [translate("he", "new.submit_another")]

    at = new_session()
    at.query_params.update({"lang": "ar", "event": "no-such-clinic"})
    at.run()
    assert [error.value for error in at.error] == [translate("ar", "error.unknown_event")]
    assert at.pills[0].value == "ar", "the switcher is there even on a wrong link"


# --- right to left, with CSS only ----------------------------------------------------------------


def stylesheets(at: AppTest) -> list[str]:
    return [element.proto.body for element in at.html]


@pytest.mark.parametrize("language", LANGUAGES)
def test_arabic_and_hebrew_lay_the_page_out_right_to_left(new_session, language: str):
    at = open_in(new_session, language)
    (css,) = stylesheets(at)
    assert css.startswith("<style>") and css.endswith("</style>")
    assert ("direction: rtl" in css) == (language in RIGHT_TO_LEFT)


def test_the_stylesheet_never_holds_what_a_participant_typed(new_session):
    typed = "</style><script>alert(1)</script> كيف نقنع المتحف الوطني؟"
    at = open_in(new_session, "ar")
    before = stylesheets(at)
    at.text_area(key="challenge_text").set_value(typed).run()
    at.multiselect(key="languages").set_value(["ar"]).run()
    click(at, translate("ar", "form.submit"))

    assert typed in [text.value for text in at.text], "shown as plain text on the card"
    assert stylesheets(at) == before, "the same fixed stylesheet, whatever was typed"


def test_no_screen_lets_html_through():
    sources = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "clinic").glob("*.py")]
    assert not [path.name for path in sources if "unsafe_allow_html" in path.read_text(encoding="utf-8")]
