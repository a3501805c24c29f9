"""What a participant does with the demo clinic: submit, read the answer, edit, withdraw."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from clinic import participants
from clinic.errors import Rejected
from matching.limits import MAX_CHALLENGE_CHARS, MAX_NAME_CHARS
from matching.router import TRIAGE_REASONS
from store import challenges as challenge_store
from store.schema import challenges, events

EVENT = "wmcon2018"
GRANTS_EN = "How do we find sponsors and donors to fund our photo contest? Which grant should we apply for?"
GRANTS_FR = (
    "Comment trouver des sponsors et des mécènes pour financer notre concours photo ? Quelle subvention demander ?"
)
FORMALITIES_EN = "How do we write a memorandum of understanding and a contract with licence clauses?"


def stored_challenges(clinic) -> list[dict]:
    with clinic.engine.connect() as connection:
        return [dict(r) for r in connection.execute(select(challenges).order_by(challenges.c.id)).mappings()]


def seats(clinic) -> dict[int, int]:
    """Seats taken per table in the current round, as the board counts them."""
    event = clinic.event(EVENT)
    with clinic.engine.connect() as connection:
        return challenge_store.occupancy(connection, event["id"], event["current_round"])[0]


def catalog(clinic):
    return clinic.router(clinic.event(EVENT)).catalog_


def expert_named(clinic, name):
    return next(e for e in catalog(clinic).experts if e.name == name)


def submit(clinic, text=GRANTS_EN, languages=("en",), **kwargs):
    return participants.submit_challenge(clinic, EVENT, text, list(languages), **kwargs)


def rejected(call, *args, **kwargs) -> Rejected:
    with pytest.raises(Rejected) as caught:
        call(*args, **kwargs)
    return caught.value


# -- submit ----------------------------------------------------------------------------------


def test_submit_seats_the_challenge_and_says_where(clinic):
    answer = submit(clinic, GRANTS_EN, ["en"], name="Emna")

    assert answer.seated
    assert answer.status == challenge_store.STATUS_ASSIGNED
    assert answer.topic == "grants"
    assert answer.topic_name == catalog(clinic).topic("grants").name
    table = next(t for t in catalog(clinic).tables if t.number == answer.table)
    assert table.topic == "grants"
    expert = expert_named(clinic, answer.expert_name)
    assert expert.table == answer.table
    assert answer.expert_affiliation == expert.affiliation
    assert answer.language == "en" and "en" in expert.languages
    assert answer.terms, "the participant is told which words drove the route"
    assert answer.round == 1
    assert answer.participant_name == "Emna"
    assert answer.event_code == EVENT
    # The answer is what the store holds, so a refresh shows the same card.
    assert participants.answer_for_ticket(clinic, answer.ticket) == answer
    assert seats(clinic) == {answer.table: 1}


def test_a_french_only_speaker_is_seated_with_a_french_speaking_expert(clinic):
    answer = submit(clinic, GRANTS_FR, ["fr"])

    assert answer.seated
    assert answer.detected_language == "fr"
    assert answer.language == "fr"
    expert = expert_named(clinic, answer.expert_name)
    assert "fr" in expert.languages
    assert expert.table == answer.table
    assert next(t for t in catalog(clinic).tables if t.number == answer.table).topic == answer.topic


def test_every_language_s_samples_are_seated_only_with_a_speaker_of_it(clinic):
    """Across the demo clinic, a participant who speaks one language is never sent to a table
    where nobody speaks it: they are seated in that language, or a facilitator decides."""
    demo = catalog(clinic)
    samples = {}
    for example in demo.examples:
        samples.setdefault((example.language, example.topic), example.text)
    assert {language for language, _ in samples} == set(demo.language_codes)

    for (language, _topic), text in sorted(samples.items()):
        answer = submit(clinic, text, [language])
        if answer.seated:
            assert answer.language == language, text
            assert language in expert_named(clinic, answer.expert_name).languages, text
        else:
            assert answer.triage_reason in TRIAGE_REASONS, text
            assert answer.status == challenge_store.STATUS_WAITING
    assert len(stored_challenges(clinic)) == len(samples)  # the unseated wait in triage, none is lost


def test_without_a_shared_language_the_challenge_goes_to_triage_not_to_a_wrong_table(clinic, small_event):
    museum = "Comment convaincre un musée de partager ses collections numérisées ?"
    french_only = participants.submit_challenge(clinic, small_event, museum, ["fr"])

    assert french_only.topic == "glam"
    assert not french_only.seated
    assert french_only.expert_name is None and french_only.language is None
    assert french_only.triage_reason == "no_shared_language"
    assert french_only.status == challenge_store.STATUS_WAITING

    # Who also speaks English gets the glam table, in English.
    bilingual = participants.submit_challenge(clinic, small_event, museum, ["fr", "en"])
    assert (bilingual.table, bilingual.expert_name, bilingual.language) == (2, "Ben", "en")
    assert len(stored_challenges(clinic)) == 2  # the French speaker waits for a facilitator, not lost


def test_events_do_not_share_seats(clinic, small_event):
    grants = "Comment trouver un mécène et une subvention pour notre budget ?"
    answers = [participants.submit_challenge(clinic, small_event, grants, ["fr"]) for _ in range(3)]
    assert [a.table for a in answers] == [1, 1, None]  # the small clinic's table 1 seats 2
    assert answers[-1].triage_reason == "tables_full"
    assert submit(clinic, GRANTS_FR, ["fr"]).seated  # the demo clinic's own table 1 is still empty


def test_tickets_are_short_unambiguous_and_forgiving_to_type(clinic):
    answer = submit(clinic)
    ticket = answer.ticket

    assert len(ticket) == participants.TICKET_LENGTH
    assert set(ticket) <= set(participants.TICKET_ALPHABET)
    assert not set(ticket) & set("01OIL")
    typed = participants.format_ticket(ticket).lower()  # "abcd-efgh", as read from a phone
    assert participants.answer_for_ticket(clinic, f" {typed} ").ticket == ticket


def test_every_challenge_gets_its_own_ticket(clinic):
    tickets = {submit(clinic).ticket for _ in range(5)}
    assert len(tickets) == 5
    assert len(stored_challenges(clinic)) == 5


def test_the_same_form_submitted_twice_is_stored_once(clinic):
    """A double tap or a re-sent request must not make two challenges or take two seats."""
    key = participants.new_submission_key()
    first = submit(clinic, GRANTS_EN, ["en"], submission_key=key)
    second = submit(clinic, GRANTS_EN, ["en"], submission_key=key)

    assert second == first
    rows = stored_challenges(clinic)
    assert len(rows) == 1 and rows[0]["submission_key"] == key
    assert seats(clinic) == {first.table: 1}


def test_a_new_form_makes_a_new_challenge_even_with_the_same_text(clinic):
    first = submit(clinic, submission_key=participants.new_submission_key())
    second = submit(clinic, submission_key=participants.new_submission_key())
    assert first.ticket != second.ticket
    assert len(stored_challenges(clinic)) == 2


def test_the_names_of_the_languages_and_topics_come_from_the_event(clinic):
    languages = participants.event_languages(clinic, EVENT)
    assert [language.code for language in languages] == ["en", "fr", "es", "ar", "sv", "he"]
    assert {language.code: language.direction for language in languages}["ar"] == "rtl"
    names = participants.topic_names(clinic, EVENT, "xx")  # a language without names: the defaults
    assert list(names) == ["grants", "outreach", "managing", "exit", "formalities", "glam", "regional", "data"]
    assert names["grants"] == catalog(clinic).topic("grants").name


def test_detect_language_preselects_the_language_written_in(clinic):
    assert participants.detect_language(clinic, EVENT, GRANTS_FR) == "fr"
    assert participants.detect_language(clinic, EVENT, "كيف نجد ممولين لمسابقة الصور؟") == "ar"
    assert participants.detect_language(clinic, EVENT, "איך מוצאים נותני חסות לתחרות הצילום?") == "he"


# -- refusals ---------------------------------------------------------------------------------


def test_an_unknown_event_is_refused(clinic):
    error = rejected(participants.submit_challenge, clinic, "nope2018", GRANTS_EN, ["en"])
    assert error.code == "unknown_event"
    assert "nope2018" in error.message
    assert rejected(participants.event_languages, clinic, "nope2018").code == "unknown_event"
    assert stored_challenges(clinic) == []


def test_closed_submissions_are_refused_and_nothing_is_stored(clinic):
    with clinic.engine.begin() as connection:
        connection.execute(update(events).where(events.c.code == EVENT).values(submissions_open=False))

    assert rejected(submit, clinic).code == "closed"
    assert stored_challenges(clinic) == []


@pytest.mark.parametrize("call", ["answer", "edit", "withdraw"])
@pytest.mark.parametrize(
    "ticket",
    ["ZZZZ9999", "", "   ", "'; DROP TABLE challenges; --", "x" * 10_000],
    ids=["unknown", "empty", "spaces", "sql", "huge"],
)
def test_an_unknown_ticket_is_refused(clinic, call, ticket):
    submit(clinic)  # someone else's challenge exists
    action = {
        "answer": lambda: participants.answer_for_ticket(clinic, ticket),
        "edit": lambda: participants.edit_challenge(clinic, ticket, GRANTS_EN, ["en"]),
        "withdraw": lambda: participants.withdraw_challenge(clinic, ticket),
    }[call]
    assert rejected(action).code == "unknown_ticket"
    (row,) = stored_challenges(clinic)
    assert row["status"] == challenge_store.STATUS_ASSIGNED and row["version"] == 1


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\t \u00a0\u3000", "?!…", "🙂🎉👍", "\x00\x01\x02", "<b></b>", "a"],
    ids=["empty", "spaces", "whitespace", "punctuation", "emoji_only", "control_only", "markup_only", "one_letter"],
)
def test_a_challenge_without_words_is_refused(clinic, text):
    assert rejected(submit, clinic, text).code == "empty"
    assert stored_challenges(clinic) == []


def test_a_100000_character_challenge_is_refused_not_cut(clinic):
    text = ("We need a partner for our archive. " * 3000)[:100_000]
    error = rejected(submit, clinic, text)
    assert error.code == "too_long"
    assert error.details == {"length": 100_000, "limit": MAX_CHALLENGE_CHARS}
    assert stored_challenges(clinic) == []


def test_a_challenge_at_the_limit_is_stored_whole(clinic):
    text = (GRANTS_EN + " ") * 30
    text = text[: MAX_CHALLENGE_CHARS - 1] + "?"
    assert submit(clinic, text).text == text
    assert stored_challenges(clinic)[0]["text"] == text
    assert rejected(submit, clinic, text + "!").code == "too_long"


def test_the_length_limit_counts_characters_not_bytes(clinic):
    text = "مرحبا " * (MAX_CHALLENGE_CHARS // 6)  # 2,000 characters, 3,700 bytes in UTF-8
    assert len(text.strip()) <= MAX_CHALLENGE_CHARS < len(text.encode("utf-8"))
    assert submit(clinic, text, ["ar"]).text == text.strip()


def test_a_name_too_long_is_refused(clinic):
    error = rejected(submit, clinic, GRANTS_EN, ["en"], name="N" * (MAX_NAME_CHARS + 1))
    assert error.code == "name_too_long"
    assert stored_challenges(clinic) == []
    name = "Ñ" * MAX_NAME_CHARS
    assert submit(clinic, name=name).participant_name == name


def test_a_name_is_tidied_like_a_name(clinic):
    assert submit(clinic, name="  Emna \t  Mizouni\n").participant_name == "Emna Mizouni"


@pytest.mark.parametrize(
    ("languages", "code"), [([], "no_language"), ([""], "no_language"), (["en", "xx"], "unknown_language")]
)
def test_languages_must_be_the_clinic_s(clinic, languages, code):
    assert rejected(submit, clinic, GRANTS_EN, languages).code == code
    assert stored_challenges(clinic) == []


def test_a_language_picked_twice_counts_once(clinic):
    assert submit(clinic, GRANTS_EN, ["en", "fr", "en"]).languages == ("en", "fr")


# -- text is kept as typed -------------------------------------------------------------------

VERBATIM = {
    "emoji": "💶💶 How do we find sponsors 🎉 and donors to fund our photo contest? 👍🏽",
    "arabic": "كيف نقنع المتحف بمشاركة مجموعاته الرقمية على ويكيميديا كومنز؟",
    "hebrew": "איך משכנעים מוזיאון לשתף את האוספים הדיגיטליים שלו בוויקישיתוף?",
    "mixed_direction": "Our partner מוזיאון ישראל and المتحف الوطني want a MOU by 2018-05-01. How?",
    "script": "<script>alert('x')</script> How do we find sponsors? <img src=x onerror=alert(1)>",
    "markdown": "# Grants\n**How** do we _find_ [sponsors](javascript:alert(1))?\n- one\n- two\n\n`code` | table |",
    "sql": "Robert'); DROP TABLE challenges;-- How do we find sponsors \" OR 1=1 -- % _ \\?",
    "formula": '=HYPERLINK("http://evil","x") How do we find sponsors for our contest?',
    "accents": "Où trouver un partenaire pour l'édition de Wikipédia à Montréal ? Ça m'intéresse.",
}


@pytest.mark.parametrize("text", VERBATIM.values(), ids=VERBATIM.keys())
def test_what_the_participant_typed_is_stored_verbatim(clinic, text):
    name = "Émna 🙂 عماد <b>*x*</b> '; --"
    answer = submit(clinic, text, ["en", "fr", "ar", "he"], name=name)

    assert answer.text == text
    assert answer.participant_name == name
    (row,) = stored_challenges(clinic)
    assert row["text"] == text
    assert participants.answer_for_ticket(clinic, answer.ticket).text == text


@pytest.mark.parametrize(("text", "code"), [(VERBATIM["arabic"], "ar"), (VERBATIM["hebrew"], "he")])
def test_right_to_left_text_is_stored_verbatim_and_recognised(clinic, text, code):
    answer = submit(clinic, text, [code])
    assert answer.text == text
    assert answer.detected_language == code
    if answer.seated:
        assert answer.language == code


def test_emoji_sequences_joined_by_zero_width_joiner_are_kept(clinic):
    text = "Our 👩🏽‍💻 volunteers and the 🏳️‍🌈 community need a sponsor for the editathon. Where to look?"
    assert submit(clinic, text).text == text


def test_invisible_control_characters_are_removed(clinic):
    typed = "How do we\x00 find sponsors\x07 for our\x1b contest?\u202e\r\nLine two\u200b\ufeff\tend"
    answer = submit(clinic, typed)
    assert answer.text == "How do we find sponsors for our contest?\nLine two\tend"
    assert stored_challenges(clinic)[0]["text"] == answer.text


def test_null_bytes_in_a_name_are_removed(clinic):
    assert submit(clinic, name="Em\x00na\x1f").participant_name == "Emna"


def test_surrounding_whitespace_is_trimmed(clinic):
    assert submit(clinic, f"\n\n   {GRANTS_EN}   \n").text == GRANTS_EN


# -- edit and withdraw ------------------------------------------------------------------------


def test_edit_reroutes_and_frees_the_old_seat(clinic):
    first = submit(clinic, FORMALITIES_EN, ["en"])
    assert first.topic == "formalities" and first.seated

    edited = participants.edit_challenge(clinic, first.ticket, GRANTS_EN, ["en"])

    assert edited.ticket == first.ticket
    assert edited.text == GRANTS_EN
    assert edited.topic == "grants" and edited.seated
    assert edited.table != first.table
    assert seats(clinic) == {edited.table: 1}  # the old table has its seat back
    (row,) = stored_challenges(clinic)
    assert row["text"] == GRANTS_EN and row["version"] == 2


def test_edit_languages_reseats_with_a_speaker_of_the_new_language(clinic):
    first = submit(clinic, GRANTS_FR, ["en"])
    edited = participants.edit_challenge(clinic, first.ticket, GRANTS_FR, ["fr"])
    assert edited.languages == ("fr",)
    assert edited.seated and edited.language == "fr"
    assert "fr" in expert_named(clinic, edited.expert_name).languages
    assert sum(seats(clinic).values()) == 1


def test_edit_keeps_the_name_unless_given(clinic):
    first = submit(clinic, name="Emna")
    assert participants.edit_challenge(clinic, first.ticket, FORMALITIES_EN, ["en"]).participant_name == "Emna"
    assert participants.edit_challenge(clinic, first.ticket, FORMALITIES_EN, ["en"], name="").participant_name == ""


def test_a_refused_edit_changes_nothing(clinic):
    first = submit(clinic, GRANTS_EN)
    before = stored_challenges(clinic)

    assert rejected(participants.edit_challenge, clinic, first.ticket, "x" * 100_000, ["en"]).code == "too_long"
    assert rejected(participants.edit_challenge, clinic, first.ticket, "   ", ["en"]).code == "empty"
    assert rejected(participants.edit_challenge, clinic, first.ticket, GRANTS_EN, []).code == "no_language"

    assert stored_challenges(clinic) == before
    assert participants.answer_for_ticket(clinic, first.ticket) == first


def test_edit_when_the_topic_s_table_is_full_does_not_lose_the_seat_to_itself(clinic):
    """Re-routing to the same table: the participant's own seat counts as free."""
    tickets = [submit(clinic).ticket for _ in range(8)]  # the grants table is now full
    assert seats(clinic) == {1: 8}
    edited = participants.edit_challenge(clinic, tickets[0], GRANTS_EN + " Any advice?", ["en"])
    assert edited.table == 1
    assert seats(clinic) == {1: 8}


