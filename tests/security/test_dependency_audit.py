"""Known vulnerabilities in the pinned runtime requirements (and what they pull in), by pip-audit.

pip-audit resolves requirements.txt and asks PyPI's vulnerability data about each package's exact
version. Where that per-version service cannot be reached (a sandbox that reaches only the
package index, as here), the audit falls back to what PyPI's project pages still say: each
project's page lists the known vulnerabilities of its *latest* release, so every package pinned at
its latest release is audited for real, and the others are named as not audited. The test skips
only if nothing at all could be audited, instead of passing as if the audit had run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPI_PROJECT = "https://pypi.org/pypi/{name}/json"
# Vulnerability ids judged not to apply, each with the reason (none so far).
IGNORED: dict[str, str] = {}
_SKIPPED_VERSION = re.compile(r"\(([^()\s]+)\)\s*$")


def run_pip_audit() -> list[dict]:
    """pip-audit's report on requirements.txt: one entry per resolved package."""
    pytest.importorskip("pip_audit", reason="pip-audit is in requirements-dev.txt")
    command = [
        sys.executable, "-m", "pip_audit", "-r", str(ROOT / "requirements.txt"),
        "--format", "json", "--progress-spinner", "off",
        *(argument for vulnerability in IGNORED for argument in ("--ignore-vuln", vulnerability)),
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.skip("pip-audit did not finish in 10 minutes (no network to PyPI?)")
    try:
        return json.loads(result.stdout)["dependencies"]
    except (json.JSONDecodeError, KeyError):
        pytest.skip(f"pip-audit could not run here (exit {result.returncode}): {result.stderr.strip()[-500:]}")


def latest_release_vulnerabilities(name: str) -> tuple[str, list[str], str] | None:
    """(latest version, ids of its known vulnerabilities, the Python it requires) from PyPI's
    project page; None if unreachable."""
    try:
        with urllib.request.urlopen(PYPI_PROJECT.format(name=name), timeout=20) as response:
            project = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    ids = [v["id"] for v in project.get("vulnerabilities") or [] if v["id"] not in IGNORED]
    return project["info"]["version"], ids, project["info"].get("requires_python") or ""


def test_pinned_requirements_have_no_known_vulnerabilities():
    dependencies = run_pip_audit()
    found = {f"{d['name']} {d['version']}": [v["id"] for v in d["vulns"]] for d in dependencies if d.get("vulns")}
    audited = [d["name"] for d in dependencies if "skip_reason" not in d]
    not_audited = []
    for skipped in (d for d in dependencies if "skip_reason" in d):
        version = _SKIPPED_VERSION.search(skipped["skip_reason"])
        latest = latest_release_vulnerabilities(skipped["name"]) if version else None
        if latest is None or latest[0] != version.group(1):
            needs = f", which needs Python {latest[2]}" if latest and latest[2] else ""
            behind = f" (latest {latest[0]}{needs})" if latest else ""
            not_audited.append(f"{skipped['name']} {version.group(1) if version else '?'}{behind}")
            continue
        audited.append(skipped["name"])
        if latest[1]:
            found[f"{skipped['name']} {latest[0]}"] = latest[1]

    print(f"dependency audit: {len(audited)} of {len(dependencies)} packages audited; "
          f"not audited: {', '.join(not_audited) or 'none'}")  # fmt: skip
    assert found == {}, f"known vulnerabilities (upgrade the pin, or add to IGNORED with a reason): {found}"
    if not audited:
        pytest.skip(f"no vulnerability data could be reached for any of {len(dependencies)} packages")
