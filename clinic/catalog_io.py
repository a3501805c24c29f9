"""The catalog in and out: one YAML file or a ZIP of CSV files, and the organizer's table edits.

An upload is untrusted. It is read within size limits (no ZIP bomb, no nested archive, no path
out of the archive, no YAML tags or aliases), checked whole, and refused with every problem found
as file, line and reason before anything is stored. An accepted catalog replaces the event's in
one transaction, audited, and bumps the catalog version, so the next request routes with it.

Both formats round-trip: what `export_yaml` or `export_csv_bundle` writes, `parse_catalog` reads
back as the same catalog. The CSV rows are also what the organizer's tables edit
(`catalog_rows` out, `edit_catalog` back in), so a spreadsheet and the console agree on columns.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import PurePosixPath
from typing import Any

import yaml

from clinic.access import ROLE_ORGANIZER, may_act_as
from clinic.documentation import FORMULA_TRIGGERS
from clinic.errors import Rejected
from clinic.setup import Clinic
from matching.catalog import Catalog, Example, Expert, Language, Table, Topic, expert_id_for
from matching.limits import (
    LANGUAGE_CODE_PATTERN,
    MAX_BUNDLE_ENTRIES,
    MAX_BUNDLE_UNCOMPRESSED_BYTES,
    MAX_CAPACITY,
    MAX_EVENT_MINUTES,
    MAX_ID_CHARS,
    MAX_IMPORT_BYTES,
    TOPIC_ID_PATTERN,
)
from store import catalog as catalog_store
from store import challenges as challenge_store
from store.engine import in_transaction

ACTION_IMPORT = "import_catalog"
ACTION_EDIT = "edit_catalog"

EVENT, LANGUAGES, TOPICS, EXPERTS, TABLES, EXAMPLES = "event", "languages", "topics", "experts", "tables", "examples"
SECTIONS = (EVENT, LANGUAGES, TOPICS, EXPERTS, TABLES, EXAMPLES)
# A bundle without event.csv leaves the event's settings alone; without examples.csv it has no
# labelled examples. The other files are the catalog itself: leaving one out is a mistake.
OPTIONAL_FILES = (EVENT, EXAMPLES)

# Columns of each CSV file (and keys of each YAML entry), in the order exports write them; topics
# also have name_xx, description_xx and keywords_xx for each language xx.
COLUMNS: dict[str, tuple[str, ...]] = {
    EVENT: catalog_store.EVENT_FIELDS,
    LANGUAGES: ("code", "name", "native_name", "direction"),
    TOPICS: ("id", "name", "description", "active"),
    EXPERTS: ("id", "name", "affiliation", "topics", "languages", "expertise", "capacity", "present", "table"),
    TABLES: ("number", "topic", "capacity"),
    EXAMPLES: ("id", "language", "topic", "text"),
}
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    EVENT: (),
    LANGUAGES: ("code", "name"),
    TOPICS: ("id", "name"),
    EXPERTS: ("name", "topics", "languages"),
    TABLES: ("number", "topic"),
    EXAMPLES: ("topic", "text"),
}
# A topic's name, description and keywords in one language: name_fr, description_fr, keywords_fr.
TRANSLATED = ("name", "description", "keywords")
_TRANSLATION_COLUMN = re.compile(r"(name|description|keywords)_(.+)")

EVENT_NUMBERS = ("minutes", "rounds", "minutes_per_round")
EVENT_FLAGS = ("submissions_open", "learn_from_corrections")
DIRECTIONS = ("ltr", "rtl")
DEFAULT_EXPERT_CAPACITY = Expert.__dataclass_fields__["capacity"].default
DEFAULT_TABLE_CAPACITY = Table.__dataclass_fields__["capacity"].default
# Ids of facilitator-confirmed examples: the store keeps those apart and never takes them from a file.
CONFIRMED_PREFIX = "confirmed:"

YAML_SUFFIXES = (".yaml", ".yml")
ZIP_SUFFIXES = (".zip",)
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".zst")
ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"\x28\xb5\x2f\xfd")
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")
# A broken 10 MB file can have a problem on every line; the first ones say enough.
MAX_PROBLEMS_SHOWN = 50

# The C parser when PyYAML has one (a 1 MB catalog loads in a fraction of a second).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import or an edit, where it is: "tables.csv line 4: ..."."""

    file: str
    line: int | None
    reason: str
    unit: str = "line"

    def __str__(self) -> str:
        place = f"{self.file} {self.unit} {self.line}" if self.line else self.file
        return f"{place}: {self.reason}" if place else self.reason


class CatalogRefused(Rejected):
    """A catalog (imported or edited) that cannot be used; `problems` says every reason found."""

    code = "catalog_refused"

    def __init__(self, problems: Sequence[Problem]):
        problems = list(problems)
        if len(problems) > MAX_PROBLEMS_SHOWN:
            hidden = len(problems) - MAX_PROBLEMS_SHOWN
            problems = [*problems[:MAX_PROBLEMS_SHOWN], Problem("", None, f"... and {hidden} more problems.")]
        self.problems = problems
        super().__init__(self.code, "\n".join(str(problem) for problem in problems), problems=problems)


class ImportRefused(CatalogRefused):
    """An uploaded catalog file that is refused: nothing was stored."""

    code = "import_refused"


