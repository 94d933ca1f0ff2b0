"""Bearer tokens for the HTTP API: a name, a role, an optional scope (a holder) and an
optional expiry; and the failed authentications of each address.

A token is shown once, when created; only its SHA-256 is stored, so a copy of the database
does not hand out working tokens. (A token has 256 random bits: a fast hash is enough, there
is nothing to guess.) Tokens live in the ledger's own database, table ``api_tokens``; a
revoked or expired token keeps its row, so the name an event records as its actor always
stays explainable, and a name is never given to a second token.

Failed authentications are counted per address in ``auth_failures``, in the database so that
every server process sees the same count; only a failure writes there.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ledger.domain.errors import InvalidInput
from ledger.domain.values import ROLES as ROLES
from ledger.domain.values import VIETNAM_TIME, check_code, check_text, today_in_vietnam
from ledger.storage.sql import ViewStore

TABLE = "api_tokens"
FAILURES_TABLE = "auth_failures"
# An address whose tokens failed FAILURES_MAX times within FAILURE_WINDOW_S seconds of its
# first failure is refused (429) until that window ends. A token has 256 random bits, so
# this is not what keeps it from being guessed: it keeps a script with a wrong or revoked
# token, or someone probing, from costing a lookup per request without end, and makes the
# address show in the table. Ten is more than any client retrying by hand or by a backoff
# needs; five minutes is short enough for an operator to wait out.
FAILURES_MAX = 10
FAILURE_WINDOW_S = 300
# The people's failed sign-ins (api/people.py) are counted in the same table under keys
# beginning with this, in a longer window of their own: each kind drops only its own rows.
SIGN_IN_KEYS = "sign-in "
TABLES = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, role TEXT NOT NULL,"
    " scope TEXT, token_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,"
    " revoked_at TEXT, expires_at TEXT)",
    f"CREATE TABLE IF NOT EXISTS {FAILURES_TABLE} (address TEXT PRIMARY KEY,"
    " window_start DOUBLE PRECISION NOT NULL, failures INTEGER NOT NULL)",
    # Each failure first drops the ended windows: without it that is a scan of every address.
    f"CREATE INDEX IF NOT EXISTS {FAILURES_TABLE}_window ON {FAILURES_TABLE} (window_start)",
)
TOKEN_PREFIX = "blt_"
NAME_LENGTH_MAX = 100
# The lowest role that may register a holder.
HOLDER_ROLE = "approver"
# The lowest role that may register a program.
PROGRAM_ROLE = "approver"


@functools.cache
def writes(role: str) -> frozenset[str]:
    """What ``role`` may write: the movements (successions included) whose kind names it or
    a lower role, holders (register, move, rename) from HOLDER_ROLE up and programs from
    PROGRAM_ROLE up. Every role reads (within its scope). The movements' kinds are imported
    when a write is checked: a read does not load the domain's classes (decisions §28)."""
    from ledger.domain.movements import RECORDED_KINDS

    rank = ROLES.index(role)
    writes = {action for action, kind in RECORDED_KINDS.items() if ROLES.index(kind.role) <= rank}
    if ROLES.index(HOLDER_ROLE) <= rank:
        writes.add("holder")
    if ROLES.index(PROGRAM_ROLE) <= rank:
        writes.add("program")
    return frozenset(writes)


# Money of these sources comes from the central budget. Adjusting such a line brings money
# into the ledger (or takes it out) on the central government's decision: only a token over
# the whole ledger may record it. A scoped approver adjusts local sources of its subtree.
CENTRAL_SOURCES = frozenset({"NSTW"})


@dataclass(frozen=True)
class Token:
    name: str
    role: str
    scope: str | None
    created_at: str
    revoked_at: str | None = None
    # The moment it stops working (UTC, ISO 8601): midnight in Vietnam after its last day.
    expires_at: str | None = None

    def refusal(self, action: str, source: str | None = None) -> str | None:
        """Why this token may not record ``action`` on a line of ``source`` (None: it may).
        The holders' scope is checked apart, once the request names them."""
        from ledger.domain.movements import KINDS

        if action not in writes(self.role):
            return f"a {self.role} token may not {action}" + (
                "; it only reads" if self.role == "viewer" else ""
            )
        brings_money_in = action in KINDS and KINDS[action].brings_money_in
        if brings_money_in and source in CENTRAL_SOURCES and self.scope is not None:
            return (
                f"adjustments of central funds ({source}) bring money into the whole ledger: "
                f"they need an approver or admin token without a scope, and token "
                f"{self.name!r} is scoped to holder {self.scope}"
            )
        return None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= now

    def last_day(self) -> date | None:
        """The last day (in Vietnam) the token works."""
        if self.expires_at is None:
            return None
        end = datetime.fromisoformat(self.expires_at).astimezone(VIETNAM_TIME)
        return (end - timedelta(microseconds=1)).date()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "scope": self.scope,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "expires_at": self.expires_at,
        }


@dataclass(frozen=True)
class Found:
    """What the lookup of a secret from an address found: the live token (None: unknown or
    revoked; it may have expired) and the address's failures in its current window."""

    token: Token | None
    failures: int
    window_start: float

    def retry_after(self, now: float, failures_max: int, window_s: float) -> int | None:
        """Seconds the address must wait before its tokens are looked at again (None: it
        need not wait)."""
        end = self.window_start + window_s
        if self.failures < failures_max or end <= now:
            return None
        return max(1, math.ceil(end - now))


