"""Telling a running rebuild from one that died, and finding the tables it left.

A rebuild holds the **rebuild lock** of its database from start to switch: on PostgreSQL a
session-level advisory lock on a connection of its own, on SQLite an exclusive ``flock`` on
a file beside the database (``ledger.sqlite3-rebuild.lock``; it stays there, empty). Both
are released by the operating system or the server when the process ends, however it ends
(SIGKILL included), and neither is released while it runs, however long it takes. So a
generation that no reader uses (not the active one) and whose rebuild lock can be taken was
left by a rebuild that died: nothing will ever read or finish it. One rebuild at a time runs
on a database; a second one is refused while the first holds the lock.
"""

from __future__ import annotations

import fcntl
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.storage.config import is_postgres
from ledger.storage.settings import CONNECT_TIMEOUT_S
from ledger.storage.sql import ViewStore

# pg_try_advisory_lock's two keys: any constant pair; the first spells "bldg" in ASCII.
REBUILD_LOCK_KEYS = (0x626C6467, 1)
# The lock of the one server process that keeps the read models current for the others
# (api/services.py ``keep_following``).
FOLLOW_LOCK_KEYS = (0x626C6467, 2)


class RebuildRefused(Exception):
    """A rebuild cannot start (another holds the lock) or finish (its generation was removed
    after its lock was lost); readers keep the active generation."""


@dataclass(frozen=True)
class Leftover:
    """A generation's tables left by a rebuild that died, as they were found."""

    generation: int
    position: int | None  # how far its rebuild had read (None: its state row was gone)
    tables: list[str]


@contextmanager
def rebuild_lock(database: str) -> Iterator[bool]:
    """Try to take the rebuild lock of ``database`` without waiting: yields True if this
    caller holds it until the block ends, False if a rebuild holds it."""
    if is_postgres(database):
        # Not from a pool: the lock lives as long as this session. Bounded like every
        # connection attempt, so an unreachable server is an outage, not a hang.
        import psycopg

        connection = psycopg.connect(database, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        try:
            yield try_lock(connection, REBUILD_LOCK_KEYS)
        finally:
            connection.close()  # ends the session, and with it the lock
        return
    path = Path(database).expanduser()
    with open(path.with_name(path.name + "-rebuild.lock"), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def generation_tables(store: ViewStore, name: str) -> dict[int, list[str]]:
    """Every table of read model ``name`` in the store, by generation (``{name}_*_gN``,
    whatever the layout that made it)."""
    if store.postgres:
        rows = store.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    else:
        rows = store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    pattern = re.compile(rf"{re.escape(name)}_[a-z_]+_g(\d+)")
    found: dict[int, list[str]] = {}
    for (table,) in rows:
        match = pattern.fullmatch(str(table))
        if match:
            found.setdefault(int(match[1]), []).append(str(table))
    return {generation: sorted(tables) for generation, tables in found.items()}


@contextmanager
def follow_lock(
    database: str,
    stop: threading.Event,
    wait_s: float,
    *,
    outage: Callable[[BaseException | None], None] | None = None,
    standing_by: Callable[[], None] | None = None,
) -> Iterator[bool]:
    """Wait until this caller holds the follow lock of ``database`` (PostgreSQL), then yield
    True until the block ends; False if ``stop`` was set first. It tries again every
    ``wait_s`` seconds on the same session: while another process holds it (``standing_by``
    is told once) and while the database does not answer (``outage`` is told the error
    once, and None when it answers again; the session is then made again). On SQLite, True
    at once: one machine, one follower."""
    if not is_postgres(database):
        yield True
        return
    import psycopg

    connection: psycopg.Connection[Any] | None = None
    failed = told = held = False
    try:
        while not stop.is_set():
            try:
                if connection is None or connection.closed:
                    connection = psycopg.connect(
                        database, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
                    )
                held = try_lock(connection, FOLLOW_LOCK_KEYS)
            except psycopg.OperationalError as error:
                if not failed and outage is not None:
                    outage(error)
                failed = True
                if connection is not None:
                    connection.close()
                stop.wait(wait_s)
                continue
            if failed and outage is not None:
                outage(None)
            failed = False
            if held:
                break
            if not told and standing_by is not None:
                standing_by()
            told = True
            stop.wait(wait_s)
        yield held  # what the block raises goes to the caller
    finally:
        if connection is not None:
            connection.close()  # ends the session, and with it the lock


def try_lock(connection: Any, keys: tuple[int, int]) -> bool:
    """Take the session advisory lock ``keys`` on ``connection`` if it is free."""
    row = connection.execute("SELECT pg_try_advisory_lock(%s, %s)", keys).fetchone()
    return bool(row and row[0])
