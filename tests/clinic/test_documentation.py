"""Documentation export (wikitext in the seed's shape, Markdown, CSV, XLSX) and personal data
(export everything, erase behind an organizer's decision)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile

import pytest
from openpyxl import load_workbook

from clinic import documentation as D
from clinic import facilitation as F
from clinic import participants as P
from clinic.errors import Rejected
from store import challenges as challenge_store

EVENT = "wmcon2018"
FACILITATOR = "facilitator"
ORGANIZER = "organizer"

# The seed's documentation (Wikimedia Conference 2018, program item 15): the questions raised,
# and the notes the tables gathered, attached to the question each was gathered for. Two tables
# rephrased their question ("How do you vet a partner?" for "How to select/filter partners?").
SEED_QUESTIONS = (
    "How do we approach institutions such as radio and tv stations for promoting local Wikipedia "
    "(community + projects)?",
    "How to convince GLAM institutions to set up partnerships?",
    "How to avoid a partnership depending only on the contact with one person inside an institution?",
    "How to select/filter partners?",
    "How can we facilitate the contributions of multiple partners without losing Wikipedians?",
    "How to initiate and maintain new partnerships in a hostile environment?",
    "How to find Wikipedians in Residence?",
    "What is the best way to approach a conversation with a company that wants to work with you but also has a "
    "strong financial interest? Is there a balance?",
)
Q, S = "question", "suggestion"
SEED_NOTES = {
    0: [
        (S, "Make a list of TV stations"),
        (S, "Try making priority for government of community radio"),
        (S, "Approach the radio station with your idea"),
        (S, "Suggest quiz competition for the listeners"),
        (S, "Try out creative days like International Mother Tongue Day"),
        (S, "Prizes"),
    ],
    1: [
        (S, "Try to find a contact at the institution"),
        (S, "Start a blog and try to feature them"),
        (S, "Forge a relationship first"),
        (S, "Invite the directors of GLAM to events as chief guests"),
        (S, "Their website traffic increases by uploading free content"),
    ],
    3: [
        (Q, "How do you vet a partner?"),
        (S, "Start small = pilot project"),
        (S, "Facilitators as contributor to take conversations"),
        (S, "Capacity to have facilitation/activators within association network"),
    ],
    4: [
        (Q, "How do Wikipedians get a) overwhelmed and b) build capacity in both GLAM and organization?"),
        (S, "Example: Netherlands - having a rovin Wikimedian in Residence; result: a manual for involvement"),
        (S, "Having a OOC (not a MOOC) with tailored aspects per category of partner"),
        (S, "Intentional aggregation (limited to physical presence of a trainer)"),
        (S, "Insist on facilitator within the institution + 2 members within WM user group who are involved"),
    ],
    5: [
        (S, "Having allies in different geographical countries/regions"),
        (S, "Connecting with other organizations facing same situation"),
        (S, "Talking to activist channels of organizations such as UN"),
        (S, "Getting access to encrypted devices or technical training"),
        (S, "Contact Esra'a Al Shafei"),
        (S, "Try avoiding controversial situations (topics)"),
        (S, "Use a low profile"),
    ],
}

# The seed's "Documentation" part as wikitext: what pastes into the wiki page.
SEED_WIKITEXT = """\
'''Questions raised'''
* How do we approach institutions such as radio and tv stations for promoting local Wikipedia (community + projects)?
* How to convince GLAM institutions to set up partnerships?
* How to avoid a partnership depending only on the contact with one person inside an institution?
* How to select/filter partners?
* How can we facilitate the contributions of multiple partners without losing Wikipedians?
* How to initiate and maintain new partnerships in a hostile environment?
* How to find Wikipedians in Residence?
* What is the best way to approach a conversation with a company that wants to work with you but also has a \
strong financial interest? Is there a balance?

