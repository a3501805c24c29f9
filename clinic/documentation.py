"""After (or during) the session: the documentation the seed published, the data behind it, and
participants' personal data exported whole or erased.

The documentation has the seed's shape: "Questions raised" (every challenge not withdrawn, as
typed) and "Gathered suggestions" (each question with the suggestions noted for it beneath).
Whatever participants or facilitators typed is escaped for the format it lands in: inert in a
wiki page or a Markdown file, and never a formula in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from clinic.access import ROLE_ORGANIZER, may_act_as
from clinic.errors import Rejected
from clinic.facilitation import CONFIRMED, NOTE_KINDS
from clinic.setup import Clinic
from store import catalog as catalog_store
from store import challenges as challenge_store
from store import emergent as emergent_store
from store import event_data
from store.engine import in_transaction
from store.schema import SCHEMA_VERSION

NOTE_QUESTION, NOTE_SUGGESTION = NOTE_KINDS

# Everything but withdrawn: a participant who took their challenge back is not documented.
DOCUMENTED_STATUSES = (*challenge_store.ACTIVE_STATUSES, challenge_store.STATUS_DONE)

# What the erasure does to challenge texts: keep them (no name or ticket leads to their author)
# or replace them too.
ERASE_ANONYMISE = "anonymise"
ERASE_REMOVE = "remove"
ERASE_MODES = (ERASE_ANONYMISE, ERASE_REMOVE)
REMOVED_TEXT = "[removed]"
ACTION_ERASE = "erase_personal_data"
ACTION_EXPORT = "export_event"

# Erased tickets and form keys start with "~": people's tickets are normalised to letters and
# digits before they are looked up (`participants.normalize_ticket`), so no typed code can match.
ERASED_SECRET_PREFIX = "~"

# OWASP's CSV injection list: a cell starting with one of these is read as a formula (or, for
# tab and carriage return, may become one once a spreadsheet trims it).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

EXPORT_FORMAT = "peer-clinic-event"

# The files an export consists of, named alike by the organizer console's downloads and by
# `python -m clinic export`: `<event>-<part>`, or `<event>-<UTC time>-<part>` when kept side by side.
FILE_WIKITEXT = "documentation.wiki"
FILE_MARKDOWN = "documentation.md"
FILE_CSV = "data.zip"
FILE_XLSX = "data.xlsx"
FILE_EVERYTHING = "everything.json"
FILE_TIME_FORMAT = "%Y%m%dT%H%M%SZ"  # no ':' so the name is valid on every file system

CHALLENGE_COLUMNS = (
    "id", "status", "text", "participant_name", "languages", "detected_language", "created_at", "updated_at",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "challenge_id", "round", "table_number", "topic_id", "expert_id", "language", "topic_score", "confidence",
    "method", "locked", "triage_reason", "created_at",
)  # fmt: skip
NOTE_COLUMNS = ("id", "challenge_id", "table_number", "round", "kind", "text", "author_role", "created_at")


@dataclass(frozen=True)
class Note:
    """A question or suggestion a facilitator wrote down at a table."""

    kind: str  # NOTE_QUESTION | NOTE_SUGGESTION
    text: str
    table: int | None
    round: int | None


@dataclass(frozen=True)
class Question:
    """A challenge raised (not withdrawn), as typed, and the notes gathered for it."""

    challenge_id: int
    text: str
    table: int | None  # where it sits in the current round
    notes: tuple[Note, ...]
    also_asked: int = 0  # participants who said "me too" to it (their own challenges merged in)

    @property
    def raised(self) -> str:
        """The question as the documentation lists it, with how many more asked it."""
        return f"{self.text} (+{self.also_asked} asked the same)" if self.also_asked else self.text


@dataclass(frozen=True)
class TableNotes:
    """Notes written at a table without naming a challenge (table None: at no table)."""

    table: int | None
    label: str  # "Table 6 · GLAM & academic partnerships"
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class Thread:
    """One bullet of "Gathered suggestions": a question and the suggestions beneath it."""

    question: str
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class Documentation:
    event_code: str
    title: str
    date: str
    questions: tuple[Question, ...]  # in the order they were raised
    tables: tuple[TableNotes, ...]  # by table number, notes at no table last

    def questions_raised(self) -> tuple[str, ...]:
        return tuple(question.raised for question in self.questions)

    def gathered_suggestions(self) -> tuple[Thread, ...]:
        """The threads of "Gathered suggestions": the questions' first, then the tables'."""
        threads: list[Thread] = []
        for question in self.questions:
            threads += _threads(question.raised, question.notes)
        for table in self.tables:
            threads += _threads(table.label, table.notes)
        return tuple(threads)


def _threads(opening: str, notes: Iterable[Note]) -> list[Thread]:
    """Split notes into threads. A question noted at a table (often the challenge as the group
    rephrased it) starts a thread of its own, and the suggestions after it belong to it; the
    opening question (the challenge as typed, or the table) shows only if suggestions follow it."""
    groups: list[tuple[str, list[str]]] = [(opening, [])]
    for note in notes:
        if note.kind == NOTE_QUESTION:
            groups.append((note.text, []))
        else:
            groups[-1][1].append(note.text)
    return [Thread(text, tuple(found)) for i, (text, found) in enumerate(groups) if found or i > 0]


def documentation(clinic: Clinic, event_code: str) -> Documentation:
    """The event's documentation as the store holds it now (available during the session too)."""
    event = clinic.require_event(event_code)
    with clinic.engine.connect() as connection:
        event = catalog_store.event_by_id(connection, event["id"])
        catalog = catalog_store.load_catalog(connection, event["id"])
        rows = challenge_store.challenges_with_assignments(
            connection, event["id"], event["current_round"], statuses=DOCUMENTED_STATUSES
        )
        stored_notes = challenge_store.notes_of_event(connection, event["id"])
        links = emergent_store.me_too_links(connection, event["id"])
    documented = {row["id"] for row in rows}
    # "Me too": a supporter's own challenge is merged under the question it joined, with its notes.
    merged_into: dict[int, int] = {}
    also_asked: dict[int, int] = {}
    for link in links:
        target, supporter = link["challenge_id"], link["supporter_challenge_id"]
        if target not in documented or supporter in merged_into or target in merged_into:
            continue
        if supporter is not None and supporter in documented and supporter != target:
            merged_into[supporter] = target
        also_asked[target] = also_asked.get(target, 0) + 1
    per_challenge: dict[int, list[Note]] = {}
    per_table: dict[int | None, list[Note]] = {}
    for row in stored_notes:
        note = Note(kind=row["kind"], text=row["text"], table=row["table_number"], round=row["round"])
        if row["challenge_id"] is None:
            per_table.setdefault(row["table_number"], []).append(note)
        elif row["challenge_id"] in documented:  # notes on a withdrawn challenge go with it
            owner = merged_into.get(row["challenge_id"], row["challenge_id"])
            per_challenge.setdefault(owner, []).append(note)
    topic_of_table = {table.number: table.topic for table in catalog.tables}
    topic_names = {topic.id: topic.name for topic in catalog.topics}

    def label(number: int | None) -> str:
        if number is None:
            return "Other notes"
        topic = topic_names.get(topic_of_table.get(number, ""), "")
        return f"Table {number} · {topic}" if topic else f"Table {number}"

    return Documentation(
        event_code=event["code"],
        title=event["title"],
        date=event["date"] or "",
        questions=tuple(
            Question(
                challenge_id=row["id"],
                text=row["text"],
                table=row["table_number"],
                notes=tuple(per_challenge.get(row["id"], ())),
                also_asked=also_asked.get(row["id"], 0),
            )
            for row in rows
            if row["id"] not in merged_into
        ),
        tables=tuple(
            TableNotes(table=number, label=label(number), notes=tuple(per_table[number]))
            for number in sorted(per_table, key=lambda n: (n is None, n or 0))
        ),
    )


