"""People who sign in to the web pages with a name and a password, and their sessions.

A person has the same role and optional scope as a token (``api/tokens.py``), and acts
through the same rules: once signed in, a person is a ``Token`` (name, role, scope) to every
check the views make, and the events a person records carry the person's name. Names are
unique across people and tokens, so an event's actor always names one of them.

Passwords are hashed with Argon2id (argon2-cffi, RFC 9106's parameters); only the hash is
stored, and a password is never logged. A session is a random secret in an HttpOnly cookie;
only its SHA-256 is stored, with the person's name, its CSRF token and when it was last
used. A session idle longer than the idle timeout, or older than its lifetime, ends; so do
all of a person's sessions when the person is disabled or the password changes.

Failed sign-ins are counted per name and per address in ``auth_failures`` (the API's table,
under keys of their own), so a guesser is slowed down whichever it varies. An attempt is
counted before its password is verified and takes its count back unless the password was
wrong, so guesses sent at once to several workers get no more verifications than the limit.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api import tokens
from api.tokens import FAILURES_TABLE, NAME_LENGTH_MAX, ROLES, SIGN_IN_KEYS, Found, Token
from ledger.domain.errors import InvalidInput
from ledger.domain.values import check_code, check_text
from ledger.storage.sql import ViewStore

PEOPLE_TABLE = "people"
SESSIONS_TABLE = "web_sessions"
TABLES = (
    f"CREATE TABLE IF NOT EXISTS {PEOPLE_TABLE} (name TEXT PRIMARY KEY, role TEXT NOT NULL,"
    " scope TEXT, password_hash TEXT NOT NULL, created_at TEXT NOT NULL,"
    " password_changed_at TEXT NOT NULL, disabled_at TEXT)",
    f"CREATE TABLE IF NOT EXISTS {SESSIONS_TABLE} (session_sha256 TEXT PRIMARY KEY,"
    " name TEXT NOT NULL, csrf TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL,"
    " seen_at DOUBLE PRECISION NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {SESSIONS_TABLE}_name ON {SESSIONS_TABLE} (name)",
)
# A password shorter than this is refused: the hash slows a guesser, it cannot save a
# password of four letters.
PASSWORD_LENGTH_MIN = 10
PASSWORD_LENGTH_MAX = 1024
# A session unused for IDLE_TIMEOUT_S seconds ends (an office computer left signed in);
# whatever its use, it ends LIFETIME_S after sign-in (a working day and some).
IDLE_TIMEOUT_S = 30 * 60
LIFETIME_S = 12 * 60 * 60
# A session's last use is written at most once a minute: reading a page is not a write.
SEEN_RESOLUTION_S = 60
# Failed sign-ins: per name (someone guessing one person's password) fewer than per
# address (an office behind one address has many people mistyping).
NAME_FAILURES_MAX = 5
ADDRESS_FAILURES_MAX = 20
SIGN_IN_WINDOW_S = 15 * 60

_hasher = PasswordHasher()


@functools.cache
def unknown_hash() -> str:
    """Verified against when the name is unknown, so that an unknown name takes as long to
    refuse as a wrong password (the time does not tell which names exist). Hashed once, when
    the API's application is made (``create_app``), not on import: hashing takes a quarter
    of a second, and every command of the command line imports this module."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    scope: str | None
    created_at: str
    password_changed_at: str
    disabled_at: str | None = None

    def as_token(self) -> Token:
        """The person as every rule of the API sees a caller: a name, a role, a scope."""
        return Token(self.name, self.role, self.scope, self.created_at)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "scope": self.scope,
            "created_at": self.created_at,
            "password_changed_at": self.password_changed_at,
            "disabled_at": self.disabled_at,
        }


@dataclass(frozen=True)
class Session:
    """A signed-in person's session: who, and the CSRF token its forms must carry."""

    person: Person
    csrf: str
    key: str  # the session's SHA-256, as stored


class SignInRefused(Exception):
    """A wrong name or password (one message for both), or a disabled person."""