'''Gathered suggestions'''
* How do we approach institutions such as radio and tv stations for promoting local Wikipedia (community + projects)?
** Make a list of TV stations
** Try making priority for government of community radio
** Approach the radio station with your idea
** Suggest quiz competition for the listeners
** Try out creative days like International Mother Tongue Day
** Prizes
* How to convince GLAM institutions to set up partnerships?
** Try to find a contact at the institution
** Start a blog and try to feature them
** Forge a relationship first
** Invite the directors of GLAM to events as chief guests
** Their website traffic increases by uploading free content
* How do you vet a partner?
** Start small = pilot project
** Facilitators as contributor to take conversations
** Capacity to have facilitation/activators within association network
* How do Wikipedians get a) overwhelmed and b) build capacity in both GLAM and organization?
** Example: Netherlands - having a rovin Wikimedian in Residence; result: a manual for involvement
** Having a OOC (not a MOOC) with tailored aspects per category of partner
** Intentional aggregation (limited to physical presence of a trainer)
** Insist on facilitator within the institution + 2 members within WM user group who are involved
* How to initiate and maintain new partnerships in a hostile environment?
** Having allies in different geographical countries/regions
** Connecting with other organizations facing same situation
** Talking to activist channels of organizations such as UN
** Getting access to encrypted devices or technical training
** Contact Esra'a Al Shafei
** Try avoiding controversial situations (topics)
** Use a low profile
"""

MARKUP = (
    "<script>alert('x')</script> How do we find a grant?",
    "Our museum partnership: see [[Link]] and [https://example.org here]",
    "{{Template}} for the sponsor | agreement",
    "'''bold''' and ''italic'' museum outreach",
    "Close it </nowiki> then [[Link]] and ~~~~ with __NOTOC__",
    "Entities &lt;b&gt; and &amp; in a grant budget",
    "First line of our radio plan\n* a bullet?\n== a heading? ==",
)


def submit(clinic, text, name="", languages=("en",)):
    return P.submit_challenge(clinic, EVENT, text, list(languages), name)


def challenge_of(clinic, ticket) -> dict:
    with clinic.engine.connect() as connection:
        return challenge_store.challenge_by_ticket(connection, ticket)


def note(clinic, text, kind=S, challenge_id=None, table=None):
    F.add_note(clinic, EVENT, text, FACILITATOR, kind=kind, challenge_id=challenge_id, table_number=table)


def seed_session(clinic) -> list[P.Answer]:
    answers = [submit(clinic, text) for text in SEED_QUESTIONS]
    for index, notes in SEED_NOTES.items():
        challenge_id = challenge_of(clinic, answers[index].ticket)["id"]
        for kind, text in notes:
            note(clinic, text, kind, challenge_id)
    return answers


def everything(clinic) -> dict:
    return json.loads(D.export_event(clinic, EVENT))


# --- Wikitext and Markdown -------------------------------------------------------------------


def test_wikitext_of_the_seed_session_has_the_seeds_shape(clinic):
    seed_session(clinic)
    assert D.to_wikitext(D.documentation(clinic, EVENT)) == SEED_WIKITEXT


def test_markdown_of_the_seed_session_nests_suggestions_under_their_question(clinic):
    seed_session(clinic)
    lines = D.to_markdown(D.documentation(clinic, EVENT)).splitlines()
    gathered = lines[lines.index("## Gathered suggestions") :]
    assert "- How do you vet a partner?" in gathered
    start = gathered.index("- How do you vet a partner?")
    assert gathered[start + 1 : start + 5] == [
        "  - Start small = pilot project",
        "  - Facilitators as contributor to take conversations",
        "  - Capacity to have facilitation/activators within association network",
        "- How do Wikipedians get a) overwhelmed and b) build capacity in both GLAM and organization?",
    ]
    raised = lines[lines.index("## Questions raised") + 2 : lines.index("## Gathered suggestions") - 1]
    assert len(raised) == len(SEED_QUESTIONS)


def test_notes_without_a_challenge_are_grouped_per_table(clinic):
    catalog = clinic.router(clinic.event(EVENT)).catalog_
    table = catalog.tables[0]
    topic_name = next(t.name for t in catalog.topics if t.id == table.topic)
    note(clinic, "Bring the budget to the first meeting", table=table.number)
    note(clinic, "What if the sponsor asks for a logo?", kind=Q, table=table.number)
    note(clinic, "Agree on the logo size in writing", table=table.number)
    note(clinic, "Share the slides afterwards")
    doc = D.documentation(clinic, EVENT)
    assert [(t.question, t.suggestions) for t in doc.gathered_suggestions()] == [
        (f"Table {table.number} · {topic_name}", ("Bring the budget to the first meeting",)),
        ("What if the sponsor asks for a logo?", ("Agree on the logo size in writing",)),
        ("Other notes", ("Share the slides afterwards",)),
    ]
    assert doc.questions == ()


def test_withdrawn_challenges_are_not_documented(clinic):
    kept = submit(clinic, SEED_QUESTIONS[1])
    gone = submit(clinic, "How do we find a sponsor for our secret project Bluebird?")
    note(clinic, "Ask the embassy", challenge_id=challenge_of(clinic, gone.ticket)["id"])
    P.withdraw_challenge(clinic, gone.ticket)
    doc = D.documentation(clinic, EVENT)
    assert doc.questions_raised() == (kept.text,)
    for text in (D.to_wikitext(doc), D.to_markdown(doc)):
        assert "Bluebird" not in text and "embassy" not in text


def shown_by_wiki(body: str) -> str:
    """What MediaWiki shows for one list item's text; fails if any of it would be markup."""
    if body.startswith("<nowiki>"):
        assert body.endswith("</nowiki>") and body.count("<") == 2 and body.count(">") == 2, body
        return html.unescape(body[len("<nowiki>") : -len("</nowiki>")])
    assert not re.search(r"[\[\]{}<>|&]|''|~~~|__", body), body
    return body


