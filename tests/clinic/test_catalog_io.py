"""Catalog import and export: round trips, broken files refused with file, line and reason and
nothing stored, an accepted import taking effect at once, the preview, and the organizer's edits."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import replace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic import participants
from clinic.catalog_io import (
    ACTION_EDIT,
    ACTION_IMPORT,
    CatalogRefused,
    ImportRefused,
    catalog_rows,
    diff_catalogs,
    edit_catalog,
    event_catalog,
    export_csv_bundle,
    export_yaml,
    import_catalog,
    parse_catalog,
    save_catalog_edit,
)
from clinic.errors import Rejected
from clinic.setup import demo_event_settings
from matching import Catalog, Example, Expert, Language, Table, Topic
from matching.limits import MAX_BUNDLE_ENTRIES, MAX_IMPORT_BYTES
from store import catalog as catalog_store
from store import challenges as challenge_store

DEMO = "wmcon2018"
ORGANIZER = "organizer"


@pytest.fixture(scope="module")
def demo_bundle(demo_catalog) -> bytes:
    return export_csv_bundle(demo_catalog, demo_event_settings())


@pytest.fixture(scope="module")
def demo_yaml(demo_catalog) -> bytes:
    return export_yaml(demo_catalog, demo_event_settings())


def read_csv(bundle: bytes, name: str) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")))


def write_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def rezip(bundle: bytes, **files: bytes | None) -> bytes:
    """The bundle with some files replaced (bytes), removed (None) or added (a new name)."""
    replaced = {name.replace("__", "."): content for name, content in files.items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            if name not in replaced:
                target.writestr(name, source.read(name))
        for name, content in replaced.items():
            if content is not None:
                target.writestr(name, content)
    return buffer.getvalue()


def edited_csv(bundle: bytes, name: str, edit) -> bytes:
    rows = read_csv(bundle, name)
    edit(rows)
    return rezip(bundle, **{name.replace(".", "__"): write_csv(rows)})


def stored_state(clinic) -> tuple:
    """Everything an import may change: the catalog, the event's settings and versions, the audit log."""
    event = clinic.event(DEMO)
    with clinic.engine.connect() as connection:
        return (
            catalog_store.load_catalog(connection, event["id"]),
            event,
            len(challenge_store.audit_entries(connection, event["id"])),
        )


def upload(clinic, filename: str, data: bytes):
    """What the organizer's page does with an upload: parse, then apply."""
    parsed = parse_catalog(filename, data)
    return import_catalog(clinic, DEMO, parsed.catalog, parsed.settings, ORGANIZER, source=filename)


# --- Round trips ---------------------------------------------------------------------------------------


def test_yaml_round_trip_gives_the_demo_catalog(demo_catalog, demo_yaml):
    parsed = parse_catalog("catalog.yaml", demo_yaml)
    assert parsed.catalog == demo_catalog
    assert parsed.settings == demo_event_settings()


def test_csv_bundle_round_trip_gives_the_demo_catalog(demo_catalog, demo_bundle):
    with zipfile.ZipFile(io.BytesIO(demo_bundle)) as archive:
        assert archive.namelist() == [
            f"{name}.csv" for name in ("event", "languages", "topics", "experts", "tables", "examples")
        ]
    assert read_csv(demo_bundle, "topics.csv")[0][:7] == [
        "id",
        "name",
        "description",
        "active",
        "name_en",
        "description_en",
        "keywords_en",
    ]
    parsed = parse_catalog("catalog.zip", demo_bundle)
    assert parsed.catalog == demo_catalog
    assert parsed.settings == demo_event_settings()


def test_the_stored_catalog_round_trips_through_both_formats(clinic):
    stored = event_catalog(clinic, DEMO)
    for name, data in (
        ("c.yaml", export_yaml(stored.catalog, stored.settings)),
        ("c.zip", export_csv_bundle(stored.catalog, stored.settings)),
    ):
        again = parse_catalog(name, data)
        assert again.catalog == stored.catalog
        assert again.settings == stored.settings


