"""`python -m matching assign`: route a CSV of challenges and seat them all at once."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from matching.cli import ASSIGN_COLUMNS, main

ROOT = Path(__file__).resolve().parents[2]

ROUND = (
    "id,text,languages,locked_table\n"
    "a,How do we find sponsors for our grant application?,en,\n"
    'b,"Comment signer une convention (MOU) avec la mairie ?",fr;en,5\n'
    "c,كيف نتعاون مع الفروع في الدول المجاورة؟,ar,\n"
    "d,Wie finden wir Partner für unser Projekt?,de,\n"
)


def assign(tmp_path, content: str, *args: str, capsys) -> tuple[int, list[dict[str, str]], str]:
    source = tmp_path / "round.csv"
    source.write_text(content, encoding="utf-8")
    status = main(["assign", str(source), *args])
    captured = capsys.readouterr()
    return status, list(csv.DictReader(io.StringIO(captured.out))), captured.err


def test_assign_prints_the_contract_columns_and_seats_everyone_it_can(tmp_path, capsys):
    status, rows, _ = assign(tmp_path, ROUND, capsys=capsys)
    assert status == 0
    assert tuple(rows[0]) == ASSIGN_COLUMNS
    assert [row["id"] for row in rows] == ["a", "b", "c", "d"]
    a, b, c, d = rows
    assert (a["table"], a["language"]) == ("1", "en")  # grants
    assert b["table"] == "5" and b["language"] == "fr"  # locked there, and the host speaks French
    assert c["language"] == "ar" and c["expert"]
    for row in (a, b, c):
        assert 0 < float(row["fit"]) <= 1.05 and row["triage_reason"] == ""
        tables = row["alternates"].split(";")
        assert 1 <= len(tables) <= 3 and row["table"] not in tables
    assert (d["table"], d["fit"], d["triage_reason"]) == ("", "", "No expert present speaks de.")


def test_a_shortage_is_explained_on_stderr(tmp_path, capsys):
    """The demo has three Hebrew-speaking experts (tables 4, 5, 8); 20 Hebrew speakers can't all sit."""
    content = "id,text,languages\n" + "".join(f"h{i},איך מוצאים שותפים לפרויקט,he\n" for i in range(20))
    status, rows, err = assign(tmp_path, content, capsys=capsys)
    assert status == 0
    waiting = [row for row in rows if not row["table"]]
    assert len(waiting) == 20 - 18  # three experts, six each
    assert all("speaks Hebrew" in row["triage_reason"] for row in waiting)
    (note,) = err.strip().splitlines()
    assert note.startswith("note: 20 Hebrew speakers, 18 Hebrew-speaking seats left: add a Hebrew-speaking expert")


def test_sat_at_and_fair_and_out(tmp_path, capsys):
    content = "id,text,languages,sat_at\na,How do we find sponsors for our grant application?,en,1\n"
    out = tmp_path / "out.csv"
    status, rows, _ = assign(tmp_path, content, "--fair", "--out", str(out), capsys=capsys)
    assert status == 0 and rows == []
    (row,) = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    assert row["table"] not in ("", "1") and "1" not in row["alternates"].split(";")


@pytest.mark.parametrize(
    "content, message",
    [
        ("id,text,locked_table\na,We need a grant,x\n", "challenge 'a': locked_table 'x' is not a table number."),
        (
            "id,text,locked_table\na,We need a grant,99\n",
            "challenge 'a': locked_table 99 is not a table of the catalog",
        ),
        ("id,text,locked_table\na,We need a grant,1;2\n", "locked_table names 2 tables; give one."),
        ("id,text,sat_at\na,We need a grant,3;x\n", "challenge 'a': sat_at 'x' is not a table number."),
        ("id,text\na,We need a grant\na,And a contract\n", "id 'a' is used twice"),
        ("id,body\n1,hello\n", "line 1: missing column(s) text"),
        ("", "the file is empty"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(tmp_path, capsys, content, message):
    source = tmp_path / "bad.csv"
    source.write_text(content, encoding="utf-8")
    assert main(["assign", str(source)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and error.startswith("error: ") and message in error


def test_python_dash_m_matching_assign_from_stdin():
    result = subprocess.run(
        [sys.executable, "-m", "matching", "assign", "-"],
        cwd=ROOT,
        input=ROUND.encode(),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode())))
    assert [row["table"] for row in rows][1] == "5"
    help_text = subprocess.run(
        [sys.executable, "-m", "matching", "--help"], cwd=ROOT, capture_output=True, timeout=60
    ).stdout
    assert b"assign" in help_text