def test_markup_in_participant_text_comes_out_inert_in_wikitext(clinic):
    answers = [submit(clinic, text) for text in MARKUP]
    first = challenge_of(clinic, answers[0].ticket)["id"]
    for text in MARKUP:
        note(clinic, text, challenge_id=first)
    wikitext = D.to_wikitext(D.documentation(clinic, EVENT))
    lines = wikitext.splitlines()
    assert lines[0] == "'''Questions raised'''" and "'''Gathered suggestions'''" in lines
    items = [line for line in lines if line.startswith("*")]
    assert len(items) == 2 * len(MARKUP) + 1  # raised, then the first question and its suggestions
    expected = [" ".join(t.split()) for t in MARKUP]
    shown = [shown_by_wiki(re.sub(r"^\*+ ", "", line)) for line in items]
    assert shown == expected + expected[:1] + expected
    assert all(re.match(r"^\*{1,2} ", line) for line in items)
    assert len(lines) == len(items) + 3  # a typed line break never starts a line of its own


MARKDOWN_SPECIAL = set("\\`*_[]<>|~&#$")


def shown_by_markdown(body: str) -> str:
    """The text a Markdown item shows; fails on an unescaped markup character or a block opener."""
    assert not re.match(r"^(\d+[.)]|[-+=>])", body), body
    shown, escaped = [], False
    for char in body:
        if escaped:
            shown.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            assert char not in MARKDOWN_SPECIAL, body
            shown.append(char)
    return "".join(shown)


def test_markdown_export_escapes_participant_text(clinic):
    texts = MARKUP + (
        "**bold** _it_ [link](http://x) `code` # hash",
        "- starts like a list about grants",
        "1. starts numbered, a grant",
        "> quoted museum",
        "+ plus sponsor",
    )
    for text in texts:
        submit(clinic, text, name="Sam")
    markdown = D.to_markdown(D.documentation(clinic, EVENT))
    lines = markdown.splitlines()
    items = lines[lines.index("## Questions raised") + 2 : lines.index("## Gathered suggestions") - 1]
    assert [shown_by_markdown(line.removeprefix("- ")) for line in items] == [" ".join(t.split()) for t in texts]


# --- CSV and XLSX ----------------------------------------------------------------------------

FORMULAS = ("=1+1 grants for our museum", "+cmd|' /C calc'!A0 sponsors", "-2 grants for museums", "@SUM(A1) donors")


def read_csv_zip(data: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")))
            for name in archive.namelist()
        }


def read_xlsx(data: bytes) -> dict[str, list[list]]:
    workbook = load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets}


def formula_cells(tables: dict[str, list[list]]) -> list:
    return [
        value
        for rows in tables.values()
        for row in rows
        for value in row
        if isinstance(value, str) and value.startswith(D.FORMULA_TRIGGERS)
    ]


