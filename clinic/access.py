"""Who may open the staff screens: passcodes per role, checked in constant time, failures slowed down.

Participants need no passcode. Facilitators and organizers type one. Each role's passcode comes
from, in order: the environment (PEER_CLINIC_<ROLE>_PASSCODE), the mapping the app passes in
(Streamlit secrets `<role>_passcode`), else one generated on first start and kept in the database's
`meta` table, so every server process on that database accepts the same one. As Jupyter prints its
token, the app prints where each passcode comes from, and a generated one in full, when it starts.

Wrong passcodes are slowed down per client address, counted from the audit log, so a reload, a new
tab or another server process does not start the count over.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from store import meta as meta_store
from store.catalog import now
from store.challenges import failures_since_success, lock_audit_target, record_audit
from store.engine import in_transaction

ROLE_FACILITATOR = "facilitator"
ROLE_ORGANIZER = "organizer"
# Weakest first: a role may do everything the roles before it may.
ROLES = (ROLE_FACILITATOR, ROLE_ORGANIZER)

ACTION_LOGIN = "login"
ACTION_LOGIN_FAILED = "login_failed"
ACTION_LOGOUT = "logout"

SOURCE_ENVIRONMENT = "environment"
SOURCE_SECRETS = "secrets"
SOURCE_GENERATED = "generated"

# Generated passcodes: 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown
# as XXXXX-XXXXX: 31^10 ≈ 8·10^14 codes (about 50 bits), easy to read off a terminal and type.
PASSCODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PASSCODE_LENGTH = 10

# Five wrong passcodes are typos; from then on each attempt waits 2, 4, 8, ... up to 60 seconds.
FREE_FAILURES = 5
FIRST_DELAY_SECONDS = 2.0
MAX_DELAY_SECONDS = 60.0
# Failures older than this are forgotten. A script paced at the 60 s cap still has about 15 in the
# window, so its waits stay at the cap; a facilitator's typos of a quarter of an hour ago no longer count.
THROTTLE_WINDOW = timedelta(minutes=15)
# The throttle's key when Streamlit cannot tell the browser's address (AppTest, localhost, some proxies).
UNKNOWN_CLIENT = "unknown"

# Dashes and spaces people type, or phones substitute, between the groups of a passcode.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")


def environment_variable(role: str) -> str:
    return f"PEER_CLINIC_{role.upper()}_PASSCODE"


def secrets_key(role: str) -> str:
    return f"{role}_passcode"


def meta_key(role: str) -> str:
    return f"passcode_{role}"


def client_key(address: object) -> str:
    """Whose wrong passcodes the throttle counts together: the browser's address, else UNKNOWN_CLIENT
    (Streamlit gives None on localhost, and AppTest a stand-in object rather than an address)."""
    return (address.strip() if isinstance(address, str) else "") or UNKNOWN_CLIENT


def audit_target(client: str) -> str:
    """The audit log's `target` of a client's sign-ins: what the throttle looks them up by."""
    return f"client:{client}"


def wait_after_failures(failures: int) -> float:
    """Seconds the next attempt waits after `failures` wrong passcodes in a row: none while they may
    be typos (fewer than FREE_FAILURES), then 2, 4, 8, ... up to MAX_DELAY_SECONDS."""
    extra = failures - FREE_FAILURES
    if extra < 0:
        return 0.0
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** min(extra, 32))


def may_act_as(held: str | None, required: str) -> bool:
    """Whether someone signed in as `held` may open a screen that needs `required`."""
    if held not in ROLES or required not in ROLES:
        return False
    return ROLES.index(held) >= ROLES.index(required)


def normalize_passcode(code: str) -> str:
    """A passcode as compared: any case, with or without the dash (or spaces) between groups."""
    return _SEPARATORS.sub("", code or "").upper()


def new_passcode() -> str:
    code = "".join(secrets.choice(PASSCODE_ALPHABET) for _ in range(PASSCODE_LENGTH))
    half = PASSCODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def passcode_matches(attempt: str, expected: str) -> bool:
    """Constant-time comparison of normalised passcodes; an empty passcode never matches."""
    typed, wanted = normalize_passcode(attempt), normalize_passcode(expected)
    same = hmac.compare_digest(typed.encode("utf-8"), wanted.encode("utf-8"))
    return same and bool(wanted)


@dataclass(frozen=True)
class Passcode:
    """A role's passcode and where it came from (to say so at start, without printing a chosen one)."""

    role: str
    code: str
    source: str  # SOURCE_ENVIRONMENT | SOURCE_SECRETS | SOURCE_GENERATED

    def announcement(self) -> str:
        """The line printed at start. A passcode someone chose is not printed; a generated one is."""
        if self.source == SOURCE_ENVIRONMENT:
            return f"Peer Clinic {self.role} passcode: set by {environment_variable(self.role)}"
        if self.source == SOURCE_SECRETS:
            return f"Peer Clinic {self.role} passcode: set by {secrets_key(self.role)} in .streamlit/secrets.toml"
        return (
            f"Peer Clinic {self.role} passcode: {self.code}  (set {environment_variable(self.role)} to choose your own)"
        )


