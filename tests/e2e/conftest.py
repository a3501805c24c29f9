"""A real `streamlit run app.py` server and Debian's headless Chromium, driven by Playwright.

Modelled on Streamlit's own e2e_playwright/: a module-scoped server polled on /_stcore/health, and
a wait that trusts the app's own run-state attributes instead of sleeps. The browser is the system
chromium (`apt-get install chromium`); Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"  # screenshots CI keeps (gitignored)
CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 90
# Generous: the first request of a fresh server opens the database, loads the demo clinic and fits
# its router, and CI machines are slow.
STEP_TIMEOUT_MS = 60_000

# The app has finished a run when Streamlit says so (script not running, connected), no skeleton or
# running icon is left, and the page has kept the same elements for 300 ms: the last condition
# covers the gap between a click and the server starting the run it asked for.
APP_IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const busy = app.getAttribute('data-test-script-state') !== 'notRunning'
    || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
    || document.querySelector('[data-testid="stStatusWidgetRunningIcon"], [data-testid="stSkeleton"]');
  const count = document.querySelectorAll('[data-testid]').length;
  const seen = window.__peerClinicIdle || (window.__peerClinicIdle = {count: -1, since: 0});
  const now = performance.now();
  if (busy || count !== seen.count) { seen.count = count; seen.since = now; return false; }
  return now - seen.since >= 300;
}"""


def _wait_for_app_run(page, timeout_ms: int = STEP_TIMEOUT_MS) -> None:
    """Block until the Streamlit app has finished its current run and the page stopped changing."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.evaluate("() => { window.__peerClinicIdle = null; }")
    page.wait_for_function(APP_IDLE_JS, timeout=timeout_ms, polling=50)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def stop(server: subprocess.Popen) -> None:
    """Stop the server and anything it started (it runs in a process group of its own)."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


# The staff passcodes of the test server (set through the environment, as an organizer would).
FACILITATOR_PASSCODE = "e2e-facilitator-7431"
ORGANIZER_PASSCODE = "e2e-organizer-9152"


@pytest.fixture(scope="session")
def passcodes() -> dict[str, str]:
    return {"facilitator": FACILITATOR_PASSCODE, "organizer": ORGANIZER_PASSCODE}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a fresh `streamlit run app.py` on a free port, with its own SQLite file."""
    folder = tmp_path_factory.mktemp("e2e-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PEER_CLINIC_DATABASE_URL": f"sqlite:///{folder / 'clinic.db'}",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "PEER_CLINIC_FACILITATOR_PASSCODE": FACILITATOR_PASSCODE,
        "PEER_CLINIC_ORGANIZER_PASSCODE": ORGANIZER_PASSCODE,
    }
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
    ]  # fmt: skip
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                log = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"`streamlit run app.py` did not become healthy at {url}:\n{log}")
            time.sleep(0.25)
        yield url
    finally:
        stop(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium` (CI does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is in requirements-dev.txt")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, app_url: str):
    """Open the app (optionally at `path`) in a fresh browser context of the given viewport size."""
    contexts = []

    def open_(width: int, height: int, path: str = "/"):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        page.goto(app_url + path, wait_until="domcontentloaded")
        _wait_for_app_run(page)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def wait_for_app_run():
    """`wait_for_app_run(page)`: block until the app finished its run (a fixture: conftest is not importable)."""
    return _wait_for_app_run


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