class SignInThrottled(Exception):
    """Too many failed sign-ins lately for this name or from this address."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def create_tables(store: ViewStore) -> None:
    """Create the people and sessions tables if missing (inside ``store.schema_change()``)."""
    for statement in TABLES:
        store.execute(statement)


def tables_ready(store: ViewStore) -> bool:
    return store.table_exists(PEOPLE_TABLE) and store.table_exists(SESSIONS_TABLE)


def check_password(password: str) -> str:
    if len(password) < PASSWORD_LENGTH_MIN:
        raise InvalidInput(
            f"is {len(password)} characters long; choose one of at least "
            f"{PASSWORD_LENGTH_MIN} (a few words make a good one)",
            field="password",
        )
    if len(password) > PASSWORD_LENGTH_MAX:
        raise InvalidInput(
            f"is longer than {PASSWORD_LENGTH_MAX} characters; choose a shorter one",
            field="password",
        )
    return password


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class PeopleStore:
    """The ``people`` and ``web_sessions`` tables over a ``ViewStore`` connection."""

    def __init__(self, store: ViewStore, *, hasher: PasswordHasher = _hasher) -> None:
        self.store = store
        self.hasher = hasher
        # Failed sign-ins are counted in the tokens' failures table.
        if not (tables_ready(store) and tokens.tables_ready(store)):
            with store.schema_change():
                tokens.create_table(store)
                create_tables(store)

    # -- people ---------------------------------------------------------------------------

    def add(self, name: str, role: str, scope: str | None, password: str) -> Person:
        text = check_text(name, field="name", length_max=NAME_LENGTH_MAX, required=True)
        assert text is not None
        if role not in ROLES:
            raise InvalidInput(f"must be one of {', '.join(ROLES)}", field="role")
        scope = check_code(scope, field="scope") if scope else None
        password_hash = self.hasher.hash(check_password(password))
        if tokens.name_taken(self.store, text):
            raise InvalidInput(
                f"a person or token named {text!r} exists or existed; names are never reused "
                "(the events recorded under it carry it), choose another",
                field="name",
            )
        now = _now_iso()
        self.store.execute(
            f"INSERT INTO {PEOPLE_TABLE} (name, role, scope, password_hash, created_at,"
            " password_changed_at) VALUES (?, ?, ?, ?, ?, ?)",
            (text, role, scope, password_hash, now, now),
        )
        return Person(text, role, scope, now, now)

    def list(self) -> list[Person]:
        rows = self.store.execute(
            f"SELECT name, role, scope, created_at, password_changed_at, disabled_at"
            f" FROM {PEOPLE_TABLE} ORDER BY name"
        )
        return [Person(*row) for row in rows]

    def get(self, name: str) -> Person:
        row = self.store.one(
            f"SELECT name, role, scope, created_at, password_changed_at, disabled_at"
            f" FROM {PEOPLE_TABLE} WHERE name = ?",
            (name,),
        )
        if row is None:
            raise InvalidInput(f"no person is named {name!r}; see 'users list'", field="name")
        return Person(*row)

    def set_password(self, name: str, password: str) -> Person:
        """A new password; every session of the person ends (signed in elsewhere with the
        old one)."""
        self.get(name)
        password_hash = self.hasher.hash(check_password(password))
        with self.store.transaction():
            self.store.execute(
                f"UPDATE {PEOPLE_TABLE} SET password_hash = ?, password_changed_at = ?"
                " WHERE name = ?",
                (password_hash, _now_iso(), name),
            )
            self.store.execute(f"DELETE FROM {SESSIONS_TABLE} WHERE name = ?", (name,))
        return self.get(name)

    def disable(self, name: str) -> Person:
        """The person can no longer sign in, and every session of theirs ends now. The row
        stays: the events they recorded carry the name."""
        person = self.get(name)
        with self.store.transaction():
            if person.disabled_at is None:
                self.store.execute(
                    f"UPDATE {PEOPLE_TABLE} SET disabled_at = ? WHERE name = ?",
                    (_now_iso(), name),
                )
            self.store.execute(f"DELETE FROM {SESSIONS_TABLE} WHERE name = ?", (name,))
        return self.get(name)

    # -- signing in -------------------------------------------------------------------------

    def sign_in(self, name: str, password: str, address: str) -> tuple[Session, str]:
        """A new session for the person, and its secret (for the cookie); or SignInRefused
        (wrong name or password, disabled), or SignInThrottled (too many failures lately,
        checked before the password is looked at)."""
        now = time.time()
        name = name.strip()
        keys = {
            f"{SIGN_IN_KEYS}name {name.casefold()}": NAME_FAILURES_MAX,
            f"{SIGN_IN_KEYS}address {address}": ADDRESS_FAILURES_MAX,
        }
        # Counted before the password is verified, in one statement each: guesses arriving
        # at once in several workers cannot all pass a check made before any is counted.
        counted = {key: self._count_attempt(key, now) for key in keys}
        waits = [
            counted[key].retry_after(now, failures_max + 1, SIGN_IN_WINDOW_S)
            for key, failures_max in keys.items()
        ]
        wait = max((wait for wait in waits if wait is not None), default=None)
        if wait is not None:
            self._take_back(keys)  # a refused attempt is not a failure
            raise SignInThrottled(
                "too many failed sign-ins for this name or from this address; try again "
                f"in {wait} seconds",
                wait,
            )
        row = self.store.one(
            f"SELECT password_hash, disabled_at FROM {PEOPLE_TABLE} WHERE name = ?", (name,)
        )
        password_hash, disabled_at = row if row is not None else (unknown_hash(), None)
        try:
            self.hasher.verify(password_hash, password)
            verified = row is not None
        except (VerificationError, InvalidHashError):
            verified = False
        # A disabled person's right password is refused as a wrong one, and stays counted:
        # the answer must not confirm a password that may be in use elsewhere.
        if not verified or disabled_at is not None:
            raise SignInRefused("the name or the password is wrong; try again")
        self._take_back(keys)  # a right password is not a failure
        if self.hasher.check_needs_rehash(password_hash):
            self.store.execute(
                f"UPDATE {PEOPLE_TABLE} SET password_hash = ? WHERE name = ?",
                (self.hasher.hash(password), name),
            )
        secret = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        key = _sha256(secret)
        # Sessions that ended are dropped as new ones begin: the table holds live ones.
        self.store.execute(
            f"DELETE FROM {SESSIONS_TABLE} WHERE seen_at <= ? OR started_at <= ?",
            (now - IDLE_TIMEOUT_S, now - LIFETIME_S),
        )
        self.store.execute(
            f"INSERT INTO {SESSIONS_TABLE} (session_sha256, name, csrf, started_at, seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (key, name, csrf, now, now),
        )
        return Session(self.get(name), csrf, key), secret

    def session(self, secret: str, *, idle_timeout_s: float = IDLE_TIMEOUT_S) -> Session | None:
        """The live session with this secret (None: unknown, ended, or its person disabled).
        Using it keeps it alive."""
        now = time.time()
        key = _sha256(secret)
        row = self.store.one(
            f"SELECT p.name, p.role, p.scope, p.created_at, p.password_changed_at,"
            f" s.csrf, s.started_at, s.seen_at FROM {SESSIONS_TABLE} s"
            f" JOIN {PEOPLE_TABLE} p ON p.name = s.name AND p.disabled_at IS NULL"
            " WHERE s.session_sha256 = ?",
            (key,),
        )
        if row is None:
            return None
        name, role, scope, created_at, changed_at, csrf, started_at, seen_at = row
        if seen_at <= now - idle_timeout_s or started_at <= now - LIFETIME_S:
            self.end(key)
            return None
        if now - seen_at >= SEEN_RESOLUTION_S:
            self.store.execute(
                f"UPDATE {SESSIONS_TABLE} SET seen_at = ? WHERE session_sha256 = ?", (now, key)
            )
        return Session(Person(name, role, scope, created_at, changed_at), csrf, key)

    def end(self, key: str) -> None:
        """Sign out: the session (by its stored SHA-256) ends."""
        self.store.execute(f"DELETE FROM {SESSIONS_TABLE} WHERE session_sha256 = ?", (key,))

    # -- failures -----------------------------------------------------------------------------

    def _count_attempt(self, key: str, now: float) -> Found:
        """Count a sign-in attempt under ``key`` and say the count in its window (a window
        that has ended starts again with this attempt): one upsert, atomic on SQLite and
        PostgreSQL alike, so attempts made at once each see the others."""
        ended = now - SIGN_IN_WINDOW_S
        # Ended windows are dropped as attempts come, so the table holds recent keys only.
        self.store.execute(
            f"DELETE FROM {FAILURES_TABLE} WHERE window_start <= ? AND address LIKE ?",
            (ended, SIGN_IN_KEYS + "%"),
        )
        row = self.store.one(
            f"INSERT INTO {FAILURES_TABLE} (address, window_start, failures) VALUES (?, ?, 1)"
            " ON CONFLICT (address) DO UPDATE SET"
            f" failures = CASE WHEN {FAILURES_TABLE}.window_start <= ? THEN 1"
            f" ELSE {FAILURES_TABLE}.failures + 1 END,"
            f" window_start = CASE WHEN {FAILURES_TABLE}.window_start <= ?"
            f" THEN excluded.window_start ELSE {FAILURES_TABLE}.window_start END"
            " RETURNING failures, window_start",
            (key, now, ended, ended),
        )
        assert row is not None
        return Found(None, row[0], row[1])

    def _take_back(self, keys: Iterable[str]) -> None:
        """An attempt that was not a failure (the right password, or refused unverified)
        takes its count back: only wrong passwords add up."""
        for key in keys:
            self.store.execute(
                f"UPDATE {FAILURES_TABLE} SET failures = failures - 1"
                " WHERE address = ? AND failures > 0",
                (key,),
            )