def _configured(role: str, configured: Mapping[str, object] | None) -> Passcode | None:
    """The passcode chosen in the environment or the secrets, if any (a blank one counts as none)."""
    from_environment = os.environ.get(environment_variable(role), "")
    if normalize_passcode(from_environment):
        return Passcode(role, from_environment.strip(), SOURCE_ENVIRONMENT)
    from_secrets = str((configured or {}).get(secrets_key(role)) or "")
    if normalize_passcode(from_secrets):
        return Passcode(role, from_secrets.strip(), SOURCE_SECRETS)
    return None


def _passcode(connection: Connection, role: str, configured: Mapping[str, object] | None) -> Passcode:
    chosen = _configured(role, configured)
    if chosen is not None:
        return chosen
    code = meta_store.read_value(connection, meta_key(role)) or meta_store.add_value_once(
        connection, meta_key(role), new_passcode()
    )
    return Passcode(role, code, SOURCE_GENERATED)


def passcode(engine: Engine, role: str, configured: Mapping[str, object] | None = None) -> Passcode:
    """The passcode that opens `role`'s screens now (generated and stored on first need)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    chosen = _configured(role, configured)
    if chosen is not None:
        return chosen
    return in_transaction(engine, lambda connection: _passcode(connection, role, configured))


def ensure_passcodes(
    engine: Engine,
    configured: Mapping[str, object] | None = None,
    announce: Callable[[str], None] | None = None,
) -> dict[str, Passcode]:
    """Make sure every role has a passcode and say where each comes from (once per process, at start).

    `announce` receives each line (default: printed to stdout, as Jupyter prints its token). The
    lines never name the database: its URL may hold a password.
    """
    announce = announce or (lambda line: print(line, flush=True))
    passcodes = {role: passcode(engine, role, configured) for role in ROLES}
    for code in passcodes.values():
        announce(code.announcement())
    if normalize_passcode(passcodes[ROLE_FACILITATOR].code) == normalize_passcode(passcodes[ROLE_ORGANIZER].code):
        announce(
            "Peer Clinic warning: the facilitator and organizer passcodes are the same; both open organizer screens."
        )
    return passcodes


@dataclass(frozen=True)
class SignInOutcome:
    """What one typed passcode came to, for the passcode form to say."""

    role: str | None  # the role it opened, or None
    checked: bool  # False: it came while the client still had to wait, and was not compared at all
    wait: float  # seconds before this client's next attempt is checked (0.0: at once)


def _seconds_to_wait(connection: Connection, target: str, at: datetime) -> float:
    failures, latest = failures_since_success(
        connection, target, ACTION_LOGIN_FAILED, ACTION_LOGIN, since=at - THROTTLE_WINDOW
    )
    if latest is None:
        return 0.0
    wait = wait_after_failures(failures)
    # Never longer than the policy says, even when another server's clock runs ahead of this one.
    return min(wait, max(0.0, wait - (at - latest).total_seconds()))


def attempt_sign_in(
    engine: Engine,
    required: str,
    attempt: str,
    configured: Mapping[str, object] | None = None,
    client: str = UNKNOWN_CLIENT,
) -> SignInOutcome:
    """Check `attempt` for a screen that needs `required`, unless `client` must still wait after its
    wrong passcodes; a checked attempt is audited with the client's key, never with what was typed.

    Every role that may act as `required` is tried (the strongest wins, so an organizer typing
    their passcode at the board is signed in as organizer). The wait is worked out from the audit
    log: the client's wrong passcodes since its last sign-in, within THROTTLE_WINDOW, counted from
    the last one's time.
    """
    if required not in ROLES:
        raise ValueError(f"unknown role {required!r}; roles are {', '.join(ROLES)}")
    candidates = [role for role in ROLES if may_act_as(role, required)]
    target = audit_target(client)

    def check(connection: Connection) -> SignInOutcome:
        lock_audit_target(connection, target)  # two attempts at once from one client take turns
        wait = _seconds_to_wait(connection, target, now())
        if wait > 0:
            return SignInOutcome(None, checked=False, wait=wait)
        # Compare against every candidate (no early exit), so timing does not tell which one matched.
        matches = [
            role for role in candidates if passcode_matches(attempt, _passcode(connection, role, configured).code)
        ]
        granted = matches[-1] if matches else None
        if granted:
            record_audit(connection, None, granted, ACTION_LOGIN, target)
            return SignInOutcome(granted, checked=True, wait=0.0)
        record_audit(connection, None, required, ACTION_LOGIN_FAILED, target)
        return SignInOutcome(None, checked=True, wait=_seconds_to_wait(connection, target, now()))

    return in_transaction(engine, check)


def sign_out(engine: Engine, role: str) -> None:
    """Record that `role` signed out of this browser session (the session forgets the role itself)."""
    in_transaction(engine, lambda connection: record_audit(connection, None, role, ACTION_LOGOUT))
