import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from matching.cli import ROUTE_COLUMNS, main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "matching", *args], cwd=ROOT, input=stdin, capture_output=True, timeout=120
    )


def test_route_prints_the_contract_columns_for_every_row(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        "id,text,languages\n"
        "a,How do we find sponsors for our grant application?,en\n"
        'b,"Comment signer une convention (MOU) avec la mairie ?",fr;en\n'
        "c,كيف نتعاون مع الفروع في الدول المجاورة؟,ar\n",
        encoding="utf-8",
    )
    result = run_cli("route", str(source))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode())))
    assert tuple(rows[0]) == ROUTE_COLUMNS
    assert [row["id"] for row in rows] == ["a", "b", "c"]
    assert [row["topic"] for row in rows] == ["grants", "formalities", "regional"]
    assert rows[1]["language"] == "fr" and rows[1]["detected_language"] == "fr"
    assert rows[2]["language"] == "ar" and rows[2]["detected_language"] == "ar"
    for row in rows:
        assert 0 <= float(row["topic_score"]) <= 1
        assert len(row["alternatives"].split(";")) == 3


def test_route_writes_to_out_file(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,We need a grant\n", encoding="utf-8")
    assert main(["route", str(source), "--out", str(tmp_path / "out.csv")]) == 0
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").startswith("id,topic,topic_score")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b"id,body\n1,hello\n", "line 1: missing column(s) text"),
        (b"id,text\n1,ok\n2,caf\xe9 latin-1\n", "line 3: not UTF-8 text"),
        (b"id,text\n", "no challenges below the header row"),
        (b'id,text\n1,"unterminated\n', "line"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(tmp_path, content, message):
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    result = run_cli("route", str(source))
    assert result.returncode == 2
    error = result.stderr.decode().strip()
    assert "\n" not in error and message in error and "Traceback" not in error


def test_missing_file_is_a_one_line_error(tmp_path):
    result = run_cli("route", str(tmp_path / "nope.csv"))
    assert result.returncode == 2 and "cannot read the file" in result.stderr.decode()


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0 and b"route" in result.stdout and b"evaluate" in result.stdout