def expiry(last_day: date) -> str:
    """The moment a token that works through ``last_day`` (in Vietnam) stops: the next
    midnight in Vietnam, as UTC ISO 8601 like every other time in the table."""
    midnight = datetime.combine(last_day + timedelta(days=1), time(), VIETNAM_TIME)
    return midnight.astimezone(UTC).isoformat(timespec="seconds")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_table(store: ViewStore) -> None:
    """Create the token tables if missing, and add ``expires_at`` to an ``api_tokens`` made
    before it existed. Run inside ``store.schema_change()`` (``budget-ledger init`` does; so
    does the first ``TokenStore`` of a database whose tables are not up to date)."""
    for statement in TABLES:
        store.execute(statement)
    if not _has_column(store, TABLE, "expires_at"):
        store.execute(f"ALTER TABLE {TABLE} ADD COLUMN expires_at TEXT")


def tables_ready(store: ViewStore) -> bool:
    """Whether the token tables are there and up to date (only reads)."""
    return _has_column(store, TABLE, "expires_at") and store.table_exists(FAILURES_TABLE)


def _has_column(store: ViewStore, table: str, column: str) -> bool:
    if store.postgres:
        row = store.one(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(?)"
            " AND attname = ? AND NOT attisdropped",
            (table, column),
        )
    else:
        row = store.one("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", (table, column))
    return bool(row and row[0])


def name_taken(store: ViewStore, name: str) -> bool:
    """Whether a token or a person (api/people.py) has or had this name: an event's actor
    names one of them, never two."""
    from api.people import PEOPLE_TABLE  # people build on tokens, not the reverse

    if store.one(f"SELECT 1 FROM {TABLE} WHERE name = ?", (name,)) is not None:
        return True
    return store.table_exists(PEOPLE_TABLE) and bool(
        store.one(f"SELECT 1 FROM {PEOPLE_TABLE} WHERE name = ?", (name,))
    )


class TokenStore:
    """The ``api_tokens`` and ``auth_failures`` tables over a ``ViewStore`` connection."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        if not tables_ready(store):
            # A database made before these tables (or this column) existed: the first user
            # brings them up to date; whoever waited for the lock finds them made.
            with store.schema_change():
                create_table(store)

    def create(
        self, name: str, role: str, scope: str | None, expires: date | None = None
    ) -> tuple[Token, str]:
        """A new token and its secret (shown once); ``expires``: the last day it works, in
        Vietnam (today or later)."""
        text = check_text(name, field="name", length_max=NAME_LENGTH_MAX, required=True)
        assert text is not None
        if role not in ROLES:
            raise InvalidInput(f"must be one of {', '.join(ROLES)}", field="role")
        scope = check_code(scope, field="scope") if scope else None
        today = today_in_vietnam()
        if expires is not None and expires < today:
            raise InvalidInput(
                f"{expires} has passed (today is {today} in Vietnam); give the last day the "
                "token should work, today or later",
                field="expires",
            )
        expires_at = expiry(expires) if expires is not None else None
        if name_taken(self.store, text):
            raise InvalidInput(
                f"a token or person named {text!r} exists or existed; names are never reused "
                "(the events recorded under it carry it), choose another",
                field="name",
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.store.execute(
            f"INSERT INTO {TABLE} (name, role, scope, token_sha256, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (text, role, scope, digest(secret), created_at, expires_at),
        )
        return Token(text, role, scope, created_at, None, expires_at), secret

    def list(self) -> list[Token]:
        rows = self.store.execute(
            f"SELECT name, role, scope, created_at, revoked_at, expires_at FROM {TABLE}"
            " ORDER BY name"
        )
        return [Token(*row) for row in rows]

    def revoke(self, name: str) -> Token:
        row = self.store.one(f"SELECT revoked_at FROM {TABLE} WHERE name = ?", (name,))
        if row is None:
            raise InvalidInput(f"no token is named {name!r}; see 'tokens list'", field="name")
        if row[0] is None:
            revoked_at = datetime.now(UTC).isoformat(timespec="seconds")
            self.store.execute(
                f"UPDATE {TABLE} SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                (revoked_at, name),
            )
        found = [token for token in self.list() if token.name == name]
        return found[0]

    def find_statement(self, secret: str, address: str) -> tuple[str, tuple[str, str]]:
        """The statement that finds the live token with this secret and the failures of
        ``address``: always one row of name, role, scope, created_at, expires_at (NULL when
        no live token has the secret; a secret without the prefix matches nothing), then
        failures and window_start (NULL when the address has none)."""
        sha256 = digest(secret) if secret.startswith(TOKEN_PREFIX) else ""
        return (
            "SELECT k.name, k.role, k.scope, k.created_at, k.expires_at, f.failures,"
            f" f.window_start FROM (SELECT 1 AS one) o LEFT JOIN {TABLE} k"
            " ON k.token_sha256 = ? AND k.revoked_at IS NULL"
            f" LEFT JOIN {FAILURES_TABLE} f ON f.address = ?",
            (sha256, address),
        )

    @staticmethod
    def found(row: Sequence[Any]) -> Found:
        """What a row of ``find_statement`` says."""
        name, role, scope, created_at, expires_at, failures, window_start = row
        token = Token(name, role, scope, created_at, None, expires_at) if name else None
        return Found(token, failures or 0, window_start or 0.0)

    def record_failure(self, address: str, now: float, window_s: float) -> None:
        """Count a failed authentication from ``address`` (only a failure writes). Windows
        that have ended are dropped first, so the table holds only recent addresses and a
        row left is always in its window."""
        self.store.execute(
            f"DELETE FROM {FAILURES_TABLE} WHERE window_start <= ? AND address NOT LIKE ?",
            (now - window_s, SIGN_IN_KEYS + "%"),
        )
        self.store.execute(
            f"INSERT INTO {FAILURES_TABLE} (address, window_start, failures) VALUES (?, ?, 1)"
            f" ON CONFLICT (address) DO UPDATE SET failures = {FAILURES_TABLE}.failures + 1",
            (address, now),
        )
