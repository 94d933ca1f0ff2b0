"""Reading the log and its hash chain straight from the database, for ``verify``, ``digest``
and ``init`` (which chains the events of a ledger recorded before the chain existed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol
from uuid import UUID

from ledger.domain.limits import LOG_POSITION_MAX
from ledger.storage.chain import GENESIS, StoredRow, Verified, link, verify
from ledger.storage.log import log_tables

PAGE_ROWS = 5000


class Store(Protocol):
    """What is needed of a connection (ledger.storage.sql.ViewStore provides it)."""

    postgres: bool

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def table_exists(self, table: str) -> bool: ...


class Log:
    """The events table of one ledger and its chain."""

    def __init__(self, store: Store, recorder: Any) -> None:
        self.store = store
        tables = log_tables(recorder)
        position = tables.position
        self.events = (
            f"SELECT {position}, originator_id, originator_version, topic, state"
            f" FROM {tables.events} WHERE {position} > ? AND {position} <= ?"
            f" ORDER BY {position}"
        )
        self.last_event = f"SELECT max({position}) FROM {tables.events}"
        self.of_aggregate = (
            f"SELECT {position}, originator_version FROM {tables.events}"
            f" WHERE originator_id = ? ORDER BY {position}"
        )
        self.postgres = tables.postgres
        # On SQLite the caller's BEGIN IMMEDIATE takes the write lock.
        self.lock_statement = (
            f"LOCK TABLE {tables.events} IN EXCLUSIVE MODE" if tables.postgres else ""
        )
        self.chain_table = tables.chain

    def last_position(self) -> int:
        """The last position either the events or the chain reach, read in one statement:
        writes committed later are beyond it on both sides (an event and its chain entry
        commit together), so reading both up to it never sees a write half."""
        row = self.store.execute(
            f"SELECT ({self.last_event}), (SELECT max(position) FROM {self.chain_table})"
        )[0]
        return max(int(row[0] or 0), int(row[1] or 0))

    def rows(
        self,
        after: int = 0,
        stop: int = LOG_POSITION_MAX,
        reached: Callable[[int], None] | None = None,
    ) -> Iterator[StoredRow]:
        """Every stored event after ``after`` up to ``stop``, in log order, page by page;
        ``reached`` is given the last position of each page once it is read."""
        while True:
            page = self.store.execute(f"{self.events} LIMIT {PAGE_ROWS}", (after, stop))
            for position, aggregate_id, version, topic, state in page:
                if not isinstance(aggregate_id, UUID):
                    aggregate_id = UUID(str(aggregate_id))
                yield StoredRow(int(position), aggregate_id, int(version), topic, _bytes(state))
            if reached is not None and page:
                reached(int(page[-1][0]))
            if len(page) < PAGE_ROWS:
                return
            after = int(page[-1][0])

    def chain(self, after: int = 0, stop: int = LOG_POSITION_MAX) -> Iterator[tuple[int, bytes]]:
        while True:
            page = self.store.execute(
                f"SELECT position, digest FROM {self.chain_table} WHERE position > ?"
                f" AND position <= ? ORDER BY position LIMIT {PAGE_ROWS}",
                (after, stop),
            )
            for position, digest in page:
                yield int(position), bytes(digest)
            if len(page) < PAGE_ROWS:
                return
            after = int(page[-1][0])

    def positions_of(self, aggregate_id: UUID) -> list[tuple[int, int]]:
        """(log position, version) of each event of one aggregate, in log order."""
        # The library stores a UUID as 32 hex digits in SQLite, as a uuid in PostgreSQL.
        key: Any = aggregate_id if self.postgres else aggregate_id.hex
        rows = self.store.execute(self.of_aggregate, (key,))
        return [(int(position), int(version)) for position, version in rows]

    def digest_at(self, position: int) -> bytes | None:
        """The chain's digest up to and including ``position`` (None: not chained)."""
        rows = self.store.execute(
            f"SELECT digest FROM {self.chain_table} WHERE position = ?", (position,)
        )
        return bytes(rows[0][0]) if rows else None

    def exists(self) -> bool:
        return self.store.table_exists(self.chain_table)

    def head(self) -> tuple[int, bytes]:
        """The chain's last (position, digest) as stored; (0, genesis) for an empty log."""
        rows = self.store.execute(
            f"SELECT position, digest FROM {self.chain_table} ORDER BY position DESC LIMIT 1"
        )
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else (0, GENESIS)

    def verify(
        self, positions: Sequence[int] = (), reached: Callable[[int], None] | None = None
    ) -> Verified:
        """Walk the whole log against its chain (``chain.verify``); ``reached(position)``
        is told how far the walk has got, a page at a time."""
        stop = self.last_position()
        rows = self.rows(stop=stop, reached=reached)
        return verify(rows, self.chain(stop=stop), positions=positions)

    def seal(self) -> int:
        """Chain the events recorded after the chain's last entry (a ledger from before the
        chain existed), inside the caller's transaction, under the lock writers take (no
        write slips between). Returns how many."""
        if self.lock_statement:
            self.store.execute(self.lock_statement)
        position, previous = self.head()
        links = []
        for row in self.rows(after=position):
            previous = link(
                previous, row.position, row.aggregate_id, row.version, row.topic, row.state
            )
            links.append((row.position, previous))
        for start in range(0, len(links), PAGE_ROWS):
            chunk = links[start : start + PAGE_ROWS]
            marks = ", ".join("(?, ?)" for _ in chunk)
            self.store.execute(
                f"INSERT INTO {self.chain_table} (position, digest) VALUES {marks}",
                [value for pair in chunk for value in pair],
            )
        return len(links)


def _bytes(value: Any) -> bytes:
    """A state as stored; text where someone wrote text into the column is hashed as UTF-8
    (it will not match the chain, and so is reported)."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)
