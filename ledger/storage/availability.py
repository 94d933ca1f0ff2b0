"""When the database does not answer: which errors say so, and what the operator is told.

Every PostgreSQL connection comes from a pool that checks it before handing it out (a
connection killed by a server restart is replaced, never used), waits at most
CONNECTION_WAIT_S for one, and keeps trying to reconnect while callers ask: the process
outlives the database's restarts and answers again as soon as the database does. The waits
are settings (ledger/storage/settings.py).
"""

from __future__ import annotations

import sqlite3
import sys
from typing import TYPE_CHECKING

from ledger.storage.config import is_postgres, persistence_environment
from ledger.storage.settings import CONNECTION_WAIT_S

if TYPE_CHECKING:
    import psycopg


def _library_errors() -> tuple[type[Exception], ...]:
    """The library's errors that may say the database does not answer, once its
    persistence module is loaded: a read that the read models answer does not load it
    (decisions §28), and none of its errors can be raised before."""
    persistence = sys.modules.get("eventsourcing.persistence")
    if persistence is None:
        return ()
    return (persistence.OperationalError, persistence.InterfaceError)


def _psycopg_errors() -> tuple[type[Exception], ...]:
    """psycopg's errors that may say the database does not answer, once psycopg is loaded:
    only the PostgreSQL store loads it (a command on a SQLite file does not), and none of
    its errors can be raised before."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return ()
    return (psycopg.OperationalError, psycopg.InterfaceError)


def database_errors() -> tuple[type[Exception], ...]:
    """Errors that may say the database does not answer (``except database_errors():``);
    ``is_unavailable`` tells which do. (psycopg_pool's PoolTimeout, "no connection within
    the wait", is a psycopg.OperationalError; the library raises its own errors from
    psycopg's and sqlite3's.)"""
    return (*_psycopg_errors(), *_library_errors(), sqlite3.OperationalError)


# How a replica that cannot be reached is described (ledger/storage/replicas.py), before why.
DOES_NOT_ANSWER = "does not answer"

# PostgreSQL's SQLSTATE for a write sent to a standby (read_only_sql_transaction).
READ_ONLY_SQL_TRANSACTION = "25006"
STANDBY = (
    "the database is a standby (a streaming replica) and takes no write; write to the "
    "primary (--database), or, after a failover, once the new primary is named"
)


def is_read_only(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, is PostgreSQL refusing a write on a
    standby: a write sent to a replica (or to a primary demoted by a failover)."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) == READ_ONLY_SQL_TRANSACTION:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# SQLite's own word for a write lock another process held past the wait.
SQLITE_BUSY = ("database is locked", "database is busy")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached, the connection was lost, or
    the server gave up on the statement for a passing reason (a lock wait timed out, the
    server is shutting down): sent again later, the same request may succeed, and a write
    that failed so may or may not have been committed before the connection was lost. Not
    a missing table or a malformed statement (SQLite calls those operational errors too)."""
    if isinstance(error, _library_errors()):
        if error.__cause__ is None:
            return False
        error = error.__cause__
    if isinstance(error, _psycopg_errors()):
        return True
    if isinstance(error, sqlite3.OperationalError):
        return str(error).startswith(SQLITE_BUSY)
    return False


def unavailable_reason(error: BaseException) -> str:
    """The first line of what the driver said, for an operator's message."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def unreachable_reason(database: str, error: BaseException) -> str:
    """What the operator is told of a database that does not answer: for PostgreSQL, where
    (host and port) and why, from one direct connection attempt (the pool only says it got
    no connection in time), e.g. "cannot reach PostgreSQL at localhost:5999: connection
    refused; is the server running?"; otherwise, or if that attempt now succeeds, what the
    driver said (``unavailable_reason``)."""
    if not is_postgres(database):
        return unavailable_reason(error)
    env = persistence_environment(database)
    where = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}"
    why = connection_problem(database)
    if why is None:
        return f"PostgreSQL at {where}: {unavailable_reason(error)}"
    return f"cannot reach PostgreSQL at {where}: {why}"


def connection_problem(database: str) -> str | None:
    """Why a connection to the PostgreSQL ``database`` fails, from one direct attempt (e.g.
    "connection refused; is the server running?"), or None if it succeeds now."""
    env = persistence_environment(database)
    import psycopg

    try:
        connection = psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=CONNECTION_WAIT_S,
        )
    except psycopg.Error as refused:
        return _why(refused)
    connection.close()
    return None


def _why(error: psycopg.Error) -> str:
    """libpq's reason, without the address it repeats: 'connection refused; is the server
    running?', 'could not translate host name ...', 'password authentication failed ...'."""
    text = unavailable_reason(error)
    text = text.rsplit(" failed: ", 1)[-1].removeprefix("connection is bad: ")
    text = text.removeprefix("FATAL:").strip()
    reason = text[:1].lower() + text[1:]
    if reason.startswith("connection refused"):
        return f"{reason}; is the server running?"
    return reason
