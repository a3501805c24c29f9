"""The server settings a live clinic relies on (.streamlit/config.toml), checked so that an edit
that weakens one fails here. The running server's answers to forged requests are checked in
tests/e2e/test_security_browser.py."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

from matching.limits import MAX_IMPORT_BYTES

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
MB = 1024 * 1024


def test_xsrf_protection_is_on():
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["server"].get("enableCORS", True) is True  # Streamlit's XSRF check needs CORS on


def test_uploads_are_limited_to_what_an_import_may_be():
    """Streamlit refuses bigger uploads before the app sees them; the importer takes up to
    MAX_IMPORT_BYTES, so the two limits agree (a bigger catalog could not be imported anyway)."""
    assert CONFIG["server"]["maxUploadSize"] == math.ceil(MAX_IMPORT_BYTES / MB) <= 10


def test_browsers_never_see_tracebacks():
    """A traceback can carry a SQL statement with its parameters (a participant's text, a generated
    passcode being stored); with "none" the browser gets a fixed sentence and the terminal the rest."""
    assert CONFIG["client"]["showErrorDetails"] == "none"


def test_no_usage_statistics_leave_the_clinic():
    assert CONFIG["browser"]["gatherUsageStats"] is False


def test_the_staff_pages_are_not_listed_to_participants():
    assert CONFIG["client"]["showSidebarNavigation"] is False


def test_secrets_and_databases_are_never_committed():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".streamlit/secrets.toml" in ignored
    assert {"*.db", "*.db-wal", "*.db-shm"} <= set(ignored)