@dataclass(frozen=True)
class EventCatalog:
    """A catalog and the event settings that came with it (empty when the file had none)."""

    catalog: Catalog
    settings: dict[str, Any] = field(default_factory=dict)


# --- Reading cells --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """One record of a section as plain values, and where it came from."""

    file: str
    line: int | None
    values: Mapping[str, Any]
    unit: str = "line"


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):  # an empty cell of a pandas frame
        return True
    return isinstance(value, str) and not value.strip()


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


class _Cells:
    """Typed reading of one row's values; what cannot be read is recorded as a problem."""

    def __init__(self, row: _Row, problems: list[Problem]):
        self.row = row
        self.problems = problems

    def problem(self, reason: str) -> None:
        self.problems.append(Problem(self.row.file, self.row.line, reason, self.row.unit))

    def value(self, key: str) -> Any:
        value = self.row.values.get(key)
        if type(value).__module__ == "numpy":  # numpy scalars from a data editor's frame
            value = value.item()
        return value

    def text(self, key: str, required: bool = False) -> str:
        value = self.value(key)
        if _blank(value):
            if required:
                self.problem(f"{key} is empty")
            return ""
        if isinstance(value, date):  # YAML reads an unquoted 2018-04-21 as a date
            value = value.isoformat()
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(f"{key} must be text, not {_shown(value)}")
            return ""
        text = str(value).strip()
        if "\x00" in text:
            self.problem(f"{key} contains a NUL character")
            return ""
        return text

    def number(self, key: str, default: int | None, low: int, high: int) -> int | None:
        value = self.value(key)
        if _blank(value):
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,9}\s*", value)
        ):
            number = int(value)
        else:
            self.problem(f"{key} '{_shown(value)}' is not a whole number")
            return None
        if not low <= number <= high:
            self.problem(f"{key} {number} is out of range: it must be from {low} to {high}")
            return None
        return number

    def flag(self, key: str, default: bool) -> bool:
        value = self.value(key)
        if _blank(value):
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        self.problem(f"{key} '{_shown(value)}' is neither true nor false")
        return default

    def items(self, key: str, separators: str = ";") -> tuple[str, ...]:
        """A list cell: 'en; fr' in a CSV or an editor, a list in YAML."""
        value = self.value(key)
        if _blank(value):
            return ()
        if isinstance(value, str):
            parts: Iterable[Any] = re.split(f"[{re.escape(separators)}]", value)
        elif isinstance(value, list | tuple):
            parts = value
        else:
            self.problem(f"{key} must be a list, not {_shown(value)}")
            return ()
        found = []
        for part in parts:
            if isinstance(part, bool) or not isinstance(part, str | int | float):
                self.problem(f"{key} holds {_shown(part)}, which is not text")
                continue
            text = str(part).strip()
            if "\x00" in text:
                self.problem(f"{key} contains a NUL character")
            elif text:
                found.append(text)
        return tuple(found)


def _translation_code(key: Any) -> str | None:
    """'fr' for name_fr, description_fr or keywords_fr; None for any other column."""
    match = _TRANSLATION_COLUMN.fullmatch(str(key))
    return match.group(2) if match else None


def _unknown_keys(rows: Sequence[_Row], section: str, problems: list[Problem]) -> None:
    """Refuse keys a section does not have (a typo must not be ignored), each once."""
    allowed = set(COLUMNS[section])
    reported: set[str] = set()
    for row in rows:
        for key in row.values:
            if key in allowed or key in reported or (section == TOPICS and _TRANSLATION_COLUMN.fullmatch(str(key))):
                continue
            reported.add(key)
            problems.append(Problem(row.file, row.line, f"unknown column '{_shown(key)}'", row.unit))


def _duplicate(cells: _Cells, seen: dict[Any, _Row], key: Any, what: str) -> bool:
    """Record `key` as seen; a second sighting is a problem naming where the first was."""
    first = seen.get(key)
    if first is None:
        seen[key] = cells.row
        return False
    also = f" (also on {first.unit} {first.line})" if first.line else ""
    cells.problem(f"duplicate {what} '{_shown(key)}'{also}")
    return True


# --- Building a catalog from rows -----------------------------------------------------------------


def _languages(rows: Sequence[_Row], problems: list[Problem]) -> list[Language]:
    found, seen = [], {}
    for row in rows:
        cells = _Cells(row, problems)
        code, name = cells.text("code", required=True), cells.text("name", required=True)
        native_name = cells.text("native_name") or name
        direction = cells.text("direction") or "ltr"
        if code and not re.fullmatch(LANGUAGE_CODE_PATTERN, code):
            cells.problem(f"language code '{_shown(code)}' is not an ISO 639-1 code such as 'fr' (lower-case)")
        if direction not in DIRECTIONS:
            cells.problem(f"direction '{_shown(direction)}' is neither 'ltr' nor 'rtl'")
        if code and not _duplicate(cells, seen, code, "language code"):
            found.append(Language(code=code, name=name, native_name=native_name, direction=direction))
    return found


