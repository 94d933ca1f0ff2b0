"""Whether a database holds a ledger, asked before anything is opened in it: a path that
names nothing, a directory or a file that is not SQLite, and a database without the ledger's
log, are refused with a NoLedger saying so. ``open_ledger`` asks it through the library's
recorder; every other command asks it with one statement of its own
(``check_holds_ledger``), without loading the library's application or the
domain's classes (decisions §28)."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from ledger.domain.errors import NoLedger
from ledger.storage.config import describe, is_postgres
from ledger.storage.log import log_tables_of
from ledger.storage.settings import CONNECT_TIMEOUT_S, LOCK_WAIT_S


def check_holds_ledger(database: str) -> None:
    """Read the log's head on a connection of its own, closed after: NoLedger when
    ``database`` holds no ledger (no log table; on SQLite, a file that is not a database),
    the error itself when the database does not answer (see ledger.storage.availability),
    at once rather than after a pool's wait. A SQLite path passes ``check_sqlite_path``
    first (SQLite would make a file that is not there)."""
    statement = log_tables_of(database).head_statement
    if not is_postgres(database):
        check_sqlite_path(database, create=False)
        try:
            with closing(sqlite3.connect(Path(database).expanduser(), timeout=LOCK_WAIT_S)) as db:
                db.execute(statement)
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) and str(error).startswith(
                "no such table"
            ):
                raise _no_ledger(database, error) from None
            raise not_sqlite(database, error) from None
        return
    import psycopg

    try:
        with psycopg.connect(database, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as db:
            db.execute(statement)
    except psycopg.errors.UndefinedTable as error:
        raise _no_ledger(database, error) from None


def _no_ledger(database: str, error: Exception) -> NoLedger:
    return NoLedger(
        f"{describe(database)} holds no ledger ({str(error).strip()})",
        field="database",
        database=database,
    )


def check_sqlite_path(database: str, *, create: bool) -> None:
    """A SQLite path the ledger can open, or NoLedger saying what is wrong with it: nothing
    there (only ``init`` makes one), a directory, a file this user may not read or write.
    Only a missing file gets the command line's hint to create one (the ``database`` value)."""
    path = Path(database).expanduser()
    if path.is_dir():
        raise NoLedger(
            f"{describe(database)} is a directory; give the ledger's file (e.g. "
            f"{path / 'ledger.sqlite3'})",
            field="database",
        )
    if not path.exists():
        if not create:
            raise NoLedger(
                f"there is no ledger at {describe(database)}", field="database", database=database
            )
        return
    wanted = os.R_OK if not create else os.R_OK | os.W_OK
    if not os.access(path, wanted):
        raise NoLedger(
            f"cannot open {describe(database)}: permission denied; run as a user who may "
            "read and write it, or check the path",
            field="database",
        )


def not_sqlite(database: str, error: sqlite3.DatabaseError) -> Exception:
    """SQLite's own 'file is not a database' (a typo naming a spreadsheet, say): refused with
    the file untouched, not as a traceback, and without the hint to create a ledger there
    (it would overwrite nothing, but it is never what was meant). Its OperationalError (a
    lock held past the wait) is another matter, passed on as it is."""
    if isinstance(error, sqlite3.OperationalError):
        return error
    return NoLedger(
        f"{describe(database)} is not a ledger: it is not a SQLite database ({error}); give "
        "the ledger's .sqlite3 file or a postgresql:// URL",
        field="database",
    )