def export_file_name(event_code: str, part: str, at: datetime | None = None) -> str:
    """The name of one export file (`part` is one of the FILE_ constants), stamped with `at` in UTC if given."""
    if at is None:
        return f"{event_code}-{part}"
    return f"{event_code}-{at.astimezone(UTC).strftime(FILE_TIME_FORMAT)}-{part}"


# --- Wikitext and Markdown -------------------------------------------------------------------

# What MediaWiki may read as markup inside a list item: links [[ ]] and [http ...], templates and
# parser functions {{ }}, tables | and !!, tags and entities < > &, bold/italic '', signatures
# ~~~, magic words __TOC__. Text without any of these is pasted as it is; text with one is wrapped
# in <nowiki>, inside which MediaWiki still decodes entities: escaping & < > there keeps the text
# exact and makes a typed </nowiki> harmless.
_WIKI_MARKUP = re.compile(r"[\[\]{}<>|&]|''|~~~|__|!!")

# Backslash-escaped everywhere in Markdown (CommonMark escapes any ASCII punctuation this way).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#$])")
# Only at the start of an item: what would open a nested list, a quote or a heading underline.
_MARKDOWN_ITEM_START = re.compile(r"^(\d+)([.)])|^([-+=>])")


def _one_line(text: str) -> str:
    """List items are one line: a line break in typed text would end the item (and could start markup)."""
    return " ".join(text.split())