def test_formula_cells_are_neutralised_in_csv_and_xlsx(clinic):
    answers = [submit(clinic, text, name='=HYPERLINK("http://x","me")') for text in FORMULAS]
    note(clinic, "=1+1 ask the ministry", challenge_id=challenge_of(clinic, answers[0].ticket)["id"])
    sheets = D.event_sheets(clinic, EVENT)
    assert [sheet.name for sheet in sheets] == ["challenges", "assignments", "notes"]

    for tables in (read_csv_zip(D.to_csv(sheets)), read_xlsx(D.to_xlsx(sheets))):
        assert formula_cells(tables) == []
        challenges = next(rows for name, rows in tables.items() if name.startswith("challenges"))
        header = list(challenges[0])
        texts = [row[header.index("text")] for row in challenges[1:]]
        assert texts == ["'" + text for text in FORMULAS]
        assert {row[header.index("participant_name")] for row in challenges[1:]} == {'\'=HYPERLINK("http://x","me")'}
        notes = next(rows for name, rows in tables.items() if name.startswith("notes"))
        assert notes[1][list(notes[0]).index("text")] == "'=1+1 ask the ministry"
        assignments = next(rows for name, rows in tables.items() if name.startswith("assignments"))
        assert len(assignments) == 1 + len(FORMULAS)


def test_tab_and_carriage_return_cells_are_neutralised_too():
    values = ("\tfoo", "\r=1+1", "=1+1", "+1", "-2", "@SUM(A1)", "plain", "a=b")
    sheet = D.Sheet("cells", ("value",), tuple((v,) for v in values) + ((-2,),))
    (csv_rows,) = read_csv_zip(D.to_csv([sheet])).values()
    (xlsx_rows,) = read_xlsx(D.to_xlsx([sheet])).values()
    assert [row[0] for row in csv_rows[1:]] == ["'" + v for v in values[:6]] + ["plain", "a=b", "-2"]
    assert [row[0] for row in xlsx_rows[1:-3]] == ["'" + v.replace("\r", "\n") for v in values[:6]]
    assert [row[0] for row in xlsx_rows[-3:]] == ["plain", "a=b", -2]  # numbers stay numbers


# --- Export everything, erase personal data --------------------------------------------------

NAMES = ("Amina Haddad", "Lars Öberg", "Noa Levi")


def personal_session(clinic):
    """Three named participants, one withdrawn, notes, and a facilitator-confirmed example."""
    texts = (
        "How do we find sponsors and donors to fund our photo contest?",
        "How do we convince the national museum to host a Wikipedian in Residence?",
        "How do we write a memorandum of understanding with the ministry?",
    )
    answers = [submit(clinic, text, name=name) for text, name in zip(texts, NAMES, strict=True)]
    first = challenge_of(clinic, answers[0].ticket)
    note(clinic, "Ask the embassy for a grant", challenge_id=first["id"])
    note(clinic, "Share the slides afterwards", table=1)
    assert answers[0].table is not None  # seated, so a facilitator can confirm it
    F.confirm_topic(clinic, EVENT, first["id"], first["version"], FACILITATOR)
    P.withdraw_challenge(clinic, answers[2].ticket)
    return answers


def test_export_everything_holds_the_whole_event_but_no_ticket(clinic):
    answers = personal_session(clinic)
    data = D.export_event(clinic, EVENT, role=ORGANIZER)
    exported = json.loads(data)
    assert exported["event"]["code"] == EVENT
    tables = exported["tables"]
    for name in ("languages", "topics", "experts", "clinic_tables", "examples", "challenges", "assignments", "notes"):
        assert tables[name], name
    assert {row["participant_name"] for row in tables["challenges"]} == set(NAMES)
    assert [row["text"] for row in tables["notes"]] == ["Ask the embassy for a grant", "Share the slides afterwards"]
    for answer in answers:
        assert answer.ticket.encode() not in data
    assert (tables["audit_log"][-1]["action"], tables["audit_log"][-1]["role"]) == (D.ACTION_EXPORT, ORGANIZER)


