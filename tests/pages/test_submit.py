"""The participant page (pages/submit.py) through app.py, as a phone uses it: write, get a table, edit, withdraw.

Every test starts from an empty database holding the demo clinic. Expected tables and experts come
from the demo catalog (data/demo) and from what the store holds, not from the page itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from clinic import participants
from clinic.errors import Rejected
from clinic.i18n import translate
from clinic.setup import Clinic
from matching import load_catalog
from matching.limits import MAX_CHALLENGE_CHARS

DEMO = load_catalog(Path(__file__).resolve().parents[2] / "data" / "demo")
TOPIC_NAMES = {topic.name for topic in DEMO.topics}
EXPERT_NAMES = {expert.name for expert in DEMO.experts}

SUBMIT = "Find my table"
SAVE_EDIT = "Save and find my table again"
WITHDRAW = "Yes, withdraw it"
SUBMIT_ANOTHER = "Submit another challenge"

# Challenges whose topic is unmistakable, routed to tables with a French-speaking host in the demo.
GRANTS_FR = "Comment trouver des sponsors locaux pour financer les prix de notre concours photo ?"
GRANTS_EN = "How do we find sponsors and write a grant application to fund the prizes of our photo contest?"
DATA_EN = (
    "The national statistics office wants to donate its open data to Wikidata: how do we batch upload "
    "the datasets and keep them up to date?"
)
EMPTY_MESSAGE = "Please write your challenge"
PASTE_100K = ("How do we find a partner museum? " * 3100)[:99_999] + "?"  # 100,000 characters
TABLE = re.compile(r"\bTable (\d+)\b")


def shown(markdown_source: str) -> str:
    """Markdown source as the reader sees it: escapes, bold and code marks removed."""
    return re.sub(r"\\(.)|\*\*|`", lambda match: match.group(1) or "", markdown_source)


def markdown(at: AppTest) -> list[str]:
    return [shown(element.value) for element in at.markdown]


def click(at: AppTest, label: str) -> AppTest:
    buttons = [button for button in at.button if button.label == label]
    assert buttons, f"no button {label!r} on the page; buttons: {[b.label for b in at.button]}"
    buttons[0].click().run()
    assert not at.exception, at.exception
    return at


def write(at: AppTest, text: str, languages: list[str] | None = None) -> AppTest:
    """Type into the challenge box (set_value: the browser's max_chars is not enforced here) and pick languages."""
    at.text_area(key="challenge_text").set_value(text).run()
    if languages is not None:
        at.multiselect(key="languages").set_value(languages).run()
    assert not at.exception, at.exception
    return at


def submit(at: AppTest, text: str, languages: list[str] | None = None) -> str:
    """Submit a challenge and return the ticket the page now carries in its link."""
    click(write(at, text, languages), SUBMIT)
    assert not at.error, [error.value for error in at.error]
    return ticket_of(at)


def ticket_of(at: AppTest) -> str:
    ticket = at.query_params.get("ticket", "")
    return ticket[0] if isinstance(ticket, list) else ticket


def card_heading(at: AppTest) -> tuple[int, str]:
    """(table number, topic name) the card shows; fails unless it shows exactly one of each."""
    lines = markdown(at)
    tables = [int(match.group(1)) for line in lines if (match := TABLE.search(line))]
    topics = [name for name in TOPIC_NAMES if any(line.lstrip("# ") == name for line in lines)]
    assert len(tables) == 1 and len(topics) == 1, f"expected one table and one topic, the page shows: {lines}"
    return tables[0], topics[0]


def texts(at: AppTest) -> list[str]:
    return [element.value for element in at.text]


def test_the_form_asks_for_a_challenge_languages_and_an_optional_name(app: AppTest):
    headings = [line.lstrip("# ") for line in markdown(app)] + [title.value for title in app.title]
    assert "Bring your partnership challenge" in headings
    assert app.text_area(key="challenge_text").label == "Your challenge"
    assert app.text_area(key="challenge_text").max_chars == MAX_CHALLENGE_CHARS
    languages = app.multiselect(key="languages")
    assert languages.options == ["English", "Français", "Español", "العربية", "Svenska", "עברית"]
    assert languages.value == []
    assert app.text_input(key="participant_name").label == "Your name (optional)"
    assert SUBMIT in [button.label for button in app.button]
    assert not app.error


def test_the_language_a_challenge_is_written_in_is_preselected(app: AppTest):
    write(app, GRANTS_FR)
    assert app.multiselect(key="languages").value == ["fr"]
    assert app.multiselect(key="languages").format_func("fr") == "Français"


def test_a_chosen_language_is_not_overridden_by_detection(app: AppTest):
    write(app, GRANTS_FR, ["en", "es"])
    write(app, GRANTS_FR + " Merci !")
    assert app.multiselect(key="languages").value == ["en", "es"]


def test_submitting_shows_table_topic_expert_and_language(app: AppTest, database):
    submit(app, GRANTS_FR)

    table, topic = card_heading(app)
    assert topic in TOPIC_NAMES
    assert database.seats_taken() == {table: 1}, "the card's table is the seat the store holds"
    experts = [name for name in EXPERT_NAMES if any(f"with {name}" in line for line in markdown(app))]
    assert len(experts) == 1, markdown(app)
    assert any(line.endswith("in Français") for line in markdown(app)), markdown(app)
    assert GRANTS_FR in texts(app), "the card repeats the challenge as plain text"


def test_the_ticket_is_shown_with_its_private_link(app: AppTest):
    ticket = submit(app, GRANTS_EN, ["en"])

    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{8}", ticket)
    assert any(f"Your ticket: {ticket[:4]}-{ticket[4:]}" in line for line in markdown(app)), markdown(app)
    (link,) = [code.value for code in app.code]
    assert "event=wmcon2018" in link and f"ticket={ticket}" in link
    assert app.session_state["ticket"] == ticket


def test_editing_routes_the_challenge_again(app: AppTest, database):
    submit(app, GRANTS_EN, ["en"])
    table_before, topic_before = card_heading(app)

    (edit_box,) = app.text_area  # the ticket view has only the edit form's box
    assert edit_box.value == GRANTS_EN
    edit_box.set_value(DATA_EN)
    click(app, SAVE_EDIT)

    assert [success.value for success in app.success] == ["Saved. Here is your table now."]
    table_after, topic_after = card_heading(app)
    assert (table_after, topic_after) != (table_before, topic_before)
    assert DATA_EN in texts(app)
    assert GRANTS_EN not in texts(app)
    assert database.seats_taken() == {table_after: 1}, "the old seat is freed, the new one taken"
    assert database.count_challenges() == 1


def test_an_edit_that_empties_the_challenge_is_refused(app: AppTest, database):
    submit(app, GRANTS_EN, ["en"])
    table, _ = card_heading(app)
    app.text_area[0].set_value("   ")
    click(app, SAVE_EDIT)

    assert any(EMPTY_MESSAGE in error.value for error in app.error)
    assert GRANTS_EN in texts(app)
    assert database.seats_taken() == {table: 1}


def test_withdrawing_frees_the_seat(app: AppTest, database):
    submit(app, GRANTS_EN, ["en"])
    table, _ = card_heading(app)
    assert database.seats_taken() == {table: 1}

    click(app, WITHDRAW)

    assert [info.value for info in app.info] == ["You have withdrawn this challenge."]
    assert database.seats_taken() == {}
    assert not [line for line in markdown(app) if TABLE.search(line)], "no table is offered any more"
    click(app, SUBMIT_ANOTHER)
    assert app.text_area(key="challenge_text").value == ""


@pytest.mark.parametrize(
    "typed, message",
    [
        pytest.param("", EMPTY_MESSAGE, id="empty"),
        pytest.param("   \n\t  \n", EMPTY_MESSAGE, id="whitespace-only"),
        pytest.param("\x00\x00\x00", EMPTY_MESSAGE, id="null-bytes-only"),
        pytest.param("🤝 🙂 🎉", EMPTY_MESSAGE, id="emoji-only"),
    ],
)
def test_a_bad_challenge_is_refused_with_the_reason_and_the_text_kept(app: AppTest, database, typed: str, message: str):
    write(app, typed, ["en"])
    click(app, SUBMIT)

    errors = [error.value for error in app.error]
    assert len(errors) == 1, errors
    assert message in errors[0]
    assert app.text_area(key="challenge_text").value == typed, "what was typed stays in the box"
    assert not ticket_of(app)
    assert database.count_challenges() == 0


def test_a_100000_character_paste_is_stored_as_the_box_shows_it(app: AppTest, database):
    """Streamlit cuts a text_area's value to max_chars on the server too, so the box never holds more."""
    pasted = PASTE_100K
    assert len(pasted) == 100_000
    write(app, pasted, ["en"])
    in_the_box = app.text_area(key="challenge_text").value
    assert in_the_box == pasted[:MAX_CHALLENGE_CHARS]

    submit(app, pasted, ["en"])

    assert in_the_box.strip() in texts(app), "what is stored is what the box showed"
    assert database.count_challenges() == 1


def test_a_challenge_over_the_limit_is_refused_with_its_length(database, app: AppTest):
    """The page cannot send more than the limit; the use case behind it refuses it in words anyway."""
    clinic = Clinic.open(database.url)
    try:
        with pytest.raises(Rejected) as refused:
            participants.submit_challenge(clinic, "wmcon2018", PASTE_100K, ["en"])
    finally:
        clinic.engine.dispose()

    assert refused.value.code == "too_long"
    message = translate("en", f"error.{refused.value.code}", **refused.value.details)
    assert re.search(r"100,?000 characters long; please shorten it to 2,?000", message), message
    assert database.count_challenges() == 0


def test_a_challenge_without_a_language_is_refused(app: AppTest, database):
    write(app, GRANTS_EN, [])
    click(app, SUBMIT)

    assert [error.value for error in app.error] == ["Please pick at least one language you can talk in."]
    assert app.text_area(key="challenge_text").value == GRANTS_EN
    assert database.count_challenges() == 0


@pytest.mark.parametrize(
    "typed, languages",
    [
        pytest.param("<script>alert(1)</script>", ["en"], id="html-script"),
        pytest.param("**bold** [link](http://x)", ["en"], id="markdown"),
        pytest.param("Our partner 🤝 loves emoji 🎉 but how do we sign an MOU with them? 🙂", ["en"], id="emoji"),
        pytest.param("كيف نقنع المتحف الوطني بمشاركة صوره على ويكيميديا كومنز؟", ["ar", "en"], id="arabic-rtl"),
        pytest.param("$x$ :red[red] ~~gone~~ <b>#1</b> | a | b |", ["en"], id="latex-colour-table"),
    ],
)
def test_what_a_participant_typed_is_shown_literally(app: AppTest, database, typed: str, languages: list[str]):
    submit(app, typed, languages)

    assert typed in texts(app), "the challenge is shown verbatim as plain text"
    sources = [
        element.value
        for kind in ("markdown", "caption", "info", "warning", "success", "error")
        for element in getattr(app, kind)
    ]
    assert not [source for source in sources if typed in source], "never passed to Markdown unescaped"
    assert database.count_challenges() == 1


def test_an_arabic_challenge_preselects_arabic(app: AppTest):
    write(app, "كيف نقنع المتحف الوطني بمشاركة صوره على ويكيميديا كومنز؟")
    assert app.multiselect(key="languages").value == ["ar"]


def test_null_bytes_inside_a_challenge_are_dropped(app: AppTest, database):
    submit(app, "Comment trouver des sponsors\x00 locaux pour notre concours\x00 photo ?", ["fr"])

    assert "Comment trouver des sponsors locaux pour notre concours photo ?" in texts(app)
    assert not [text for text in texts(app) if "\x00" in text]


@pytest.mark.parametrize("as_typed", [str, str.lower, lambda ticket: f" {ticket[:4].lower()}-{ticket[4:]} "])
def test_opening_the_private_link_again_shows_the_card(app: AppTest, new_session, as_typed):
    """A refresh (or the link on another device) starts a new session: the ticket alone brings the card back."""
    ticket = submit(app, GRANTS_FR)
    heading = card_heading(app)

    refreshed = new_session()
    refreshed.query_params["event"] = "wmcon2018"
    refreshed.query_params["ticket"] = as_typed(ticket)
    refreshed.run()

    assert not refreshed.exception, refreshed.exception
    assert card_heading(refreshed) == heading
    assert GRANTS_FR in texts(refreshed)
    assert ticket_of(refreshed) == ticket


def test_a_ticket_typed_into_the_form_opens_the_card(app: AppTest, new_session):
    ticket = submit(app, GRANTS_EN, ["en"])
    heading = card_heading(app)

    other_phone = new_session()
    other_phone.run()
    other_phone.text_input[-1].input(f"{ticket[:4]}-{ticket[4:]}".lower())
    click(other_phone, "Open")

    assert card_heading(other_phone) == heading


def test_an_unknown_ticket_says_so_and_offers_the_form(new_session):
    at = new_session()
    at.query_params["ticket"] = "ZZZZZZZZ"
    at.run()

    assert [error.value for error in at.error] == ["No challenge has this ticket. Please check the code."]
    click(at, SUBMIT_ANOTHER)
    assert at.text_area(key="challenge_text").value == ""


def test_a_double_submit_stores_the_challenge_once(app: AppTest, new_session, database):
    """A double tap sends the same form twice; the second request carries the form's submission key."""
    write(app, GRANTS_EN, ["en"])
    form_key = app.session_state["submission_key"]
    ticket = ticket_of(click(app, SUBMIT))

    # The second request: same form (same key, same text), arriving after the first one was stored.
    second = new_session()
    second.session_state["submission_key"] = form_key
    second.run()
    write(second, GRANTS_EN, ["en"])
    click(second, SUBMIT)

    assert ticket_of(second) == ticket
    assert database.count_challenges() == 1


def test_two_forms_store_two_challenges(app: AppTest, new_session, database):
    """The guard against double submits does not merge two people who write the same words."""
    first = submit(app, GRANTS_EN, ["en"])
    other = new_session()
    other.run()
    second = submit(other, GRANTS_EN, ["en"])

    assert first != second
    assert database.count_challenges() == 2