def test_csv_cells_never_run_as_formulas_yet_round_trip(demo_catalog):
    risky = ('=HYPERLINK("http://evil")', "+1", "-glam", "@SUM(A1)", "'=quoted", "'Tis the season")
    topics = tuple(replace(t, description=risky[i % len(risky)]) for i, t in enumerate(demo_catalog.topics))
    catalog = replace(demo_catalog, topics=topics)
    bundle = export_csv_bundle(catalog)
    cells = [row[2] for row in read_csv(bundle, "topics.csv")[1:]]
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert cells[:6] == ['\'=HYPERLINK("http://evil")', "'+1", "'-glam", "'@SUM(A1)", "''=quoted", "'Tis the season"]
    assert parse_catalog("c.zip", bundle).catalog == catalog


def test_a_bundle_zipped_as_a_folder_on_a_mac_is_read(demo_catalog, demo_bundle):
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(demo_bundle)) as source, zipfile.ZipFile(buffer, "w") as target:
        target.writestr("catalog/", b"")
        for name in source.namelist():
            target.writestr(f"catalog/{name}", source.read(name))
            target.writestr(f"__MACOSX/catalog/._{name}", b"\0\5\26\7 resource fork")
    assert parse_catalog("catalog.zip", buffer.getvalue()).catalog == demo_catalog


# --- Broken files: refused with file, line and reason, nothing stored ------------------------------


def _zip(**entries: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name.replace("__", "."), content)
    return buffer.getvalue()


def _set(row_index: int, column: str, value: str):
    def edit(rows):
        rows[row_index][rows[0].index(column)] = value

    return edit


def _drop_column(column: str):
    def edit(rows):
        index = rows[0].index(column)
        for row in rows:
            del row[index]

    return edit


def _latin1_topics(bundle: bytes) -> bytes:
    """topics.csv saved as Latin-1 (as old spreadsheets do): the first accent is on line 4."""
    rows = [row[:4] for row in read_csv(bundle, "topics.csv")]
    rows[3][1] = "Gestion du partenariat (équipe)"
    return rezip(bundle, topics__csv=write_csv(rows).decode().encode("latin-1"))