def _topics(rows: Sequence[_Row], codes: Sequence[str], problems: list[Problem]) -> list[Topic]:
    found, seen, unknown_codes = [], {}, set()
    for row in rows:
        cells = _Cells(row, problems)
        topic_id, name = cells.text("id", required=True), cells.text("name", required=True)
        if topic_id and not re.fullmatch(TOPIC_ID_PATTERN, topic_id):
            cells.problem(
                f"topic id '{_shown(topic_id)}' must be 1-40 lower-case letters, digits, '-' or '_' (e.g. 'glam')"
            )
        names, descriptions, keywords = {}, {}, {}
        for key in row.values:
            match = _TRANSLATION_COLUMN.fullmatch(str(key))
            if not match:
                continue
            kind, code = match.groups()
            if code not in codes:
                if code not in unknown_codes and not _blank(row.values[key]):
                    unknown_codes.add(code)
                    cells.problem(f"{_shown(key)} is for '{_shown(code)}', which is not one of the clinic's languages")
                continue
            if kind == "keywords":
                words = cells.items(key)
                if words:
                    keywords[code] = words
            elif text := cells.text(key):
                (names if kind == "name" else descriptions)[code] = text
        topic = Topic(
            id=topic_id,
            name=name,
            description=cells.text("description"),
            keywords=keywords,
            names=names,
            descriptions=descriptions,
            active=cells.flag("active", True),
        )
        if topic_id and not _duplicate(cells, seen, topic_id, "topic id"):
            found.append(topic)
    return found


def _tables(rows: Sequence[_Row], topic_ids: Sequence[str], problems: list[Problem]) -> list[Table]:
    found, seen = [], {}
    for row in rows:
        cells = _Cells(row, problems)
        number = cells.number("number", None, 1, 999_999_999)
        topic = cells.text("topic", required=True)
        capacity = cells.number("capacity", DEFAULT_TABLE_CAPACITY, 1, MAX_CAPACITY)
        if _blank(row.values.get("number")):
            cells.problem("number is empty")
        if topic and topic not in topic_ids:
            cells.problem(f"topic '{_shown(topic)}' does not exist")
        if number is not None and capacity is not None and not _duplicate(cells, seen, number, "table number"):
            found.append(Table(number=number, topic=topic, capacity=capacity))
    # Tables have no order of their own: the store lists them by number.
    return sorted(found, key=lambda table: table.number)


def _experts(rows: Sequence[_Row], catalog: Catalog, problems: list[Problem]) -> list[Expert]:
    codes, topic_ids = catalog.language_codes, [topic.id for topic in catalog.topics]
    numbers = [table.number for table in catalog.tables]
    found, seen = [], {}
    for row in rows:
        cells = _Cells(row, problems)
        name = cells.text("name", required=True)
        expert_id = cells.text("id") or expert_id_for(name)
        if name and not expert_id:
            cells.problem(f"the name '{_shown(name)}' gives no id: fill in the id column")
        if len(expert_id) > MAX_ID_CHARS:
            cells.problem(f"id '{_shown(expert_id)}' is longer than {MAX_ID_CHARS} characters")
        topics, spoken = cells.items("topics", ";,"), cells.items("languages", ";,")
        for topic in topics:
            if topic not in topic_ids:
                cells.problem(f"topics names '{_shown(topic)}', which does not exist")
        for code in spoken:
            if code not in codes:
                cells.problem(f"languages names '{_shown(code)}', which is not one of the clinic's languages")
        if not spoken:
            cells.problem("languages is empty: an expert needs a language to talk in")
        table = cells.number("table", None, 1, 999_999_999)
        if table is not None and table not in numbers:
            cells.problem(f"table {table} does not exist")
        expert = Expert(
            id=expert_id,
            name=name,
            affiliation=cells.text("affiliation"),
            topics=topics,
            languages=spoken,
            expertise=cells.text("expertise"),
            capacity=cells.number("capacity", DEFAULT_EXPERT_CAPACITY, 1, MAX_CAPACITY) or DEFAULT_EXPERT_CAPACITY,
            present=cells.flag("present", True),
            table=table,
        )
        if expert_id and not _duplicate(cells, seen, expert_id, "expert id"):
            found.append(expert)
    return found


def _examples(rows: Sequence[_Row], catalog: Catalog, problems: list[Problem]) -> list[Example]:
    codes, topic_ids = catalog.language_codes, [topic.id for topic in catalog.topics]
    found, seen = [], {}
    for row in rows:
        cells = _Cells(row, problems)
        label, topic = cells.text("id"), cells.text("topic", required=True)
        text, language = cells.text("text", required=True), cells.text("language")
        if len(label) > MAX_ID_CHARS:
            cells.problem(f"id '{_shown(label)}' is longer than {MAX_ID_CHARS} characters")
        if label.startswith(CONFIRMED_PREFIX):
            cells.problem(f"id '{_shown(label)}' starts with '{CONFIRMED_PREFIX}', which is kept for confirmed seats")
        if topic and topic not in topic_ids:
            cells.problem(f"topic '{_shown(topic)}' does not exist")
        if language and language not in codes:
            cells.problem(f"language '{_shown(language)}' is not one of the clinic's languages")
        if label and _duplicate(cells, seen, label, "example id"):
            continue
        found.append(Example(text=text, topic=topic, language=language or None, id=label))
    return found


