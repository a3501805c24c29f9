"""`python -m clinic`: the server operator's commands for the day of the event, no browser needed:
list the events, export one (the files of the organizer console's "Documentation & data" tab),
back up the database while the app runs."""

from __future__ import annotations

import argparse
import os
import shlex
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from clinic import documentation
from clinic.errors import Rejected
from clinic.setup import Clinic
from store import catalog as catalog_store
from store import event_data
from store.challenges import STATUS_WITHDRAWN
from store.engine import DATABASE_URL_VARIABLE, DEFAULT_DATABASE_URL, SchemaMismatch, database_url, safe_url

# Who the audit log says took an export from this command line. Not a sign-in role (it is not in
# `access.ROLES`, so `may_act_as` grants it nothing); whoever runs it already holds the database.
ROLE_COMMAND_LINE = "command_line"
DEFAULT_EXPORT_FOLDER = "exports"


class InputError(Exception):
    """A problem with what the operator asked for, said in one line."""


def _database_url(args: argparse.Namespace) -> URL:
    """The database the app uses (or the one --database names)."""
    try:
        return make_url(args.database or database_url())
    except ArgumentError:
        given = "--database" if args.database else f"${DATABASE_URL_VARIABLE}"
        raise InputError(
            f"{given} is not a database URL (like {DEFAULT_DATABASE_URL} or postgresql://user@host/db)."
        ) from None


def _sqlite_file(url: URL) -> Path:
    """The SQLite file a URL names, which must exist: a command never creates an empty database."""
    if url.database in (None, "", ":memory:"):
        raise InputError(f"{url}: an in-memory database exists only inside the process that made it.")
    path = Path(url.database)
    if not path.is_file():
        raise InputError(
            f"{path}: no database there; the app creates it on first start "
            f"(set {DATABASE_URL_VARIABLE} or --database to name another)."
        )
    return path


def _open_clinic(args: argparse.Namespace) -> Clinic:
    """The clinic on the app's database, as it is: the demo clinic is never loaded into it."""
    url = _database_url(args)
    if url.get_backend_name() == "sqlite":
        _sqlite_file(url)
    try:
        return Clinic.open(url.render_as_string(hide_password=False), load_demo=False)
    except SchemaMismatch as error:
        raise InputError(str(error)) from None
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        if url.password:
            reason = reason.replace(str(url.password), "***")
        raise InputError(f"cannot open the database {safe_url(str(url))}: {reason}") from None


def _require_event(clinic: Clinic, code: str) -> dict:
    try:
        return clinic.require_event(code)
    except Rejected:
        with clinic.engine.connect() as connection:
            known = [event["code"] for event in catalog_store.list_events(connection)]
        raise InputError(f"no event '{code}'; the events are: {', '.join(known) or 'none'}.") from None


def events_command(args: argparse.Namespace) -> int:
    """One line per event: its code, how many challenges it holds (withdrawn ones apart) and its title."""
    clinic = _open_clinic(args)
    try:
        with clinic.engine.connect() as connection:
            events = catalog_store.list_events(connection)
            statuses = {}
            for event in events:
                rows = event_data.rows_of_event(connection, event["id"], ["challenges"])["challenges"]
                statuses[event["id"]] = [row["status"] for row in rows]
    finally:
        clinic.engine.dispose()
    if not events:
        print(f"No events in {safe_url(args.database or database_url())}.")
    width = max((len(event["code"]) for event in events), default=0)
    for event in events:
        withdrawn = statuses[event["id"]].count(STATUS_WITHDRAWN)
        count = len(statuses[event["id"]]) - withdrawn
        challenges = f"{count:>4} challenge{'' if count == 1 else 's'}"
        if withdrawn:
            challenges += f" ({withdrawn} withdrawn)"
        print(f"{event['code']:<{width}}  {challenges}  {event['title']}")
    return 0


