"""Which database errors mean "the database does not answer" (503, exit 75, try again) and
which are faults (a missing table, a malformed statement: 500, a traceback in the log)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from eventsourcing import persistence
from psycopg import errors as pg
from psycopg_pool import PoolTimeout

from ledger.storage.availability import is_unavailable, unavailable_reason


def raised_from(error: BaseException, cause: BaseException) -> BaseException:
    """``error`` as the library raises it: ``raise error from cause``."""
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error",
    [
        PoolTimeout("couldn't get a connection after 5.00 sec"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.InterfaceError("the connection is closed"),
        pg.AdminShutdown("terminating connection due to administrator command"),
        pg.LockNotAvailable("canceling statement due to lock timeout"),
        raised_from(persistence.OperationalError("x"), PoolTimeout("after 5.00 sec")),
        raised_from(persistence.InterfaceError("x"), psycopg.InterfaceError("closed")),
        sqlite3.OperationalError("database is locked"),
        raised_from(
            persistence.OperationalError("x"), sqlite3.OperationalError("database is locked")
        ),
    ],
)
def test_the_database_not_answering_is_unavailable(error: BaseException) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        pg.UndefinedTable('relation "projection_state" does not exist'),
        pg.SyntaxError("syntax error at or near"),
        sqlite3.OperationalError("no such table: stored_events"),
        raised_from(
            persistence.OperationalError("x"), sqlite3.OperationalError("no such table: x")
        ),
        persistence.OperationalError("raised by the library itself"),
        persistence.ProgrammingError("x"),
        ValueError("not a database error"),
    ],
)
def test_a_fault_is_not_unavailability(error: BaseException) -> None:
    assert not is_unavailable(error)


def test_the_reason_is_the_first_line_of_what_the_driver_said() -> None:
    error = psycopg.OperationalError("connection failed: refused\nIs the server running?")
    assert unavailable_reason(error) == "connection failed: refused"
    assert unavailable_reason(PoolTimeout()) == "PoolTimeout"