def _settings(row: _Row, codes: Sequence[str], problems: list[Problem]) -> dict[str, Any]:
    """The event settings a row sets (blank cells set nothing)."""
    cells, settings = _Cells(row, problems), {}
    for key in catalog_store.EVENT_FIELDS:
        if _blank(row.values.get(key)):
            continue
        if key in EVENT_NUMBERS:
            value = cells.number(key, None, 1, MAX_EVENT_MINUTES)
        elif key in EVENT_FLAGS:
            value = cells.flag(key, True)
        else:
            value = cells.text(key)
        if value is not None:
            settings[key] = value
    if settings.get("date"):
        try:
            date.fromisoformat(settings["date"])
            if len(settings["date"]) != 10:
                raise ValueError
        except ValueError:
            cells.problem(f"date '{_shown(settings['date'])}' is not a date such as 2018-04-21")
    if settings.get("default_language") and settings["default_language"] not in codes:
        cells.problem(f"default_language '{_shown(settings['default_language'])}' is not one of the clinic's languages")
    return settings


def _build(sections: Mapping[str, Sequence[_Row]], problems: list[Problem], source: str = "") -> EventCatalog:
    """A catalog from the rows of every section; every problem found goes to `problems`.

    References are checked row by row (so a problem names its line); `Catalog.problems()` then
    checks the whole, e.g. that some topic is active.
    """
    for section, rows in sections.items():
        _unknown_keys(rows, section, problems)
    languages = _languages(sections.get(LANGUAGES, ()), problems)
    codes = [language.code for language in languages]
    if not languages:
        problems.append(Problem(source, None, "there is no language: a clinic needs at least one"))
    topics = _topics(sections.get(TOPICS, ()), codes, problems)
    tables = _tables(sections.get(TABLES, ()), [topic.id for topic in topics], problems)
    catalog = Catalog(languages=tuple(languages), topics=tuple(topics), tables=tuple(tables))
    catalog = replace(
        catalog,
        experts=tuple(_experts(sections.get(EXPERTS, ()), catalog, problems)),
        examples=tuple(_examples(sections.get(EXAMPLES, ()), catalog, problems)),
    )
    event_rows = sections.get(EVENT, ())
    if len(event_rows) > 1:
        problems.append(Problem(event_rows[1].file, event_rows[1].line, "an event has one row of settings"))
    settings = _settings(event_rows[0], codes, problems) if event_rows else {}
    if not problems:
        problems += [Problem(source, None, reason) for reason in catalog.problems()]
    return EventCatalog(catalog, settings)


# --- Rows out: what the CSV files and the organizer's tables show ---------------------------------


def _translation_codes(catalog: Catalog) -> list[str]:
    """The languages topics are written in: the clinic's, then any other a topic names."""
    codes = list(catalog.language_codes)
    for topic in catalog.topics:
        for mapping in (topic.names, topic.descriptions, topic.keywords):
            codes += sorted(code for code in mapping if code not in codes)
    return codes


def _samples(catalog: Catalog) -> tuple[Example, ...]:
    """Shipped or imported examples; facilitator-confirmed ones stay with their event."""
    return tuple(example for example in catalog.examples if not example.id.startswith(CONFIRMED_PREFIX))


def catalog_rows(catalog: Catalog) -> dict[str, list[dict[str, Any]]]:
    """Plain rows per section (lists as 'a; b' text): the CSV files' contents, and what the
    organizer's tables show and hand back to `edit_catalog`."""
    codes = _translation_codes(catalog)
    return {
        LANGUAGES: [
            {"code": x.code, "name": x.name, "native_name": x.native_name, "direction": x.direction}
            for x in catalog.languages
        ],
        TOPICS: [
            {
                "id": t.id,
                "name": t.name,
                "description": t.description,
                "active": t.active,
                **{
                    f"{kind}_{code}": value
                    for code in codes
                    for kind, value in (
                        ("name", t.names.get(code, "")),
                        ("description", t.descriptions.get(code, "")),
                        ("keywords", "; ".join(t.keywords.get(code, ()))),
                    )
                },
            }
            for t in catalog.topics
        ],
        EXPERTS: [
            {
                "id": e.id,
                "name": e.name,
                "affiliation": e.affiliation,
                "topics": "; ".join(e.topics),
                "languages": "; ".join(e.languages),
                "expertise": e.expertise,
                "capacity": e.capacity,
                "present": e.present,
                "table": e.table,
            }
            for e in catalog.experts
        ],
        TABLES: [{"number": t.number, "topic": t.topic, "capacity": t.capacity} for t in catalog.tables],
        EXAMPLES: [
            {"id": x.id, "language": x.language or "", "topic": x.topic, "text": x.text} for x in _samples(catalog)
        ],
    }


def _columns(section: str, catalog: Catalog) -> list[str]:
    columns = list(COLUMNS[section])
    if section == TOPICS:
        columns += [f"{kind}_{code}" for code in _translation_codes(catalog) for kind in TRANSLATED]
    return columns


