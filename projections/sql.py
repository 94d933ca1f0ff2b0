"""One small SQL layer for the read models, over SQLite (sqlite3) and PostgreSQL (psycopg).

The read models live in the ledger's own database, beside the events, so an update and the
position it reached commit in one transaction of that database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.pq import ExecStatus

from ledger.config import is_postgres

# One insert_many call: table, columns, rows, plain.
Insert = tuple[str, Sequence[str], Sequence[tuple[Any, ...]], bool]
# Plain rows are sent in pieces of this many, so the server parses one while the next is
# being built.
COPY_ROWS_MAX = 20_000
TUPLES_OK = ExecStatus.TUPLES_OK
# The advisory lock every creation of the read models' or tokens' tables takes (any number
# of the ledger's: "bl" and the year of the lock's making).
SCHEMA_LOCK = 0x626C_2026


def _copy_text(rows: Sequence[tuple[Any, ...]], width: int) -> str:
    line = "\t".join(["%s"] * width)  # printf-style: three times cheaper than str.join per row
    text = "\n".join([line % row for row in rows]) + "\n"
    # Paired with the caller's promise: a tab or newline inside a value would shift columns
    # or rows, a backslash would start an escape.
    assert text.count("\n") == len(rows), "a plain COPY value holds a newline"
    assert text.count("\t") == len(rows) * (width - 1), "a plain COPY value holds a tab"
    assert "\\" not in text, "a plain COPY value holds a backslash"
    return text


class ViewStore:
    """A connection to the ledger's database for read models, with the dialect's few
    differences (placeholders, bulk insert) behind one interface."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.postgres = is_postgres(database)
        if self.postgres:
            self.connection: Any = psycopg.connect(database, autocommit=True)
        else:
            self.connection = sqlite3.connect(
                str(Path(database).expanduser()), isolation_level=None, timeout=10
            )
            self.connection.execute("PRAGMA journal_mode=WAL")

    def close(self) -> None:
        self.connection.close()

    def sql(self, statement: str) -> str:
        """Statements are written with ``?`` placeholders; PostgreSQL wants ``%s``."""
        return statement.replace("?", "%s") if self.postgres else statement

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.execute(self.sql(statement), tuple(parameters))
        if self.postgres:
            # Whether rows came back, from the result's status: psycopg's ``description``
            # builds a Column object per column to say the same (a tenth of a read's work in
            # the driver). Its rows are tuples already.
            result = cursor.pgresult
            if result is None or result.status != TUPLES_OK:
                return []
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
        if cursor.description is None:
            return []
        return [tuple(row) for row in cursor.fetchall()]

    def one(self, statement: str, parameters: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self.execute(statement, parameters)
        return rows[0] if rows else None

    def insert_many(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        *,
        plain: bool = False,
    ) -> None:
        """Insert ``rows``: COPY on PostgreSQL, executemany on SQLite. ``plain`` says every
        value is an int or a text without tab, newline or backslash: such rows are sent as
        COPY text built in one join, several times cheaper than psycopg's row by row
        encoding (which a rebuild would spend a third of its time in)."""
        if not rows:
            return
        if self.postgres:
            names = ", ".join(columns)
            with self.connection.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    if plain:
                        for start in range(0, len(rows), COPY_ROWS_MAX):
                            piece = rows[start : start + COPY_ROWS_MAX]
                            copy.write(_copy_text(piece, len(columns)))
                    else:
                        for row in rows:
                            copy.write_row(row)
            return
        marks = ", ".join("?" for _ in columns)
        self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; SQLite takes its write lock at the start (BEGIN IMMEDIATE), so a
        read-then-write inside cannot be overtaken by another writer."""
        if self.postgres:
            with self.connection.transaction():
                yield
            return
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    @contextmanager
    def schema_change(self) -> Iterator[None]:
        """A transaction that creates tables, one process at a time: on PostgreSQL under an
        advisory lock (concurrent ``CREATE TABLE IF NOT EXISTS`` of one table fail there
        with a unique violation), on SQLite under the write lock BEGIN IMMEDIATE takes.
        Whoever waited finds the tables made: check again inside."""
        with self.transaction():
            if self.postgres:
                self.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            yield

    def table_exists(self, table: str) -> bool:
        if self.postgres:
            row = self.one("SELECT to_regclass(?) IS NOT NULL", (table,))
        else:
            row = self.one("SELECT count(*) > 0 FROM sqlite_master WHERE name = ?", (table,))
        return bool(row and row[0])
