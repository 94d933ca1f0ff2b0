"""Bearer tokens for the HTTP API: a name, a role and an optional scope (a holder).

A token is shown once, when created; only its SHA-256 is stored, so a copy of the database
does not hand out working tokens. (A token has 256 random bits: a fast hash is enough, there
is nothing to guess.) Tokens live in the ledger's own database, table ``api_tokens``; a
revoked token keeps its row, so the name an event records as its actor always stays
explainable, and a name is never given to a second token.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.errors import InvalidInput
from ledger.values import check_code, check_text
from projections.sql import ViewStore

TABLE = "api_tokens"
ROLES = ("viewer", "clerk", "approver", "admin")
TOKEN_PREFIX = "blt_"
NAME_LENGTH_MAX = 100

# What each role may write; every role reads (within its scope).
WRITES: dict[str, frozenset[str]] = {
    "viewer": frozenset(),
    "clerk": frozenset({"disburse", "reverse"}),
    "approver": frozenset(
        {"disburse", "reverse", "allocate", "adjust", "reallocate", "extend", "lapse", "holder"}
    ),
    "admin": frozenset(
        {"disburse", "reverse", "allocate", "adjust", "reallocate", "extend", "lapse", "holder"}
    ),
}


@dataclass(frozen=True)
class Token:
    name: str
    role: str
    scope: str | None
    created_at: str
    revoked_at: str | None = None

    def may_write(self, action: str) -> bool:
        return action in WRITES[self.role]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "scope": self.scope,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_table(store: ViewStore) -> None:
    """Create the ``api_tokens`` table if missing (``budget-ledger init`` does; inside the
    caller's ``store.schema_change()``)."""
    store.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, role TEXT NOT NULL,"
        " scope TEXT, token_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,"
        " revoked_at TEXT)"
    )


class TokenStore:
    """The ``api_tokens`` table over a ``ViewStore``."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        if not store.table_exists(TABLE):
            # A database made before init created the table: the first user makes it, one
            # process at a time.
            with store.schema_change():
                create_table(store)

    def create(self, name: str, role: str, scope: str | None) -> tuple[Token, str]:
        """A new token and its secret (shown once)."""
        text = check_text(name, field="name", length_max=NAME_LENGTH_MAX, required=True)
        assert text is not None
        if role not in ROLES:
            raise InvalidInput(f"must be one of {', '.join(ROLES)}", field="role")
        scope = check_code(scope, field="scope") if scope else None
        if self.store.one(f"SELECT 1 FROM {TABLE} WHERE name = ?", (text,)) is not None:
            raise InvalidInput(
                f"a token named {text!r} exists or existed; names are never reused (the "
                "events it recorded carry it), choose another",
                field="name",
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.store.execute(
            f"INSERT INTO {TABLE} (name, role, scope, token_sha256, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (text, role, scope, digest(secret), created_at),
        )
        return Token(text, role, scope, created_at), secret

    def list(self) -> list[Token]:
        rows = self.store.execute(
            f"SELECT name, role, scope, created_at, revoked_at FROM {TABLE} ORDER BY name"
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

    def find_statement(self, secret: str) -> tuple[str, tuple[str]]:
        """The statement that finds the live token with this secret: at most one row of
        name, role, scope and created_at (a secret without the prefix matches nothing)."""
        sha256 = digest(secret) if secret.startswith(TOKEN_PREFIX) else ""
        return (
            f"SELECT name, role, scope, created_at FROM {TABLE}"
            " WHERE token_sha256 = ? AND revoked_at IS NULL",
            (sha256,),
        )

    @staticmethod
    def token(row: Sequence[Any]) -> Token | None:
        """The token of a row of ``find_statement`` (None: no row, or its columns NULL)."""
        return Token(*row) if row[0] is not None else None
