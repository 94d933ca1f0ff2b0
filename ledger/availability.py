"""When the database does not answer: which errors say so, how long a caller waits for a
connection, how soon the pools try to reconnect, and when a client should come back.

Every PostgreSQL connection comes from a pool that checks it before handing it out (a
connection killed by a server restart is replaced, never used), waits at most
CONNECTION_WAIT_S for one, and keeps trying to reconnect while callers ask: the process
outlives the database's restarts and answers again as soon as the database does.
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

# How long a caller waits for a pooled connection before the request fails: long enough to
# ride out a restart (the server is back within a second or two), short enough that a client
# hears 503 well before its own timeout while the database is down.
CONNECTION_WAIT_S = 5
# While a pool is known to have found the database down (its last wait ended without a
# connection, less than RETRY_AFTER_S ago), callers wait only this long: each request still
# checks, so the server answers again as soon as the database does, but requests arriving
# during an outage are answered 503 at once instead of each holding a server thread for
# CONNECTION_WAIT_S (which queued the requests behind them for ever longer).
DOWN_WAIT_S = 0.5
# libpq's own bound on one connection attempt (an unreachable host does not refuse at once).
CONNECT_TIMEOUT_S = 5
# A pool whose connections were lost tries to reconnect for this long, then stops until a
# caller asks again: while callers keep asking it tries about once a second, so it answers
# within a second or so of the database's return, however long the database was away. (The
# pool's default, five minutes of exponential backoff, left a server waiting up to minutes
# after the database was back.)
RECONNECT_S = 1.0
# What a 503 tells a client to wait before sending the request again (Retry-After).
RETRY_AFTER_S = 5


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