def unchanged_part(exported: dict) -> dict:
    """What erasure must leave alone: the catalog, notes, statuses, languages, seats."""
    tables = exported["tables"]
    return {
        "catalog": {name: tables[name] for name in ("languages", "topics", "experts", "clinic_tables")},
        "notes": tables["notes"],
        "challenges": [
            {k: v for k, v in row.items() if k not in ("text", "participant_name", "version", "updated_at")}
            for row in tables["challenges"]
        ],
        "assignments": [{k: v for k, v in row.items() if k != "terms"} for row in tables["assignments"]],
        "samples": [row for row in tables["examples"] if row["source"] == "sample"],
    }


@pytest.mark.parametrize("mode", D.ERASE_MODES)
def test_erase_leaves_no_name_or_valid_ticket_and_keeps_counts(clinic, mode):
    answers = personal_session(clinic)
    before = everything(clinic)
    texts = [row["text"] for row in before["tables"]["challenges"]]

    counts = D.erase_personal_data(clinic, EVENT, mode, ORGANIZER)

    after = everything(clinic)
    data = json.dumps(after, ensure_ascii=False)
    assert counts["challenges"] == len(answers)
    assert {row["participant_name"] for row in after["tables"]["challenges"]} == {""}
    assert all(name not in data for name in NAMES)
    for answer in answers:
        with pytest.raises(Rejected):
            P.answer_for_ticket(clinic, answer.ticket)
    for row in after["tables"]["challenges"]:  # the new tickets open nothing either
        with pytest.raises(Rejected):
            P.answer_for_ticket(clinic, _ticket(clinic, row["id"]))
    assert unchanged_part(after) == unchanged_part(before)
    assert {n: len(rows) for n, rows in after["tables"].items() if n not in ("audit_log", "examples")} == {
        n: len(rows) for n, rows in before["tables"].items() if n not in ("audit_log", "examples")
    }
    erased_texts = [row["text"] for row in after["tables"]["challenges"]]
    if mode == D.ERASE_ANONYMISE:
        assert erased_texts == texts
        assert after["tables"]["examples"] == before["tables"]["examples"]
    else:
        assert erased_texts == [D.REMOVED_TEXT] * len(texts)
        assert all(text not in data for text in texts)
        assert all(row["terms"] == [] for row in after["tables"]["assignments"])
        assert all(row["source"] != "confirmed" for row in after["tables"]["examples"])
    audit = after["tables"]["audit_log"][-1]
    assert audit["action"] == D.ACTION_ERASE and audit["role"] == ORGANIZER
    assert audit["detail"]["mode"] == mode and audit["detail"]["challenges"] == len(answers)


def _ticket(clinic, challenge_id: int) -> str:
    with clinic.engine.connect() as connection:
        return challenge_store.challenge_by_id(connection, challenge_id)["ticket"]


def test_erase_needs_an_organizer_and_a_known_mode_and_changes_nothing_otherwise(clinic):
    answers = personal_session(clinic)
    before = everything(clinic)
    with pytest.raises(Rejected) as refused:
        D.erase_personal_data(clinic, EVENT, D.ERASE_REMOVE, FACILITATOR)
    assert refused.value.code == "not_allowed"
    with pytest.raises(Rejected) as refused:
        D.erase_personal_data(clinic, EVENT, "shred", ORGANIZER)
    assert refused.value.code == "bad_erase_mode"
    assert everything(clinic)["tables"] == before["tables"]
    assert P.answer_for_ticket(clinic, answers[0].ticket).participant_name == NAMES[0]


def test_me_too_merges_supporters_under_the_question_they_joined(clinic):
    from clinic import emergent
    from clinic import participants as P
    from clinic.documentation import documentation, to_wikitext

    first = P.submit_challenge(clinic, "wmcon2018", "How do we approach radio and TV stations?", ["en"])
    second = P.submit_challenge(clinic, "wmcon2018", "How can we get local radio to talk about Wikipedia?", ["en"])
    with clinic.engine.connect() as connection:
        from store import challenges as challenge_store

        first_id = challenge_store.challenge_by_ticket(connection, first.ticket)["id"]
    emergent.me_too(clinic, second.ticket, first_id)
    doc = documentation(clinic, "wmcon2018")
    assert doc.questions_raised() == ("How do we approach radio and TV stations? (+1 asked the same)",)
    assert "How can we get local radio" not in to_wikitext(doc)
