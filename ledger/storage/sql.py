"""One small SQL layer for the read models, over SQLite (sqlite3) and PostgreSQL (psycopg).

The read models live in the ledger's own database, beside the events, so an update and the
position it reached commit in one transaction of that database."""

from __future__ import annotations

import select
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.storage.config import is_postgres
from ledger.storage.settings import (
    CONNECT_TIMEOUT_S,
    CONNECTION_WAIT_S,
    DOWN_WAIT_S,
    LOCK_WAIT_S,
    READ_MODEL_CONNECTIONS_MAX,
    RECONNECT_S,
    RETRY_AFTER_S,
)

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

# One insert_many call: table, columns, rows, plain.
Insert = tuple[str, Sequence[str], Sequence[tuple[Any, ...]], bool]
# Plain rows are sent in pieces of this many, so the server parses one while the next is
# being built.
COPY_ROWS_MAX = 20_000
# The advisory lock every creation of the read models' or tokens' tables takes (any number
# of the ledger's: "bl" and the year of the lock's making).
SCHEMA_LOCK = 0x626C_2026


def check_idle_connection(connection: psycopg.Connection[Any]) -> None:
    """psycopg_pool's check of a connection before it is handed out, without its round trip
    while the connection is sound. An idle connection has nothing to read: a server that
    ended it (a restart, a crash, an administrator's terminate) sent its last words or
    closed the socket, and either makes the socket readable. Only then, or when the
    connection is not idle, is it checked as psycopg_pool does (a statement, which fails on
    a dead connection, and the pool replaces it). The round trip on every request was a
    sixth of a balance read's statements (docs/decisions.md, section 31)."""
    from psycopg.pq import TransactionStatus
    from psycopg_pool import ConnectionPool

    if connection.broken or connection.closed:
        ConnectionPool.check_connection(connection)
        return
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    if readable or connection.info.transaction_status != TransactionStatus.IDLE:
        ConnectionPool.check_connection(connection)


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
    """The ledger's database for the read models and the tokens, usable from any thread, with
    the dialect's few differences (placeholders, bulk insert) behind one interface.

    On PostgreSQL every statement runs on a connection from a pool (psycopg_pool) that checks
    a connection before handing it out and replaces one that a restart of the database
    killed: a thread takes one for a statement, or for a whole ``transaction()``, or from
    its first statement until ``release()`` after ``keep()`` (a request of the API), and
    gives it back. While the database is down, taking one fails after CONNECTION_WAIT_S with
    psycopg_pool's PoolTimeout (see ledger/storage/availability.py). On SQLite each thread has its
    own plain connection to the file. psycopg is imported for PostgreSQL only: a command on
    a SQLite file does not load it."""

    def __init__(
        self,
        database: str,
        *,
        connections_max: int = READ_MODEL_CONNECTIONS_MAX,
        wait_s: float = CONNECTION_WAIT_S,
    ) -> None:
        """``wait_s``: how long a caller waits for a connection (a replica's store waits less
        than the primary's: the primary answers instead, see replicas.py)."""
        self.database = database
        self.postgres = is_postgres(database)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sqlite: list[sqlite3.Connection] = []
        self.pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._down_until = 0.0  # see known_down
        self._tuples_ok: object = None
        if self.postgres:
            from psycopg.pq import ExecStatus
            from psycopg_pool import ConnectionPool

            self._tuples_ok = ExecStatus.TUPLES_OK
            self.pool = ConnectionPool(
                database,
                kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                min_size=1,
                max_size=connections_max,
                # Opened now, connecting in the background: a process starts whether or not
                # the database answers yet.
                open=True,
                check=check_idle_connection,
                timeout=wait_s,
                reconnect_timeout=RECONNECT_S,
                name="read models",
            )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        with self._lock:
            for connection in self._sqlite:
                connection.close()
            self._sqlite.clear()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """The calling thread's connection for the statements inside: the one it holds
        already (in a transaction, or kept since ``keep()``), else one from the pool."""
        local = self._local
        current = getattr(local, "current", None)
        if current is not None:
            yield current
            return
        if self.pool is None:
            yield self._sqlite_connection()
            return
        connection = self._take()
        local.current = connection
        try:
            yield connection
        finally:
            if not getattr(local, "keeping", False) or connection.broken:
                local.current = None
                self.pool.putconn(connection)

    def known_down(self) -> bool:
        """Whether the last wait for a connection ended without one, RETRY_AFTER_S ago at
        most: callers then wait DOWN_WAIT_S, not CONNECTION_WAIT_S."""
        return time.monotonic() < self._down_until

    def _take(self) -> Any:
        assert self.pool is not None
        from psycopg_pool import PoolTimeout

        try:
            connection = self.pool.getconn(timeout=DOWN_WAIT_S if self.known_down() else None)
        except PoolTimeout:
            self._down_until = time.monotonic() + RETRY_AFTER_S
            raise
        self._down_until = 0.0
        return connection

    def keep(self) -> None:
        """Keep the connection this thread takes next until ``release()``: a request's
        statements then share one connection, taken and checked once."""
        self._local.keeping = True

    def release(self) -> None:
        """Give back the connection kept since ``keep()``, if one was taken."""
        local = self._local
        local.keeping = False
        current = getattr(local, "current", None)
        if current is not None and self.pool is not None:
            local.current = None
            self.pool.putconn(current)

    def _sqlite_connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "sqlite", None)
        if connection is None:
            connection = sqlite3.connect(
                str(Path(self.database).expanduser()),
                isolation_level=None,
                timeout=LOCK_WAIT_S,
                # Used by this thread only; ``close()`` may come from another.
                check_same_thread=False,
            )
            connection.execute("PRAGMA journal_mode=WAL")
            self._local.sqlite = connection
            with self._lock:
                self._sqlite.append(connection)
        return connection

    @contextmanager
    def listening(self, channel: str) -> Iterator[Callable[[float], None]]:
        """PostgreSQL: a pooled connection of its own that LISTENs on ``channel``; yields
        ``wait(seconds)``, which returns at the next notification or after ``seconds``."""
        assert self.pool is not None, "SQLite has no notifications"
        with self.pool.connection() as connection:
            connection.execute(f"LISTEN {channel}")

            def wait(seconds: float) -> None:
                for _ in connection.notifies(timeout=seconds, stop_after=1):
                    pass

            try:
                yield wait
            finally:
                if not connection.broken:
                    import psycopg

                    with suppress(psycopg.Error):
                        connection.execute("UNLISTEN *")

    def sql(self, statement: str) -> str:
        """Statements are written with ``?`` placeholders; PostgreSQL wants ``%s``."""
        return statement.replace("?", "%s") if self.postgres else statement

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.connection() as connection:
            cursor = connection.execute(self.sql(statement), tuple(parameters))
            if self.postgres:
                # Whether rows came back, from the result's status: psycopg's ``description``
                # builds a Column object per column to say the same (a tenth of a read's work in
                # the driver). Its rows are tuples already.
                result = cursor.pgresult
                if result is None or result.status != self._tuples_ok:
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
            with self.connection() as connection, connection.cursor() as cursor:
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
        with self.connection() as connection:
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction, on one connection; SQLite takes its write lock at the start
        (BEGIN IMMEDIATE), so a read-then-write inside cannot be overtaken by another
        writer. Nested, it is a savepoint on PostgreSQL."""
        with self.connection() as connection:
            if self.postgres:
                with connection.transaction():
                    yield
                return
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

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