BROKEN_BUNDLES = {
    "missing column": (
        lambda b: edited_csv(b, "experts.csv", _drop_column("languages")),
        "experts.csv line 1: missing column 'languages'",
    ),
    "unknown column": (
        lambda b: edited_csv(b, "tables.csv", _set(0, "capacity", "capcity")),
        "tables.csv line 1: unknown column 'capcity'",
    ),
    "bad encoding": (_latin1_topics, "topics.csv line 4: is not UTF-8 text"),
    "duplicate topic id": (
        lambda b: edited_csv(b, "topics.csv", lambda rows: rows.append(list(rows[6]))),
        "topics.csv line 10: duplicate topic id 'glam' (also on line 7)",
    ),
    "duplicate table": (
        lambda b: edited_csv(b, "tables.csv", _set(2, "number", "1")),
        "tables.csv line 3: duplicate table number '1' (also on line 2)",
    ),
    "unknown topic of a table": (
        lambda b: edited_csv(b, "tables.csv", _set(3, "topic", "glams")),
        "tables.csv line 4: topic 'glams' does not exist",
    ),
    "unknown language of an expert": (
        lambda b: edited_csv(b, "experts.csv", _set(6, "languages", "en; de")),
        "experts.csv line 7: languages names 'de', which is not one of the clinic's languages",
    ),
    "unknown topic of an expert": (
        lambda b: edited_csv(b, "experts.csv", _set(2, "topics", "grants; money")),
        "experts.csv line 3: topics names 'money', which does not exist",
    ),
    "unknown table of an expert": (
        lambda b: edited_csv(b, "experts.csv", _set(1, "table", "12")),
        "experts.csv line 2: table 12 does not exist",
    ),
    "unknown topic of an example": (
        lambda b: edited_csv(b, "examples.csv", _set(5, "topic", "money")),
        "examples.csv line 6: topic 'money' does not exist",
    ),
    "translation into a language the clinic lacks": (
        lambda b: edited_csv(
            b,
            "topics.csv",
            lambda rows: [
                row.append("Zuschüsse" if i == 1 else "name_de" if i == 0 else "") for i, row in enumerate(rows)
            ],
        ),
        "topics.csv line 2: name_de is for 'de', which is not one of the clinic's languages",
    ),
    "non-numeric capacity": (
        lambda b: edited_csv(b, "tables.csv", _set(1, "capacity", "eight")),
        "tables.csv line 2: capacity 'eight' is not a whole number",
    ),
    "capacity out of range": (
        lambda b: edited_csv(b, "experts.csv", _set(4, "capacity", "0")),
        "experts.csv line 5: capacity 0 is out of range: it must be from 1 to 100",
    ),
    "not a boolean": (
        lambda b: edited_csv(b, "experts.csv", _set(4, "present", "maybe")),
        "experts.csv line 5: present 'maybe' is neither true nor false",
    ),
    "bad topic id": (
        lambda b: edited_csv(b, "topics.csv", _set(1, "id", "Grants!")),
        "topics.csv line 2: topic id 'Grants!' must be 1-40 lower-case letters",
    ),
    "bad date": (
        lambda b: edited_csv(b, "event.csv", _set(1, "date", "21/04/2018")),
        "event.csv line 2: date '21/04/2018' is not a date such as 2018-04-21",
    ),
    "no active topic": (
        lambda b: edited_csv(b, "topics.csv", lambda rows: [row.__setitem__(3, "false") for row in rows[1:]]),
        "catalog.zip: There is no active topic to route to.",
    ),
    "more cells than columns": (
        lambda b: edited_csv(b, "tables.csv", lambda rows: rows[2].append("extra")),
        "tables.csv line 3: has 4 cells, but the header names 3",
    ),
    "empty file inside": (lambda b: rezip(b, experts__csv=b""), "experts.csv: is empty"),
    "missing file": (lambda b: rezip(b, tables__csv=None), "catalog.zip: has no tables.csv"),
    "unexpected file": (lambda b: rezip(b, expert__csv=b"name\n"), "catalog.zip: unexpected file 'expert.csv'"),
    "nested archive": (lambda b: rezip(b, more__zip=b), "catalog.zip: 'more.zip' is an archive inside the archive"),
    "archive posing as csv": (lambda b: rezip(b, examples__csv=b), "examples.csv: is an archive, not a CSV file"),
    "path out of the archive": (
        lambda b: _zip(**{"../topics.csv": b"id,name\n"}),
        "catalog.zip: '../topics.csv' points outside the archive",
    ),
    "absolute path": (lambda b: _zip(**{"/etc/passwd": b"x"}), "catalog.zip: '/etc/passwd' points outside the archive"),
    "zip bomb": (
        lambda b: _zip(examples__csv=b"0" * (60 * 2**20)),
        "catalog.zip: would unpack to 60 MB; a bundle may unpack to at most 50 MB",
    ),
    "too many entries": (
        lambda b: _zip(**{f"f{i}.csv": b"x" for i in range(MAX_BUNDLE_ENTRIES + 1)}),
        f"catalog.zip: holds {MAX_BUNDLE_ENTRIES + 1} entries; a bundle holds at most {MAX_BUNDLE_ENTRIES}",
    ),
    "not a zip": (lambda b: b"id,name\nglam,GLAM\n", "catalog.zip: is not a ZIP archive"),
    "truncated zip": (lambda b: b[: len(b) // 2], "catalog.zip: is not a ZIP archive"),
    "over 10 MB": (
        lambda b: b + b"\0" * (MAX_IMPORT_BYTES + 1 - len(b)),
        "catalog.zip: is 10.0 MB; a catalog file may be at most 10 MB",
    ),
    "empty upload": (lambda b: b"", "catalog.zip: is empty"),
}


@pytest.mark.parametrize("case", BROKEN_BUNDLES)
def test_a_broken_bundle_is_refused_with_file_line_and_reason_and_nothing_changes(clinic, demo_bundle, case):
    make, expected = BROKEN_BUNDLES[case]
    before = stored_state(clinic)
    with pytest.raises(ImportRefused) as refused:
        upload(clinic, "catalog.zip", make(demo_bundle))
    found = [str(problem) for problem in refused.value.problems]
    assert any(problem.startswith(expected) for problem in found), found
    assert isinstance(refused.value, Rejected) and expected in refused.value.message
    assert stored_state(clinic) == before


def _yaml_with(demo_yaml: bytes, edit) -> bytes:
    document = yaml.load(demo_yaml, Loader=yaml.CSafeLoader)
    edit(document)
    document = json.loads(json.dumps(document))  # objects used twice would be written as YAML aliases
    return yaml.dump(document, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False).encode()


BROKEN_YAML = {
    "not a mapping": (lambda y: b"- languages\n- topics\n", "catalog.yaml: is not a mapping with the keys event"),
    "a python tag": (
        lambda y: b"languages: !!python/object/apply:os.system ['echo owned']\n",
        "catalog.yaml line 1: uses the tag '!!python/object/apply:os.system'; tags are not allowed",
    ),
    "a plain tag": (lambda y: b"event:\n  title: !!str 2018\n", "catalog.yaml line 2: uses the tag"),
    "billion laughs": (
        lambda y: b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
        "catalog.yaml line 1: uses an anchor or alias",
    ),
    "syntax error": (lambda y: b"languages:\n  - {code: en\ntopics: []\n", "catalog.yaml line 3: is not valid YAML"),
    "bad encoding": (
        lambda y: "languages: []\ntopics: [{id: caf\xe9}]\n".encode("latin-1"),
        "catalog.yaml line 2: is not UTF-8 text",
    ),
    "empty": (lambda y: b"   \n", "catalog.yaml: is empty"),
    "only a comment": (lambda y: b"# nothing here\n", "catalog.yaml: is not a mapping"),
    "unknown key": (lambda y: y + b"speakers: []\n", "unknown key 'speakers'"),
    "duplicate key": (lambda y: y + b"tables: []\n", "duplicate key 'tables'"),
    "section not a list": (lambda y: _yaml_with(y, lambda d: d.update(tables="1, 2")), "tables must be a list"),
    "duplicate expert": (
        lambda y: _yaml_with(y, lambda d: d["experts"].append(dict(d["experts"][0]))),
        "duplicate expert id 'georgina-fields'",
    ),
    "unknown table topic": (
        lambda y: _yaml_with(y, lambda d: d["tables"][6].update(topic="glams")),
        "topic 'glams' does not exist",
    ),
    "capacity as text": (
        lambda y: _yaml_with(y, lambda d: d["tables"][0].update(capacity="lots")),
        "capacity 'lots' is not a whole number",
    ),
    "impossible date": (lambda y: y.replace(b"'2018-04-21'", b"2018-13-45"), "catalog.yaml: is not valid YAML"),
    "huge integer": (lambda y: y.replace(b"rounds: 2", b"rounds: " + b"9" * 5000), "catalog.yaml: is not valid YAML"),
}


@pytest.mark.parametrize("case", BROKEN_YAML)
def test_a_broken_yaml_file_is_refused_with_line_and_reason_and_nothing_changes(clinic, demo_yaml, case):
    make, expected = BROKEN_YAML[case]
    before = stored_state(clinic)
    with pytest.raises(ImportRefused) as refused:
        upload(clinic, "catalog.yaml", make(demo_yaml))
    found = [str(problem) for problem in refused.value.problems]
    assert any(expected in problem for problem in found), found
    assert stored_state(clinic) == before


def test_yaml_problems_name_the_line_of_the_entry(demo_yaml):
    text = demo_yaml.decode()
    broken = text.replace("{number: 4, topic: exit, capacity: 8}", "{number: 4, topic: exits, capacity: 8}")
    line = broken.splitlines().index("- {number: 4, topic: exits, capacity: 8}") + 1
    with pytest.raises(ImportRefused) as refused:
        parse_catalog("catalog.yaml", broken.encode())
    assert [str(p) for p in refused.value.problems] == [f"catalog.yaml line {line}: topic 'exits' does not exist"]


def test_a_file_of_another_kind_is_refused(demo_yaml):
    with pytest.raises(ImportRefused, match="is neither a .zip of CSV files nor a .yaml file"):
        parse_catalog("catalog.xlsx", demo_yaml)


def test_a_flood_of_problems_is_cut_short(demo_bundle):
    rows = [["number", "topic", "capacity"]] + [[str(n), "nowhere", "8"] for n in range(1, 500)]
    with pytest.raises(ImportRefused) as refused:
        parse_catalog("catalog.zip", rezip(demo_bundle, tables__csv=write_csv(rows)))
    assert len(refused.value.problems) == 51
    assert str(refused.value.problems[-1]).endswith("more problems.")


# --- An accepted import ------------------------------------------------------------------------------


def _without_data_topic(catalog: Catalog) -> Catalog:
    """The demo clinic without its data table: data experts move to the GLAM table, glam is renamed."""
    topics = tuple(
        replace(t, name="Museums, libraries and universities") if t.id == "glam" else t
        for t in catalog.topics
        if t.id != "data"
    )
    experts = tuple(
        replace(e, topics=tuple(t for t in e.topics if t != "data") or ("glam",), table=6 if e.table == 8 else e.table)
        for e in catalog.experts
    )
    return replace(
        catalog,
        topics=topics,
        experts=experts,
        tables=tuple(t for t in catalog.tables if t.topic != "data"),
        examples=tuple(x for x in catalog.examples if x.topic != "data"),
    )


DATA_CHALLENGE = "How do we convince the statistics office to release its datasets as open data for Wikidata?"


def test_a_valid_import_replaces_the_catalog_and_the_next_route_uses_it(clinic, demo_catalog):
    event = clinic.event(DEMO)
    assert clinic.router(event).route([DATA_CHALLENGE], [["en"]])[0].topic == "data"
    new = _without_data_topic(demo_catalog)
    settings = {**demo_event_settings(), "title": "Clinic 2019", "rounds": 3}

    diff = upload(clinic, "next.yaml", export_yaml(new, settings))

    assert diff.topics.removed == ("data",) and diff.topics.changed == ("glam",)
    stored, stored_event, _ = stored_state(clinic)
    assert stored == new
    assert (stored_event["title"], stored_event["rounds"], stored_event["code"]) == ("Clinic 2019", 3, DEMO)
    assert stored_event["catalog_version"] == event["catalog_version"] + 1
    router = clinic.router(stored_event)
    assert router.catalog_ == new
    answer = participants.submit_challenge(clinic, DEMO, DATA_CHALLENGE, ["en"])
    assert answer.topic in {t.id for t in new.topics}
    glam = participants.submit_challenge(clinic, DEMO, "How do we get a museum to open its collections?", ["en"])
    assert glam.topic_name == "Museums, libraries and universities"
    with clinic.engine.connect() as connection:
        audit = challenge_store.audit_entries(connection, event["id"])[-1]
    assert (audit["action"], audit["role"], audit["detail"]["source"]) == (ACTION_IMPORT, ORGANIZER, "next.yaml")
    assert audit["detail"]["topics"]["removed"] == ["data"]


def test_an_import_during_the_session_keeps_seated_people_and_table_locks(clinic, demo_catalog):
    seated = participants.submit_challenge(
        clinic, DEMO, "Where can a small user group find money for an editathon?", ["en"]
    )
    assert seated.table is not None
    event = clinic.event(DEMO)
    with clinic.engine.begin() as connection:
        catalog_store.set_table_locked(connection, event["id"], seated.table, True)
    bigger = replace(demo_catalog, tables=tuple(replace(t, capacity=10) for t in demo_catalog.tables))
    upload(clinic, "c.zip", export_csv_bundle(bigger))
    assert participants.answer_for_ticket(clinic, seated.ticket).table == seated.table
    with clinic.engine.connect() as connection:
        assert catalog_store.locked_tables(connection, event["id"]) == {seated.table}


def test_a_table_with_people_seated_cannot_be_removed(clinic, demo_catalog):
    seated = participants.submit_challenge(
        clinic, DEMO, "Where can a small user group find money for an editathon?", ["en"]
    )
    fewer = replace(
        demo_catalog,
        tables=tuple(t for t in demo_catalog.tables if t.number != seated.table),
        experts=tuple(replace(e, table=None) if e.table == seated.table else e for e in demo_catalog.experts),
    )
    before = stored_state(clinic)
    with pytest.raises(CatalogRefused, match=f"Table {seated.table} has 1 people seated; move them"):
        upload(clinic, "c.zip", export_csv_bundle(fewer))
    assert stored_state(clinic) == before


def test_only_organizers_import(clinic, demo_catalog):
    with pytest.raises(Rejected, match="Only organizers"):
        import_catalog(clinic, DEMO, demo_catalog, {}, "facilitator")


def test_the_import_checks_the_catalog_it_is_given(clinic, demo_catalog):
    broken = replace(demo_catalog, tables=(*demo_catalog.tables, Table(9, "glams")))
    before = stored_state(clinic)
    with pytest.raises(CatalogRefused, match="Table 9 names topic 'glams', which does not exist."):
        import_catalog(clinic, DEMO, broken, {}, ORGANIZER)
    with pytest.raises(CatalogRefused, match="minutes 0 is out of range"):
        import_catalog(clinic, DEMO, demo_catalog, {"minutes": 0}, ORGANIZER)
    assert stored_state(clinic) == before


# --- The preview ---------------------------------------------------------------------------------------


def test_the_diff_lists_what_is_added_changed_and_removed(demo_catalog):
    new = _without_data_topic(demo_catalog)
    new = replace(
        new,
        topics=(*new.topics, Topic("bots", "Bots and tools", keywords={"en": ("bot", "toolforge")})),
        tables=(*new.tables, Table(9, "bots")),
    )
    diff = diff_catalogs(demo_catalog, new, demo_event_settings(), {**demo_event_settings(), "rounds": 3})
    assert diff.topics.added == ("bots",)
    assert diff.topics.changed == ("glam",)
    assert diff.topics.removed == ("data",)
    assert diff.tables.added == ("9",) and diff.tables.removed == ("8",)
    assert set(diff.experts.changed) == {e.id for e in demo_catalog.experts if "data" in e.topics or e.table == 8}
    assert not diff.languages and diff.experts.added == diff.experts.removed == ()
    assert diff.examples == (len(demo_catalog.examples), len(new.examples))
    assert diff.settings == ("rounds",)
    assert "Topics: 1 added (bots), 1 changed (glam), 1 removed (data)" in diff.lines()
    assert not diff.empty
    same = diff_catalogs(demo_catalog, demo_catalog, demo_event_settings(), demo_event_settings())
    assert same.empty and same.lines() == ["No change."]
    reordered = diff_catalogs(demo_catalog, replace(demo_catalog, topics=demo_catalog.topics[::-1]))
    assert reordered.reordered == ("topics",) and not reordered.empty


# --- The organizer's tables ------------------------------------------------------------------------------


def test_edited_rows_become_a_catalog_that_is_saved_and_routed_with_at_once(clinic, demo_catalog):
    rows = catalog_rows(demo_catalog)
    rows["experts"][0]["present"] = False
    rows["tables"][0]["capacity"] = 12.0  # what a pandas column of numbers hands back
    rows["topics"][5]["keywords_en"] += "; herbarium"
    catalog = edit_catalog(demo_catalog, experts=rows["experts"], tables=rows["tables"], topics=rows["topics"])
    assert catalog.experts[0].present is False and catalog.tables[0].capacity == 12
    assert catalog.topic("glam").keywords["en"][-1] == "herbarium"
    assert catalog.examples == demo_catalog.examples

    diff = save_catalog_edit(clinic, DEMO, catalog, ORGANIZER)
    assert diff.experts.changed == ("georgina-fields",) and diff.topics.changed == ("glam",)
    event = clinic.event(DEMO)
    assert clinic.router(event).catalog_ == catalog
    with clinic.engine.connect() as connection:
        assert challenge_store.audit_entries(connection, event["id"])[-1]["action"] == ACTION_EDIT


def test_edited_rows_with_problems_are_refused_in_words(demo_catalog):
    rows = catalog_rows(demo_catalog)
    rows["tables"][6]["topic"] = "glams"
    rows["experts"][2]["capacity"] = "lots"
    rows["experts"][3]["languages"] = float("nan")  # an emptied cell of a pandas frame
    with pytest.raises(CatalogRefused) as refused:
        edit_catalog(demo_catalog, tables=rows["tables"], experts=rows["experts"])
    assert [str(p) for p in refused.value.problems] == [
        "Tables row 7: topic 'glams' does not exist",
        "Experts row 3: capacity 'lots' is not a whole number",
        "Experts row 4: languages is empty: an expert needs a language to talk in",
    ]


def test_removing_a_language_in_the_editor_drops_its_translations(demo_catalog):
    rows = catalog_rows(demo_catalog)
    languages = [row for row in rows["languages"] if row["code"] != "he"]
    experts = [{**row, "languages": [c for c in row["languages"].split("; ") if c != "he"]} for row in rows["experts"]]
    catalog = edit_catalog(demo_catalog, languages=languages, experts=experts)
    assert "he" not in catalog.language_codes
    assert all("he" not in topic.names and "he" not in topic.keywords for topic in catalog.topics)
    hebrew = [x for x in demo_catalog.examples if x.language == "he"]
    assert hebrew and [x.text for x in catalog.examples if x.language is None] == [x.text for x in hebrew]


def test_an_edit_keeps_the_examples_facilitators_confirmed(clinic, demo_catalog):
    confirmed = replace(demo_catalog.examples[0], id="confirmed:7")
    current = replace(demo_catalog, examples=(*demo_catalog.examples, confirmed))
    assert edit_catalog(current).examples[-1] == confirmed


# --- Fuzz: anything uploaded is refused in words or parses to a usable catalog --------------------------

SMALL_CATALOG = Catalog(
    languages=(Language("en", "English", "English"), Language("ar", "Arabic", "العربية", "rtl")),
    topics=(
        Topic("grants", "Grants", "Money", keywords={"en": ("grant", "sponsor")}, names={"ar": "منح"}),
        Topic("glam", "GLAM", "Museums", keywords={"en": ("museum",), "ar": ("متحف",)}, active=True),
    ),
    experts=(
        Expert("ana", "Ana", "WMF", ("grants",), ("en", "ar"), "Budgets", capacity=3, table=1),
        Expert("ben", "Ben", topics=("glam",), languages=("en",), present=False),
    ),
    tables=(Table(1, "grants", capacity=2), Table(2, "glam")),
    examples=(Example("Where do we find a sponsor?", "grants", "en", "en-1"), Example("متحف", "glam", None, "")),
)
SMALL_SETTINGS = {"title": "Small clinic", "date": "2019-05-01", "rounds": 2, "submissions_open": True}
SMALL_BUNDLE = export_csv_bundle(SMALL_CATALOG, SMALL_SETTINGS)
SMALL_YAML = export_yaml(SMALL_CATALOG, SMALL_SETTINGS)
with zipfile.ZipFile(io.BytesIO(SMALL_BUNDLE)) as _archive:
    SMALL_FILES = {name: _archive.read(name) for name in _archive.namelist()}

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parses_or_refuses(filename: str, data: bytes) -> None:
    try:
        parsed = parse_catalog(filename, data)
    except ImportRefused as refused:
        assert refused.problems and all(str(problem) for problem in refused.problems)
        return
    assert parsed.catalog.problems() == []
    # What was accepted is exported and read back unchanged.
    assert parse_catalog("again.zip", export_csv_bundle(parsed.catalog, parsed.settings)) == parsed
    assert parse_catalog("again.yaml", export_yaml(parsed.catalog, parsed.settings)) == parsed


def _mutate(data: bytes, position: int, insert: bytes, cut: int) -> bytes:
    position %= len(data) + 1
    return data[:position] + insert + data[position + cut :]


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".zip", ".yaml", ".yml"]))
def test_random_bytes_are_refused_or_parse(data, suffix):
    _parses_or_refuses("upload" + suffix, data)