def wiki_text(text: str) -> str:
    """`text` as inert wikitext on one line."""
    line = _one_line(text)
    if not _WIKI_MARKUP.search(line):
        return line
    inert = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<nowiki>{inert}</nowiki>"


def markdown_text(text: str) -> str:
    """`text` as inert Markdown on one line."""
    line = _MARKDOWN_SPECIAL.sub(r"\\\1", _one_line(text))
    return _MARKDOWN_ITEM_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", line)


def to_wikitext(doc: Documentation) -> str:
    """MediaWiki wikitext in the seed's shape, ready to paste into a wiki page."""
    lines = ["'''Questions raised'''"]
    lines += [f"* {wiki_text(text)}" for text in doc.questions_raised()]
    lines += ["", "'''Gathered suggestions'''"]
    for thread in doc.gathered_suggestions():
        lines.append(f"* {wiki_text(thread.question)}")
        lines += [f"** {wiki_text(text)}" for text in thread.suggestions]
    return "\n".join(lines) + "\n"


def to_markdown(doc: Documentation) -> str:
    """The same documentation as Markdown (a README, a chat, a pad)."""
    lines = [f"# {markdown_text(doc.title)}", "", "## Questions raised", ""]
    lines += [f"- {markdown_text(text)}" for text in doc.questions_raised()]
    lines += ["", "## Gathered suggestions", ""]
    for thread in doc.gathered_suggestions():
        lines.append(f"- {markdown_text(thread.question)}")
        lines += [f"  - {markdown_text(text)}" for text in thread.suggestions]
    return "\n".join(lines) + "\n"


# --- Spreadsheets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """One table of an export: a CSV file in the ZIP, a sheet in the workbook."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def neutralise_cell(value: Any) -> Any:
    """A cell value a spreadsheet shows as text, never runs: text starting with a formula
    character gets a leading single quote (OWASP's advice for CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """A stored value as one spreadsheet cell (times in UTC ISO form; lists joined by ';')."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def event_sheets(clinic: Clinic, event_code: str) -> tuple[Sheet, Sheet, Sheet]:
    """The event's challenges (every status), assignments (every round) and notes, as sheets."""
    event = clinic.require_event(event_code)
    with clinic.engine.connect() as connection:
        rows = event_data.rows_of_event(connection, event["id"], ("challenges", "assignments", "notes"))
    rows["assignments"].sort(key=lambda row: (row["challenge_id"], row["round"]))

    def sheet(name: str, columns: Sequence[str]) -> Sheet:
        return Sheet(name, tuple(columns), tuple(tuple(_plain(row[c]) for c in columns) for row in rows[name]))

    return (
        sheet("challenges", CHALLENGE_COLUMNS),
        sheet("assignments", ASSIGNMENT_COLUMNS),
        sheet("notes", NOTE_COLUMNS),
    )


