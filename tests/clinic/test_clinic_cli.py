"""`python -m clinic`: the operator's events, export and backup commands, on the app's database."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from clinic import documentation as D
from clinic import participants as P
from clinic.access import ROLES
from clinic.cli import ROLE_COMMAND_LINE, main
from clinic.setup import Clinic
from store import catalog as catalog_store
from store import challenges as challenge_store
from store.engine import DATABASE_URL_VARIABLE

EVENT = "wmcon2018"
CHALLENGE = "How do we find a sponsor for our photo contest in the national library?"
PARTS = (D.FILE_WIKITEXT, D.FILE_MARKDOWN, D.FILE_CSV, D.FILE_XLSX, D.FILE_EVERYTHING)
ROOT = Path(__file__).resolve().parents[2]

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def sqlite_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def count_challenges(path: Path) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute("SELECT count(*) FROM challenges").fetchone()[0]


# --- export ----------------------------------------------------------------------------------


def test_export_writes_the_consoles_five_files_with_the_challenge_in_each(clinic, database_url, tmp_path, capsys):
    P.submit_challenge(clinic, EVENT, CHALLENGE, ["en"], "Amina")
    out_folder = tmp_path / "out" / "day1"  # made when missing

    status, out, err = run(capsys, "export", EVENT, "--database", database_url, "--out", str(out_folder))

    assert (status, err) == (0, "")
    written = {path.name: path for path in out_folder.iterdir()}
    assert len(written) == 5
    stamp = re.compile(rf"{EVENT}-\d{{8}}T\d{{6}}Z-(.+)")
    assert sorted(stamp.fullmatch(name)[1] for name in written) == sorted(PARTS)
    assert len({stamp.fullmatch(name)[0].split("-")[1] for name in written}) == 1  # one time for all five
    lines = out.splitlines()
    assert len(lines) == 5
    for path in written.values():
        assert any(line.startswith(str(path)) and line.endswith(f"{path.stat().st_size:,} bytes") for line in lines)

    by_part = {stamp.fullmatch(name)[1]: path for name, path in written.items()}
    assert f"* {CHALLENGE}" in by_part[D.FILE_WIKITEXT].read_text(encoding="utf-8")
    assert CHALLENGE in by_part[D.FILE_MARKDOWN].read_text(encoding="utf-8")
    with zipfile.ZipFile(by_part[D.FILE_CSV]) as archive:
        assert sorted(archive.namelist()) == ["assignments.csv", "challenges.csv", "notes.csv"]
        assert CHALLENGE in archive.read("challenges.csv").decode("utf-8-sig")
    workbook = load_workbook(io.BytesIO(by_part[D.FILE_XLSX].read_bytes()), read_only=True)
    assert workbook.sheetnames == ["challenges", "assignments", "notes"]
    assert CHALLENGE in [cell for row in workbook["challenges"].iter_rows(values_only=True) for cell in row]
    everything = json.loads(by_part[D.FILE_EVERYTHING].read_text(encoding="utf-8"))
    assert everything["format"] == D.EXPORT_FORMAT
    assert everything["event"]["code"] == EVENT
    assert [(row["text"], row["participant_name"]) for row in everything["tables"]["challenges"]] == [
        (CHALLENGE, "Amina")
    ]
    assert "ticket" not in everything["tables"]["challenges"][0]


def test_export_is_in_the_audit_log_as_taken_from_the_command_line(clinic, database_url, tmp_path, capsys):
    status, _, _ = run(capsys, "export", EVENT, "--database", database_url, "--out", str(tmp_path))

    assert status == 0
    event = clinic.event(EVENT)
    with clinic.engine.connect() as connection:
        entries = challenge_store.audit_entries(connection, event["id"])
    assert [(e["role"], e["action"], e["target"]) for e in entries] == [
        (ROLE_COMMAND_LINE, D.ACTION_EXPORT, f"event:{EVENT}")
    ]
    assert ROLE_COMMAND_LINE not in ROLES  # a name in the log, never a role anyone signs in as


def test_the_console_and_the_command_line_name_files_alike():
    assert [D.export_file_name(EVENT, part) for part in PARTS] == [
        "wmcon2018-documentation.wiki",
        "wmcon2018-documentation.md",
        "wmcon2018-data.zip",
        "wmcon2018-data.xlsx",
        "wmcon2018-everything.json",
    ]
    at = datetime(2018, 4, 20, 14, 5, 9, tzinfo=timezone(timedelta(hours=2)))  # Berlin, summer time
    assert D.export_file_name(EVENT, D.FILE_CSV, at) == "wmcon2018-20180420T120509Z-data.zip"
    assert D.export_file_name(EVENT, D.FILE_CSV, at.astimezone(UTC)) == "wmcon2018-20180420T120509Z-data.zip"


def test_export_of_an_unknown_event_names_the_known_ones(clinic, small_event, database_url, tmp_path, capsys):
    status, out, err = run(capsys, "export", "wmcon2019", "--database", database_url, "--out", str(tmp_path / "x"))

    assert status == 2
    assert out == ""
    assert err == "error: no event 'wmcon2019'; the events are: wmcon2018, small.\n"
    with clinic.engine.connect() as connection:
        assert challenge_store.audit_entries(connection, clinic.event(EVENT)["id"]) == []


def test_commands_never_load_the_demo_into_an_empty_database(database_url, tmp_path, capsys):
    empty = Clinic.open(database_url, load_demo=False)

    status, _, err = run(capsys, "export", EVENT, "--database", database_url, "--out", str(tmp_path))
    assert status == 2
    assert err == f"error: no event '{EVENT}'; the events are: none.\n"
    assert run(capsys, "events", "--database", database_url)[0] == 0
    with empty.engine.connect() as connection:
        assert catalog_store.count_events(connection) == 0
    empty.engine.dispose()


def test_a_missing_sqlite_file_is_refused_not_created(tmp_path, capsys):
    missing = tmp_path / "typo.db"

    for argv in (["events"], ["export", EVENT], ["backup", str(tmp_path / "b.db")]):
        status, _, err = run(capsys, *argv, "--database", f"sqlite:///{missing}")
        assert status == 2
        assert err.startswith(f"error: {missing}: no database there") and err.count("\n") == 1
    assert not missing.exists()


# --- events ----------------------------------------------------------------------------------


def test_events_lists_codes_counts_and_titles_from_the_apps_database(
    clinic, small_event, database_url, monkeypatch, capsys
):
    P.submit_challenge(clinic, EVENT, CHALLENGE, ["en"])
    withdrawn = P.submit_challenge(clinic, EVENT, "How do we keep volunteers after a photo contest?", ["en"])
    P.withdraw_challenge(clinic, withdrawn.ticket)
    monkeypatch.setenv(DATABASE_URL_VARIABLE, database_url)  # no --database: the app's URL

    status, out, err = run(capsys, "events")

    assert (status, err) == (0, "")
    title = clinic.event(EVENT)["title"]
    assert out.splitlines() == [
        f"wmcon2018     1 challenge (1 withdrawn)  {title}",
        "small         0 challenges  Small clinic",
    ]


# --- backup ----------------------------------------------------------------------------------


@sqlite_only
def test_backup_copies_what_is_committed_while_a_writer_holds_its_transaction(clinic, database_url, tmp_path, capsys):
    for text in (CHALLENGE, "Comment trouver un mécène pour un concours photo ?", "How to pitch to radio?"):
        P.submit_challenge(clinic, EVENT, text, ["en", "fr"])
    source = sqlite_file(database_url)
    committed = count_challenges(source)
    assert committed == 3
    writer = sqlite3.connect(source, isolation_level=None, timeout=1)
    writer.execute("BEGIN IMMEDIATE")  # the write lock, held as the app holds it while seating someone
    writer.execute("DELETE FROM challenges")
    backup = tmp_path / "backup.db"
    try:
        status, out, err = run(capsys, "backup", str(backup), "--database", database_url)
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert (status, err) == (0, "")
    assert out.startswith(f"{backup}  ") and "bytes" in out
    assert count_challenges(backup) == committed
    assert not list(tmp_path.glob(".backup.db*"))  # no partial copy left beside it
    copy = Clinic.open(f"sqlite:///{backup}", load_demo=False)  # the app opens it as it is
    assert copy.event(EVENT)["title"] == clinic.event(EVENT)["title"]
    copy.engine.dispose()


@sqlite_only
def test_backup_refuses_to_overwrite_a_file_unless_forced(clinic, database_url, tmp_path, capsys):
    backup = tmp_path / "backup.db"
    backup.write_bytes(b"yesterday's backup")

    status, out, err = run(capsys, "backup", str(backup), "--database", database_url)
    assert status == 2
    assert (out, err) == ("", f"error: {backup}: the file exists; add --force to replace it.\n")
    assert backup.read_bytes() == b"yesterday's backup"

    status, _, err = run(capsys, "backup", str(backup), "--force", "--database", database_url)
    assert (status, err) == (0, "")
    assert count_challenges(backup) == 0


@sqlite_only
def test_backup_never_writes_over_the_database_itself(clinic, database_url, capsys):
    source = sqlite_file(database_url)
    before = source.stat().st_size

    status, _, err = run(capsys, "backup", str(source), "--force", "--database", database_url)

    assert status == 2
    assert "the database itself" in err
    assert source.stat().st_size == before


def test_backup_of_postgresql_gives_the_pg_dump_command_without_the_password(tmp_path, capsys):
    url = "postgresql+psycopg://clinic:s3cret-Pa55@db.invalid:5432/peerclinic?sslmode=require"

    status, out, err = run(capsys, "backup", str(tmp_path / "day 1.dump"), "--database", url)

    assert status == 2  # at once: no connection is tried (db.invalid does not resolve)
    assert out == ""
    assert err.count("\n") == 1
    assert (
        f"pg_dump -Fc -f '{tmp_path / 'day 1.dump'}' 'postgresql://clinic@db.invalid:5432/peerclinic?sslmode=require'"
        in err
    )
    assert "s3cret" not in err and "Pa55" not in err


def test_python_dash_m_clinic_runs_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "clinic", "backup", str(tmp_path / "b.dump"), "--database", "postgresql://u:pw@h/db"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: back up PostgreSQL with pg_dump: pg_dump -Fc -f ")
    assert ":pw@" not in result.stderr