def _event_settings(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings a file carries, from an event row or a settings mapping."""
    return {key: settings[key] for key in catalog_store.EVENT_FIELDS if settings and settings.get(key) is not None}


# --- Export ------------------------------------------------------------------------------------------


def export_yaml(catalog: Catalog, event_settings: Mapping[str, Any] | None = None) -> bytes:
    """The whole catalog (and the event's settings) as one YAML file that `parse_catalog` reads back."""
    codes = _translation_codes(catalog)
    document: dict[str, Any] = {}
    if settings := _event_settings(event_settings):
        document[EVENT] = settings
    document[LANGUAGES] = [asdict(language) for language in catalog.languages]
    document[TOPICS] = []
    for topic in catalog.topics:
        entry: dict[str, Any] = {"id": topic.id, "name": topic.name, "description": topic.description}
        entry["active"] = topic.active
        translations = {}
        for code in codes:
            localized = {"name": topic.names.get(code), "description": topic.descriptions.get(code)}
            localized["keywords"] = list(topic.keywords.get(code, ())) or None
            if localized := {key: value for key, value in localized.items() if value}:
                translations[code] = localized
        if translations:
            entry["translations"] = translations
        document[TOPICS].append(entry)
    document[EXPERTS] = [
        {**asdict(expert), "topics": list(expert.topics), "languages": list(expert.languages)}
        for expert in catalog.experts
    ]
    document[TABLES] = [asdict(table) for table in catalog.tables]
    document[EXAMPLES] = [
        {"id": x.id, "language": x.language or "", "topic": x.topic, "text": x.text} for x in _samples(catalog)
    ]
    head = "# Peer Clinic catalog: languages, topics (with their translations), experts, tables, examples.\n"
    body = yaml.dump(
        document, Dumper=_YAML_DUMPER, allow_unicode=True, sort_keys=False, width=100, default_flow_style=None
    )
    return (head + body).encode("utf-8")


def _guard(value: str) -> str:
    """A text cell a spreadsheet shows and never runs as a formula, and that `_unguard` restores."""
    return "'" + value if _needs_guard(value) else value


def _needs_guard(value: str) -> bool:
    # A leading quote before a guarded value is doubled, so that unguarding is exact.
    return value.startswith(FORMULA_TRIGGERS) or (value.startswith("'") and _needs_guard(value[1:]))


def _unguard(value: str) -> str:
    return value[1:] if value.startswith("'") and _needs_guard(value[1:]) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _guard(value) if isinstance(value, str) else str(value)


def _csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    # UTF-8 with a byte-order mark, so spreadsheets read Arabic and Hebrew right.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue().encode("utf-8-sig")


def export_csv_bundle(catalog: Catalog, event_settings: Mapping[str, Any] | None = None) -> bytes:
    """The whole catalog as a ZIP of CSV files (event.csv, languages.csv, topics.csv, experts.csv,
    tables.csv, examples.csv) that `parse_catalog` reads back. Lists are ';'-separated."""
    rows = catalog_rows(catalog)
    files = {}
    if settings := _event_settings(event_settings):
        files[EVENT] = _csv_bytes(list(settings), [settings])
    for section in (LANGUAGES, TOPICS, EXPERTS, TABLES, EXAMPLES):
        files[section] = _csv_bytes(_columns(section, catalog), rows[section])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for section, content in files.items():
            # A fixed time stamp: the same catalog always gives the same bytes.
            entry = zipfile.ZipInfo(f"{section}.csv", date_time=(2018, 4, 21, 0, 0, 0))
            archive.writestr(entry, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# --- Import: reading the files ------------------------------------------------------------------------


def _decode(file: str, data: bytes, problems: list[Problem]) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(Problem(file, line, "is not UTF-8 text (save it as UTF-8, e.g. 'CSV UTF-8')"))
        return None
    if not text.strip():
        problems.append(Problem(file, None, "is empty"))
        return None
    if "\x00" in text:
        problems.append(Problem(file, text[: text.index("\x00")].count("\n") + 1, "contains a NUL character"))
        return None
    return text


def _csv_rows(file: str, section: str, data: bytes, problems: list[Problem]) -> list[_Row]:
    """The rows of one CSV file, each with the line it starts on (the header is line 1)."""
    text = _decode(file, data, problems)
    if text is None:
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    found: list[Problem] = []
    rows = []
    try:
        header = [name.strip().lower() for name in next(reader)]
        required = REQUIRED_COLUMNS[section]
        found += [Problem(file, 1, f"missing column '{name}'") for name in required if name not in header]
        found += [Problem(file, 1, f"column '{_shown(name)}' appears twice") for name in set(header)
                  if name and header.count(name) > 1]  # fmt: skip
        _unknown_keys([_Row(file, 1, dict.fromkeys(name for name in header if name))], section, found)
        last = reader.line_num
        for cells in reader:
            start, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
                found.append(Problem(file, start, f"has {len(cells)} cells, but the header names {len(header)}"))
                continue
            rows.append(
                _Row(file, start, {name: _unguard(cell) for name, cell in zip(header, cells, strict=False) if name})
            )
    except csv.Error as error:
        found.append(Problem(file, reader.line_num, f"is not valid CSV: {error}"))
    problems += found
    return [] if found else rows


def _bundle_files(filename: str, data: bytes, problems: list[Problem]) -> dict[str, bytes]:
    """The CSV files of a bundle by section, read within limits, never extracted to disk."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except Exception:  # zipfile fails in many ways on damaged input; all mean "not a ZIP"
        problems.append(Problem(filename, None, "is not a ZIP archive (or it is damaged)"))
        return {}
    if len(entries) > MAX_BUNDLE_ENTRIES:
        problems.append(
            Problem(filename, None, f"holds {len(entries)} entries; a bundle holds at most {MAX_BUNDLE_ENTRIES}")
        )
        return {}
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_BUNDLE_UNCOMPRESSED_BYTES:
        problems.append(
            Problem(
                filename,
                None,
                f"would unpack to {unpacked / 2**20:,.0f} MB; a bundle may unpack to at most "
                f"{MAX_BUNDLE_UNCOMPRESSED_BYTES // 2**20} MB",
            )
        )
        return {}
    files: dict[str, bytes] = {}
    expected = [f"{section}.csv" for section in SECTIONS]
    for entry in entries:
        name = entry.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ".." in parts or re.match(r"[A-Za-z]:", name):
            problems.append(Problem(filename, None, f"'{_shown(name)}' points outside the archive"))
            continue
        if not parts or name.endswith(("/", "\\")) or parts[0] == "__MACOSX" or parts[-1].startswith("."):
            continue  # folders, and what macOS and editors add
        base = parts[-1]
        if base.lower().endswith(ARCHIVE_SUFFIXES):
            problems.append(Problem(filename, None, f"'{_shown(name)}' is an archive inside the archive"))
            continue
        if base not in expected or len(parts) > 2:
            problems.append(
                Problem(filename, None, f"unexpected file '{_shown(name)}'; a bundle holds {', '.join(expected)}")
            )
            continue
        if base in files:
            problems.append(Problem(filename, None, f"holds {base} twice"))
            continue
        if entry.flag_bits & 0x1:
            problems.append(Problem(base, None, "is encrypted"))
            continue
        try:
            with archive.open(entry) as handle:
                content = handle.read(MAX_BUNDLE_UNCOMPRESSED_BYTES + 1)
        except Exception:  # zlib, bz2, lzma and zipfile each fail their own way
            problems.append(Problem(base, None, "cannot be read: the archive is damaged"))
            continue
        if content.startswith(ARCHIVE_MAGIC):
            problems.append(Problem(base, None, "is an archive, not a CSV file"))
            continue
        files[base.removesuffix(".csv")] = content
    for section in SECTIONS:
        if section not in files and section not in OPTIONAL_FILES and not problems:
            problems.append(Problem(filename, None, f"has no {section}.csv"))
    return files


def _parse_bundle(filename: str, data: bytes, problems: list[Problem]) -> dict[str, list[_Row]]:
    files = _bundle_files(filename, data, problems)
    return {section: _csv_rows(f"{section}.csv", section, content, problems) for section, content in files.items()}


def _yaml_document(file: str, text: str, problems: list[Problem]) -> tuple[Any, Any]:
    """The YAML data and its node tree (for line numbers), refusing tags, anchors and aliases.

    Only plain data is read (safe loading, no tags); aliases are refused too, since a few lines of
    them can stand for billions of values ("billion laughs").
    """
    try:
        for event in yaml.parse(text, Loader=_YAML_LOADER):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                problems.append(Problem(file, line, "uses an anchor or alias (& or *); write the values out"))
                return None, None
            if getattr(event, "tag", None):
                tag = event.tag.replace("tag:yaml.org,2002:", "!!")
                problems.append(Problem(file, line, f"uses the tag '{_shown(tag)}'; tags are not allowed"))
                return None, None
        loader = _YAML_LOADER(text)
        try:
            node = loader.get_single_node()
            return (loader.construct_document(node) if node is not None else None), node
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        problems.append(Problem(file, line, f"is not valid YAML: {error.problem or error.context}"))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError, OverflowError) as error:
        # ValueError: a date such as 2018-13-45, or an integer of 5,000 digits.
        problems.append(Problem(file, None, f"is not valid YAML: {_shown(error)}"))
    return None, None


def _duplicate_keys(file: str, root: Any, problems: list[Problem]) -> None:
    """YAML keeps the last of two equal keys silently; a catalog refuses them."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        problems.append(Problem(file, key.start_mark.line + 1, f"duplicate key '{_shown(key.value)}'"))
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _topic_row(file: str, line: int, entry: Mapping[str, Any], problems: list[Problem]) -> _Row:
    """A YAML topic as the flat row topics.csv has (translations become name_fr, keywords_fr, ...)."""
    values = {key: value for key, value in entry.items() if key != "translations"}
    translations = entry.get("translations") or {}
    if not isinstance(translations, Mapping):
        problems.append(Problem(file, line, "translations must map language codes to name, description, keywords"))
        translations = {}
    for code, localized in translations.items():
        if not isinstance(localized, Mapping):
            problems.append(Problem(file, line, f"translation '{_shown(code)}' must have name, description, keywords"))
            continue
        for key, value in localized.items():
            if key not in TRANSLATED:
                problems.append(Problem(file, line, f"translation '{_shown(code)}' has unknown key '{_shown(key)}'"))
            else:
                values[f"{key}_{code}"] = value
    return _Row(file, line, values)


def _parse_yaml(filename: str, data: bytes, problems: list[Problem]) -> dict[str, list[_Row]]:
    text = _decode(filename, data, problems)
    if text is None:
        return {}
    document, root = _yaml_document(filename, text, problems)
    if problems:
        return {}
    if not isinstance(document, Mapping):
        problems.append(Problem(filename, None, f"is not a mapping with the keys {', '.join(SECTIONS)}"))
        return {}
    _duplicate_keys(filename, root, problems)
    lines = {
        key.value: (key.start_mark.line + 1, value) for key, value in root.value if isinstance(key, yaml.ScalarNode)
    }
    sections: dict[str, list[_Row]] = {}
    for key, content in document.items():
        line, node = lines.get(key, (None, None))
        if key not in SECTIONS:
            problems.append(
                Problem(filename, line, f"unknown key '{_shown(key)}'; a catalog has {', '.join(SECTIONS)}")
            )
        elif key == EVENT:
            if isinstance(content, Mapping):
                sections[EVENT] = [_Row(filename, line, content)]
            elif content is not None:
                problems.append(Problem(filename, line, "event must be a mapping of settings"))
        elif content is None:
            sections[key] = []
        elif not isinstance(content, list):
            problems.append(Problem(filename, line, f"{key} must be a list"))
        else:
            rows = sections[key] = []
            lines_of_items = [line] * len(content)
            if isinstance(node, yaml.SequenceNode) and len(node.value) == len(content):
                lines_of_items = [item.start_mark.line + 1 for item in node.value]
            for item_line, entry in zip(lines_of_items, content, strict=True):
                if not isinstance(entry, Mapping):
                    problems.append(Problem(filename, item_line, f"an entry of {key} must be a mapping"))
                elif key == TOPICS:
                    rows.append(_topic_row(filename, item_line, entry, problems))
                else:
                    rows.append(_Row(filename, item_line, entry))
    for section in SECTIONS:
        if section not in sections and section not in OPTIONAL_FILES and not problems:
            problems.append(Problem(filename, None, f"has no {section}"))
    return sections


def parse_catalog(filename: str, data: bytes) -> EventCatalog:
    """Read an uploaded catalog (.zip of CSV files, or .yaml), checked whole.

    Raises `ImportRefused` listing every problem found (file, line, reason); nothing is stored
    either way: `import_catalog` applies what this returns.
    """
    name = PurePosixPath(str(filename).replace("\\", "/")).name or "the file"
    problems: list[Problem] = []
    if len(data) > MAX_IMPORT_BYTES:
        size = f"{len(data) / 2**20:,.1f} MB"
        raise ImportRefused(
            [Problem(name, None, f"is {size}; a catalog file may be at most {MAX_IMPORT_BYTES // 2**20} MB")]
        )
    if not data.strip():
        raise ImportRefused([Problem(name, None, "is empty")])
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in ZIP_SUFFIXES:
        sections = _parse_bundle(name, data, problems)
    elif suffix in YAML_SUFFIXES:
        sections = _parse_yaml(name, data, problems)
    else:
        raise ImportRefused([Problem(name, None, "is neither a .zip of CSV files nor a .yaml file")])
    if problems:
        raise ImportRefused(problems)
    parsed = _build(sections, problems, name)
    if problems:
        raise ImportRefused(problems)
    return parsed


# --- Preview -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """What an import or edit adds, changes and removes of one kind (by id, code or number)."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        parts = [
            f"{len(keys)} {word} ({', '.join(keys)})"
            for word, keys in (("added", self.added), ("changed", self.changed), ("removed", self.removed))
            if keys
        ]
        return ", ".join(parts) or "no change"


@dataclass(frozen=True)
class CatalogDiff:
    """A preview of an import or edit, kind by kind."""

    languages: Changes
    topics: Changes
    experts: Changes
    tables: Changes
    examples: tuple[int, int]  # labelled examples before, after (confirmed seats are kept either way)
    settings: tuple[str, ...] = ()  # event settings that change
    reordered: tuple[str, ...] = ()  # kinds listed in another order

    @property
    def empty(self) -> bool:
        kinds = (self.languages, self.topics, self.experts, self.tables)
        return not any(kinds) and self.examples[0] == self.examples[1] and not self.settings and not self.reordered

    def lines(self) -> list[str]:
        """The preview in words, one line per kind that changes."""
        found = [
            f"{label}: {changes.summary()}"
            for label, changes in (
                ("Languages", self.languages),
                ("Topics", self.topics),
                ("Experts", self.experts),
                ("Tables", self.tables),
            )
            if changes
        ]
        if self.examples[0] != self.examples[1]:
            found.append(f"Labelled examples: {self.examples[0]} → {self.examples[1]}")
        if self.settings:
            found.append(f"Event settings: {', '.join(self.settings)}")
        if self.reordered:
            found.append(f"New order: {', '.join(self.reordered)}")
        return found or ["No change."]


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes:
    return Changes(
        added=tuple(key for key in new if key not in old),
        changed=tuple(key for key in new if key in old and new[key] != old[key]),
        removed=tuple(key for key in old if key not in new),
    )


def diff_catalogs(
    old: Catalog,
    new: Catalog,
    old_settings: Mapping[str, Any] | None = None,
    new_settings: Mapping[str, Any] | None = None,
) -> CatalogDiff:
    """What replacing `old` by `new` adds, changes and removes (for the preview before an import)."""
    kinds = {
        "languages": ({x.code: x for x in old.languages}, {x.code: x for x in new.languages}),
        "topics": ({x.id: x for x in old.topics}, {x.id: x for x in new.topics}),
        "experts": ({x.id: x for x in old.experts}, {x.id: x for x in new.experts}),
        "tables": ({str(x.number): x for x in old.tables}, {str(x.number): x for x in new.tables}),
    }
    reordered = tuple(
        kind
        for kind, (before, after) in kinds.items()
        if [k for k in before if k in after] != [k for k in after if k in before]
    )
    before, after = _event_settings(old_settings), _event_settings(new_settings)
    return CatalogDiff(
        **{kind: _changes(before_, after_) for kind, (before_, after_) in kinds.items()},
        examples=(len(_samples(old)), len(_samples(new))),
        settings=tuple(key for key in after if key != "code" and before.get(key) != after[key]),
        reordered=reordered,
    )


# --- Applying ------------------------------------------------------------------------------------------


def event_catalog(clinic: Clinic, event_code: str) -> EventCatalog:
    """The event's catalog and settings as stored now: what an export writes and a preview compares."""
    event = clinic.require_event(event_code)
    with clinic.engine.connect() as connection:
        catalog = catalog_store.load_catalog(connection, event["id"])
    return EventCatalog(catalog, _event_settings(event))


def _replace_catalog(
    clinic: Clinic,
    event_code: str,
    catalog: Catalog,
    settings: Mapping[str, Any] | None,
    role: str,
    action: str,
    **detail: Any,
) -> CatalogDiff:
    """Store `catalog` (and settings) whole or not at all, audited; the version bump refits the router."""
    if not may_act_as(role, ROLE_ORGANIZER):
        raise Rejected("forbidden", "Only organizers can change the catalog.")
    problems = [Problem("", None, reason) for reason in catalog.problems()]
    settings = _settings(_Row("event settings", None, settings or {}), catalog.language_codes, problems)
    settings.pop("code", None)  # the join link stays what it is
    if problems:
        raise CatalogRefused(problems)
    event = clinic.require_event(event_code)

    def work(connection) -> CatalogDiff:
        current = catalog_store.lock_event(connection, event["id"])
        old = catalog_store.load_catalog(connection, event["id"])
        removed = {table.number for table in old.tables} - {table.number for table in catalog.tables}
        seated, _ = challenge_store.occupancy(connection, event["id"], current["current_round"])
        busy = [
            Problem("", None, f"Table {n} has {seated[n]} people seated; move them before removing it.")
            for n in sorted(removed)
            if seated.get(n)
        ]
        if busy:
            raise CatalogRefused(busy)
        catalog_store.save_catalog(connection, event["id"], catalog)
        if settings:
            catalog_store.update_event(connection, event["id"], settings)
        diff = diff_catalogs(old, catalog, current, settings)
        challenge_store.record_audit(
            connection, event["id"], role, action, f"event:{event_code}", **asdict(diff), **detail
        )
        return diff

    return in_transaction(clinic.engine, work)


def import_catalog(
    clinic: Clinic,
    event_code: str,
    catalog: Catalog,
    settings: Mapping[str, Any] | None,
    role: str,
    source: str = "",
) -> CatalogDiff:
    """Replace the event's catalog (and the settings the file had) in one transaction, audited.

    Confirmed examples stay; a table with people seated in this round cannot be removed. Returns
    what changed. The catalog version goes up, so `Clinic.router` refits on the next request.
    """
    return _replace_catalog(clinic, event_code, catalog, settings, role, ACTION_IMPORT, source=source)


def edit_catalog(
    current: Catalog,
    *,
    languages: Sequence[Mapping[str, Any]] | None = None,
    topics: Sequence[Mapping[str, Any]] | None = None,
    experts: Sequence[Mapping[str, Any]] | None = None,
    tables: Sequence[Mapping[str, Any]] | None = None,
) -> Catalog:
    """The catalog with the organizer's edited rows (`df.to_dict('records')`) in place of its own.

    A section left out (None) stays as it is; labelled examples always do. Raises
    `CatalogRefused` whose problems say the table, row and reason ("Tables row 7: topic 'glams'
    does not exist"); rows count from 1, as the editor shows them.
    """
    rows = catalog_rows(current)
    codes = {language.code for language in current.languages}
    if languages is not None:
        # Translations into a language the organizer just removed go with it; examples written in
        # it stay labelled examples, of no known language.
        codes = {str(row.get("code", "")).strip() for row in languages}
        topics = [
            {key: value for key, value in row.items() if _translation_code(key) in codes | {None}}
            for row in (topics if topics is not None else rows[TOPICS])
        ]
    edited = {LANGUAGES: languages, TOPICS: topics, EXPERTS: experts, TABLES: tables}
    sections = {
        section: [
            _Row(section.capitalize(), number, dict(values), "row")
            for number, values in enumerate(given if given is not None else rows[section], start=1)
        ]
        for section, given in edited.items()
    }
    sections[EXAMPLES] = [
        _Row("Examples", None, {**row, "language": row["language"] if row["language"] in codes else ""})
        for row in rows[EXAMPLES]
    ]
    problems: list[Problem] = []
    built = _build(sections, problems)
    if problems:
        raise CatalogRefused(problems)
    confirmed = tuple(x for x in current.examples if x.id.startswith(CONFIRMED_PREFIX))
    return replace(built.catalog, examples=built.catalog.examples + confirmed)


def save_catalog_edit(
    clinic: Clinic,
    event_code: str,
    catalog: Catalog,
    role: str,
    settings: Mapping[str, Any] | None = None,
) -> CatalogDiff:
    """Store the organizer's edited catalog (and settings, if given) in one transaction, audited."""
    return _replace_catalog(clinic, event_code, catalog, settings, role, ACTION_EDIT)
