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

from ledger.config import is_postgres


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
        if cursor.description is None:
            return []
        return [tuple(row) for row in cursor.fetchall()]

    def one(self, statement: str, parameters: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self.execute(statement, parameters)
        return rows[0] if rows else None

    def insert_many(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.postgres:
            names = ", ".join(columns)
            with self.connection.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
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

    def table_exists(self, table: str) -> bool:
        if self.postgres:
            row = self.one("SELECT to_regclass(?) IS NOT NULL", (table,))
        else:
            row = self.one("SELECT count(*) > 0 FROM sqlite_master WHERE name = ?", (table,))
        return bool(row and row[0])
