"""The SQLite event recorder: the library's, plus the hash chain (ledger/storage/chain.py).

Each event's digest is computed and stored in the transaction that stores the event. The
first insert takes SQLite's write lock, so no other writer can append between reading the
chain's last digest and writing the new ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from ledger.storage.chain import CHAIN_TABLE, GENESIS, link


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} "
            "(position INTEGER PRIMARY KEY, digest BLOB NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        assert positions is not None and len(positions) == len(stored_events)
        c.execute(f"SELECT position, digest FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
        row = c.fetchone()
        previous = bytes(row["digest"]) if row else GENESIS
        links = []
        for position, event in zip(positions, stored_events, strict=True):
            aggregate_id = event.originator_id
            if not isinstance(aggregate_id, UUID):
                aggregate_id = UUID(str(aggregate_id))
            previous = link(
                previous,
                position,
                aggregate_id,
                event.originator_version,
                event.topic,
                event.state,
            )
            links.append((position, previous))
        c.executemany(f"INSERT INTO {CHAIN_TABLE} (position, digest) VALUES (?, ?)", links)
        return positions

    def lock_in(self, cursor: SQLiteCursor) -> None:
        """Take SQLite's write lock for the rest of the caller's transaction (an import):
        a write that changes nothing holds it until the transaction ends."""
        cursor.execute(f"DELETE FROM {CHAIN_TABLE} WHERE position < 0")

    def insert_in(self, cursor: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> None:
        """Append inside the caller's transaction (an import: many batches, one commit)."""
        self._insert_events(cursor, stored_events)

    @contextlib.contextmanager
    def appending(self, cursor: SQLiteCursor) -> Iterator[Callable[[Sequence[StoredEvent]], None]]:
        """``append(stored_events)`` inside the caller's transaction: here each batch is
        appended at once (the chain is computed in Python, so a writer thread would only
        wait for the interpreter; see postgres.py's)."""
        yield lambda stored_events: self.insert_in(cursor, stored_events)