def export_command(args: argparse.Namespace) -> int:
    """Write the event's documentation and data, each file stamped with the same UTC time."""
    folder = Path(args.out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{folder}: cannot make the folder ({error.strerror}).") from None
    clinic = _open_clinic(args)
    try:
        code = _require_event(clinic, args.event)["code"]
        sheets = documentation.event_sheets(clinic, code)
        doc = documentation.documentation(clinic, code)
        files = {
            documentation.FILE_WIKITEXT: documentation.to_wikitext(doc).encode("utf-8"),
            documentation.FILE_MARKDOWN: documentation.to_markdown(doc).encode("utf-8"),
            documentation.FILE_CSV: documentation.to_csv(sheets),
            documentation.FILE_XLSX: documentation.to_xlsx(sheets),
            # Last, and audited: the export carries participants' personal data.
            documentation.FILE_EVERYTHING: documentation.export_event(clinic, code, role=ROLE_COMMAND_LINE),
        }
    finally:
        clinic.engine.dispose()
    at = datetime.now(UTC)
    try:
        for part, content in files.items():
            path = folder / documentation.export_file_name(code, part, at)
            path.write_bytes(content)
            print(f"{path}  {len(content):,} bytes")
    except OSError as error:
        raise InputError(f"{error.filename or folder}: cannot write the file ({error.strerror}).") from None
    return 0


def pg_dump_command(url: URL, file: str) -> str:
    """The pg_dump command line that backs up the database at `url` into `file`, without the password
    (pg_dump asks for it, or reads PGPASSWORD or ~/.pgpass)."""
    # URL.set() keeps a field given as None: the URL is rebuilt without the password instead.
    plain = URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=url.query
    )
    return f"pg_dump -Fc -f {shlex.quote(file)} {shlex.quote(plain.render_as_string(hide_password=False))}"


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy the SQLite database at `source` into `target` in one read transaction: a consistent
    snapshot of what was committed, taken while the app goes on reading and writing (WAL mode).

    The copy is written beside `target` and moved into place once whole and checked, so an
    interrupted backup never leaves a half file under the name; it is a single file (journal mode
    DELETE), which the app turns back to WAL when it opens it.
    """
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=15)
        copy = sqlite3.connect(partial)
        try:
            reader.backup(copy)  # all pages in one step, under one read transaction
            copy.execute("PRAGMA journal_mode=DELETE")
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
        finally:
            copy.close()
            reader.close()
        if check != "ok":
            raise InputError(f"{source}: the copy does not pass SQLite's check ({check}).")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def backup_command(args: argparse.Namespace) -> int:
    url = _database_url(args)
    backend = url.get_backend_name()
    if backend == "postgresql":  # decided before connecting: pg_dump is the tool for a live server
        password = " (it asks for the password, or reads PGPASSWORD or ~/.pgpass)" if url.password else ""
        raise InputError(f"back up PostgreSQL with pg_dump: {pg_dump_command(url, args.file)}{password}")
    if backend != "sqlite":
        raise InputError(f"{safe_url(str(url))}: only SQLite and PostgreSQL databases can be backed up.")
    source, target = _sqlite_file(url), Path(args.file)
    if target.exists() and not args.force:
        raise InputError(f"{target}: the file exists; add --force to replace it.")
    if target.exists() and target.resolve() == source.resolve():
        raise InputError(f"{target}: this is the database itself; name another file.")
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder.")
    try:
        backup_sqlite(source, target)
    except sqlite3.Error as error:
        raise InputError(f"{source}: cannot copy the database ({error}).") from None
    except OSError as error:
        raise InputError(f"{target}: cannot write the backup ({error.strerror}).") from None
    print(f"{target}  {target.stat().st_size:,} bytes  (a consistent copy of {source})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clinic", description=__doc__)
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--database",
        metavar="URL",
        help=f"the database (default: ${DATABASE_URL_VARIABLE}, else {DEFAULT_DATABASE_URL}, as the app)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    events = commands.add_parser("events", parents=[database], help="list the events: code, challenges, title")
    events.set_defaults(run=events_command)
    export = commands.add_parser(
        "export",
        parents=[database],
        help="write an event's documentation (wikitext, Markdown), data (CSV zip, Excel) and everything (JSON)",
    )
    export.add_argument("event", help="the event's code (see `events`)")
    export.add_argument("--out", default=DEFAULT_EXPORT_FOLDER, help="folder to write into (default: exports/)")
    export.set_defaults(run=export_command)
    backup = commands.add_parser(
        "backup", parents=[database], help="copy the SQLite database while the app runs (PostgreSQL: use pg_dump)"
    )
    backup.add_argument("file", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace the file if it exists")
    backup.set_defaults(run=backup_command)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