@FUZZ
@given(position=st.integers(min_value=0), insert=st.binary(max_size=8), cut=st.integers(min_value=0, max_value=8))
def test_damaged_zip_archives_are_refused_or_parse(position, insert, cut):
    _parses_or_refuses("catalog.zip", _mutate(SMALL_BUNDLE, position, insert, cut))


# Pieces that matter to CSV and YAML (quotes, separators, indentation, tags, NUL), and a few values.
FUZZ_TEXT = st.lists(
    st.sampled_from([*",;\"'\n\r\t =-:[]{}&*!#|>\\0aé\x00", "true", "nan", "99", "-1", "glam", "de"]), max_size=6
).map("".join)


@FUZZ
@given(
    name=st.sampled_from(sorted(SMALL_FILES)),
    position=st.integers(min_value=0),
    insert=FUZZ_TEXT,
    cut=st.integers(min_value=0, max_value=20),
)
def test_mutated_bundles_are_refused_or_parse(name, position, insert, cut):
    files = dict(SMALL_FILES)
    files[name] = _mutate(files[name], position, insert.encode(), cut)
    _parses_or_refuses("catalog.zip", _zip(**{n.replace(".", "__"): c for n, c in files.items()}))


@FUZZ
@given(position=st.integers(min_value=0), insert=FUZZ_TEXT, cut=st.integers(min_value=0, max_value=20))
def test_mutated_yaml_is_refused_or_parses(position, insert, cut):
    _parses_or_refuses("catalog.yaml", _mutate(SMALL_YAML, position, insert.encode(), cut))
