"""`python -m matching`: route or assign a CSV of challenges, or measure routing quality, from the shell."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from matching.catalog import Catalog, Example, load_catalog
from matching.router import Occupancy, Router

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "data" / "demo"
ROUTE_COLUMNS = (
    "id", "topic", "topic_score", "confidence", "alternatives", "language", "expert", "table",
    "detected_language", "triage_reason", "terms",
)  # fmt: skip
ASSIGN_COLUMNS = ("id", "table", "expert", "language", "fit", "alternates", "triage_reason")


class InputError(Exception):
    """A problem with the input file, said in one line."""


def read_rows(path: str, required: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file ('-' for standard input), checked for the columns needed."""
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read the file ({error.strerror}).") from error
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: not UTF-8 text (byte {error.start}); save the file as UTF-8.") from None
    if not text.strip():
        raise InputError(f"{path}: the file is empty; it needs a header row with {', '.join(required)}.")
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(
            f"{path}: line 1: missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}."
        )
    rows = []
    try:
        for row in reader:
            if None in row:
                raise InputError(f"{path}: line {reader.line_num}: more fields than columns in the header.")
            rows.append({(key or "").strip(): (value or "") for key, value in row.items()})
    except csv.Error as error:
        raise InputError(f"{path}: line {reader.line_num}: {error}.") from None
    if not rows:
        raise InputError(f"{path}: no challenges below the header row.")
    return rows


def _catalog(folder: str | None) -> Catalog:
    try:
        return load_catalog(folder or DEMO_CATALOG)
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise InputError(f"{folder}: not a readable catalog folder ({error}).") from None


def route_command(args: argparse.Namespace) -> int:
    rows = read_rows(args.file, ("id", "text"))
    router = Router().fit(_catalog(args.catalog))
    languages = [[c.strip() for c in row.get("languages", "").split(";") if c.strip()] or None for row in rows]
    texts = [row["text"] for row in rows]
    if args.fill:
        routes = router.route(texts, languages, Occupancy())
    else:  # each as if it came first: the route a challenge gets on its own
        routes = [router.seat(route, Occupancy()) for route in router.read(texts, languages)]
    lines = [
        [
            row["id"],
            route.topic,
            f"{route.topic_score:.4f}",
            route.confidence,
            ";".join(topic for topic, _ in route.alternatives),
            route.language or "",
            route.expert or "",
            route.table if route.table is not None else "",
            route.detected_language or "",
            route.triage_reason or "",
            ";".join(route.terms),
        ]  # fmt: skip
        for row, route in zip(rows, routes, strict=True)
    ]
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows([ROUTE_COLUMNS, *lines])
    else:
        csv.writer(sys.stdout).writerows([ROUTE_COLUMNS, *lines])
    return 0


def _tables(row: dict[str, str], column: str, known: set[int]) -> list[int]:
    """Table numbers in a cell like '3;5', checked against the catalog."""
    numbers = []
    for part in (p.strip() for p in row.get(column, "").split(";")):
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise InputError(f"challenge '{row['id']}': {column} '{part}' is not a table number.")
        if int(part) not in known:
            tables = ", ".join(str(n) for n in sorted(known)) or "none"
            raise InputError(f"challenge '{row['id']}': {column} {part} is not a table of the catalog ({tables}).")
        numbers.append(int(part))
    return numbers


