"""When the database does not answer: which errors say so, and what the operator is told.

Every PostgreSQL connection comes from a pool that checks it before handing it out (a
connection killed by a server restart is replaced, never used), waits at most
CONNECTION_WAIT_S for one, and keeps trying to reconnect while callers ask: the process
outlives the database's restarts and answers again as soon as the database does. The waits
are settings (ledger/storage/settings.py).
"""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing import persistence

# Errors that may say the database does not answer; ``is_unavailable`` tells which do.
# (psycopg_pool's PoolTimeout, "no connection within the wait", is a psycopg.OperationalError;
# the library raises its own errors from psycopg's and sqlite3's.)
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
    sqlite3.OperationalError,
)
# SQLite's own word for a write lock another process held past the wait.
SQLITE_BUSY = ("database is locked", "database is busy")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached, the connection was lost, or
    the server gave up on the statement for a passing reason (a lock wait timed out, the
    server is shutting down): sent again later, the same request may succeed, and a write
    that failed so may or may not have been committed before the connection was lost. Not
    a missing table or a malformed statement (SQLite calls those operational errors too)."""
    if isinstance(error, (persistence.OperationalError, persistence.InterfaceError)):
        if error.__cause__ is None:
            return False
        error = error.__cause__
    if isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError)):
        return True
    if isinstance(error, sqlite3.OperationalError):
        return str(error).startswith(SQLITE_BUSY)
    return False


def unavailable_reason(error: BaseException) -> str:
    """The first line of what the driver said, for an operator's message."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