def test_withdraw_frees_the_seat(clinic):
    answer = submit(clinic)
    assert seats(clinic) == {answer.table: 1}

    withdrawn = participants.withdraw_challenge(clinic, answer.ticket)

    assert withdrawn.status == challenge_store.STATUS_WITHDRAWN
    assert seats(clinic) == {}
    assert participants.answer_for_ticket(clinic, answer.ticket).status == challenge_store.STATUS_WITHDRAWN
    # Withdrawing again (a second tap) is harmless.
    assert participants.withdraw_challenge(clinic, answer.ticket).status == challenge_store.STATUS_WITHDRAWN
    assert len(stored_challenges(clinic)) == 1


def test_a_withdrawn_challenge_cannot_be_edited(clinic):
    answer = submit(clinic)
    participants.withdraw_challenge(clinic, answer.ticket)

    assert rejected(participants.edit_challenge, clinic, answer.ticket, FORMALITIES_EN, ["en"]).code == "not_editable"
    assert seats(clinic) == {}
    assert stored_challenges(clinic)[0]["text"] == GRANTS_EN


# -- capacity ---------------------------------------------------------------------------------


def test_a_full_table_sends_the_next_challenge_to_triage_until_a_seat_frees(clinic):
    grants_table = next(t for t in catalog(clinic).tables if t.topic == "grants")
    seated = [submit(clinic) for _ in range(grants_table.capacity)]
    assert {a.table for a in seated} == {grants_table.number}
    assert seats(clinic) == {grants_table.number: grants_table.capacity}

    overflow = submit(clinic)

    assert not overflow.seated
    assert overflow.topic == "grants"
    assert overflow.triage_reason == "tables_full"
    assert overflow.status == challenge_store.STATUS_WAITING
    assert seats(clinic) == {grants_table.number: grants_table.capacity}

    participants.withdraw_challenge(clinic, seated[0].ticket)
    latecomer = submit(clinic)
    assert latecomer.table == grants_table.number
    assert seats(clinic) == {grants_table.number: grants_table.capacity}
    assert len(stored_challenges(clinic)) == grants_table.capacity + 2


def test_challenges_spread_over_the_table_s_experts(clinic):
    answers = [submit(clinic) for _ in range(4)]
    hosts = {e.name for e in catalog(clinic).hosts(1)}
    assert {a.expert_name for a in answers} == hosts  # both grants experts get people, not one