def assign_command(args: argparse.Namespace) -> int:
    """Route every challenge (topic probabilities, languages), then seat them all at once."""
    from matching.assignment import Assigner, AssignmentProblem, Challenge

    rows = read_rows(args.file, ("id", "text"))
    repeated = sorted({row["id"] for row in rows if [r["id"] for r in rows].count(row["id"]) > 1})
    if repeated:
        raise InputError(f"{args.file}: id '{repeated[0]}' is used twice; every challenge needs its own id.")
    catalog = _catalog(args.catalog)
    known = {table.number for table in catalog.tables}
    kept = {}
    for row in rows:
        locked = _tables(row, "locked_table", known)
        if len(locked) > 1:
            raise InputError(f"challenge '{row['id']}': locked_table names {len(locked)} tables; give one.")
        if locked:
            kept[row["id"]] = (locked[0], None)
    sat_at = [_tables(row, "sat_at", known) for row in rows]
    router = Router().fit(catalog)
    languages = [[c.strip() for c in row.get("languages", "").split(";") if c.strip()] or None for row in rows]
    texts = [row["text"] for row in rows]
    routes = router.read(texts, languages)
    probabilities = router.classifier_.predict_proba(texts)
    topics = [str(topic) for topic in router.classifier_.topics_]
    challenges = tuple(
        Challenge(
            id=row["id"],
            languages=route.spoken,
            # A text with no word to read has no topic: any table with a shared language will do.
            topics=dict(zip(topics, map(float, p), strict=True)) if route.topic_score > 0 else {},
            sat_at=frozenset(tables),
        )
        for row, route, p, tables in zip(rows, routes, probabilities, sat_at, strict=True)
    )
    assignment = Assigner(fair=args.fair).assign(AssignmentProblem(challenges, catalog, kept))
    lines = [
        [
            p.challenge,
            p.table if p.table is not None else "",
            p.expert or "",
            p.language or "",
            f"{p.fit:.4f}" if p.seated else "",
            ";".join(str(a.table) for a in p.alternates),
            p.reason,
        ]
        for p in assignment.placements
    ]
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows([ASSIGN_COLUMNS, *lines])
    else:
        csv.writer(sys.stdout).writerows([ASSIGN_COLUMNS, *lines])
    for diagnosis in assignment.diagnoses:
        print(f"note: {diagnosis}", file=sys.stderr)
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    from matching.classifier import TopicClassifier
    from matching.evaluate import BASELINES, cross_validated_probabilities, format_comparison, format_report, report

    catalog = _catalog(args.catalog)
    if args.file:
        rows = [row for path in args.file for row in read_rows(path, ("text", "topic"))]
        known = {topic.id for topic in catalog.topics}
        unknown = sorted({row["topic"] for row in rows} - known)
        if unknown:
            raise InputError(f"topics not in the catalog: {', '.join(unknown)}")
        examples = [Example(row["text"], row["topic"], row.get("language") or None, row.get("id", "")) for row in rows]
        texts = [example.text for example in examples]
        contenders = {"Peer Clinic router": TopicClassifier, **BASELINES}
        summary = []
        for name, make in contenders.items():
            model = make().fit(catalog)
            result = report(model.predict_proba(texts), model.topics_, examples)
            summary.append((name, result))
            if name == "Peer Clinic router" or args.verbose:
                print(format_report(f"{name} on {', '.join(args.file)}", result), end="\n\n")
        print(format_comparison(summary))
    else:
        probabilities, topics = cross_validated_probabilities(catalog, folds=args.folds)
        print(
            format_report(
                f"router, {args.folds}-fold cross-validation on the catalog's examples",
                report(probabilities, topics, catalog.examples),
            )
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    route = commands.add_parser("route", help="route the challenges of a CSV file (columns id,text[,languages])")
    route.add_argument("file", help="CSV with columns id,text and optionally languages (like en;fr); - for stdin")
    route.add_argument("--catalog", help="catalog folder (default: the shipped demo clinic)")
    route.add_argument("--out", help="write the CSV here instead of standard output")
    route.add_argument("--fill", action="store_true", help="seat the challenges in order, respecting capacities")
    route.set_defaults(run=route_command)
    assign = commands.add_parser(
        "assign",
        help="route the challenges of a CSV file and seat them all at once, maximising total fit "
        "(columns id,text[,languages][,locked_table][,sat_at])",
    )
    assign.add_argument(
        "file",
        help="CSV with columns id,text and optionally languages (en;fr), locked_table (a seat to keep) "
        "and sat_at (tables already sat at, 3;5); - for stdin",
    )
    assign.add_argument("--catalog", help="catalog folder (default: the shipped demo clinic)")
    assign.add_argument("--fair", action="store_true", help="first raise the worst-off participant's fit")
    assign.add_argument("--out", help="write the CSV here instead of standard output")
    assign.set_defaults(run=assign_command)
    evaluate = commands.add_parser(
        "evaluate",
        help="routing quality on labelled CSV files (columns text,topic[,language]), "
        "or by cross-validation on the catalog's examples when no file is given",
    )
    evaluate.add_argument("file", nargs="*", help="labelled CSV files, e.g. data/dev/*.csv")
    evaluate.add_argument("--catalog", help="catalog folder (default: the shipped demo clinic)")
    evaluate.add_argument("--folds", type=int, default=5)
    evaluate.add_argument("--verbose", action="store_true", help="full reports for the baselines too")
    evaluate.set_defaults(run=evaluate_command)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