def sheet_to_csv(sheet: Sheet) -> bytes:
    """One sheet as CSV: UTF-8 with a byte-order mark (so spreadsheets read Arabic and Hebrew
    right), every field quoted (so a locale that splits on ';' cannot split a cell into a formula)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise_cell(column) for column in sheet.columns])
    for row in sheet.rows:
        writer.writerow([neutralise_cell("" if value is None else value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_csv(sheets: Iterable[Sheet]) -> bytes:
    """A ZIP with one CSV per sheet (challenges.csv, assignments.csv, notes.csv)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet in sheets:
            archive.writestr(f"{sheet.name}.csv", sheet_to_csv(sheet))
    return buffer.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, str):  # characters XML cannot hold go first, so what remains is checked
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return neutralise_cell(value)


def to_xlsx(sheets: Iterable[Sheet]) -> bytes:
    """An Excel workbook with one sheet per sheet, header row frozen."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        page = workbook.create_sheet(sheet.name)
        page.append([_xlsx_value(column) for column in sheet.columns])
        for row in sheet.rows:
            page.append([_xlsx_value(value) for value in row])
        page.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Personal data ---------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _plain(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def export_event(clinic: Clinic, event_code: str, role: str | None = None) -> bytes:
    """Everything the event holds, as one JSON document (UTF-8): its settings, its catalog
    (languages, topics, experts, tables, examples), challenges, assignments, notes and audit log.

    Tickets and form keys are left out: they are keys to edit a challenge, not data about it.
    With a `role`, the export itself is recorded in the audit log (it carries personal data).
    """
    event = clinic.require_event(event_code)

    def read(connection) -> dict:
        if role:
            challenge_store.record_audit(connection, event["id"], role, ACTION_EXPORT, f"event:{event_code}")
        return {
            "format": EXPORT_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "exported_at": datetime.now(UTC),
            "event": catalog_store.event_by_id(connection, event["id"]),
            "tables": event_data.rows_of_event(connection, event["id"]),
        }

    everything = in_transaction(clinic.engine, read)
    return json.dumps(everything, default=_json_value, ensure_ascii=False, indent=1).encode("utf-8")


def erased_secret(length: int) -> str:
    """A random stand-in for a ticket or form key that nobody can type (see ERASED_SECRET_PREFIX)."""
    return ERASED_SECRET_PREFIX + secrets.token_hex((length - len(ERASED_SECRET_PREFIX)) // 2)


def erase_personal_data(clinic: Clinic, event_code: str, mode: str, role: str) -> dict[str, int]:
    """Erase the event's participants' personal data in one transaction, audited.

    Names are blanked and tickets (and form keys) replaced by random values that open nothing, so
    no challenge leads back to its author. ERASE_ANONYMISE keeps the challenge texts (the
    documentation stays whole); ERASE_REMOVE replaces them with REMOVED_TEXT and drops their
    copies: the words kept to explain routes and the facilitator-confirmed examples. Nothing else
    changes. Returns how many challenges (and examples) were erased.
    """
    if not may_act_as(role, ROLE_ORGANIZER):
        raise Rejected("not_allowed", "Only organizers can erase participants' personal data.")
    if mode not in ERASE_MODES:
        raise Rejected("bad_erase_mode", f"Choose how to erase: {' or '.join(ERASE_MODES)}.")
    event = clinic.require_event(event_code)

    def erased(challenge: dict) -> dict[str, Any]:
        values = {"participant_name": "", "ticket": erased_secret(16), "submission_key": erased_secret(32)}
        if mode == ERASE_REMOVE:
            values["text"] = REMOVED_TEXT
        return values

    def work(connection) -> dict[str, int]:
        catalog_store.lock_event(connection, event["id"])  # no submission or edit in between
        counts = {"challenges": event_data.rewrite_challenges(connection, event["id"], erased), "examples": 0}
        if mode == ERASE_REMOVE:
            event_data.forget_routing_terms(connection, event["id"])
            counts["examples"] = event_data.delete_examples(connection, event["id"], CONFIRMED)
        challenge_store.record_audit(
            connection, event["id"], role, ACTION_ERASE, f"event:{event_code}", mode=mode, **counts
        )
        return counts

    return in_transaction(clinic.engine, work)
