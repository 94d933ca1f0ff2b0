"""Keeping the read models up to date from the event log, exactly once.

Each batch of events is applied and the position it reached is written in the same
transaction of the ledger's database, after locking the projection's state row and checking
that nobody moved it meanwhile: a crash or a restart neither loses nor double-counts an event,
and two processes catching up at once cannot both apply the same batch.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.storage.availability import database_errors, is_unavailable
from ledger.storage.log import log_tables, log_tables_of
from ledger.storage.sql import ViewStore
from projections.balances.reader import BalancesReader, KeptLines
from projections.balances.schema import LAYOUT, NAME, BalancesSchema
from projections.events import TOPICS, check_mapper, decode
from projections.generations import (
    Leftover,
    RebuildRefused,
    follow_lock,
    generation_tables,
    rebuild_lock,
)
from projections.tree import Trees

if TYPE_CHECKING:
    from ledger.application import BudgetLedger
    from projections.balances.writer import BalancesWriter

BATCH_EVENTS_MAX = 2000
# A rebuild fills tables nobody reads yet, so it takes bigger bites: fewer statements and
# transactions per event, and each COPY long enough for the server to keep pace.
REBUILD_BATCH_EVENTS_MAX = 20_000
READ_TOPICS = sorted(TOPICS)
STATE = "projection_state"
# PostgreSQL's SQLSTATE for a statement the role may not run (psycopg's InsufficientPrivilege).
INSUFFICIENT_PRIVILEGE = "42501"

Progress = Callable[[int, int], None]


class NotReady(Exception):
    """A replica's read models cannot answer yet (the primary has not made them)."""


@dataclass(frozen=True)
class ReadModelState:
    """Where the active read model stood against the log's head, read in one statement."""

    generation: int
    position: int
    head: int

    @property
    def current(self) -> bool:
        return self.position >= self.head

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> ReadModelState:
        """From the first three columns of a row of ``Projections.state_statement``."""
        return cls(int(row[0]), int(row[1]), int(row[2] or 0))


class Projections:
    """The balances read model of one ledger database: its state, catch-up and rebuild."""

    def __init__(
        self,
        ledger: BudgetLedger | Callable[[], BudgetLedger],
        database: str,
        *,
        store: ViewStore | None = None,
        kept_lines: KeptLines | None = None,
        read_only: bool = False,
    ) -> None:
        """The read models of ``database``, through ``store`` if given (a process shares one
        store between its threads; it stays open after ``close()``), else a store of their
        own. ``budget-ledger init`` makes the tables through here; a reader finds them made
        and creates nothing, but on a database made before init did so, or by an older
        layout, the first reader makes what is missing, one process at a time.

        ``ledger``: the ledger, or how to open it when first needed (``Services``): a read
        of read models that are up to date needs none of it, and so does not load the
        library's application nor the domain's classes (decisions §28). ``read_only``: a
        replica's, which never writes (NotReady if the primary has not made the read
        models of this layout yet)."""
        if not callable(ledger):
            check_mapper(ledger.mapper)
        self._ledger = ledger
        self._own_store = store is None
        self.store = store if store is not None else ViewStore(database)
        self.read_only = read_only
        if self._needs_start():
            if read_only:
                raise NotReady(
                    "its read models are not of this version's layout yet: the primary makes "
                    "them (run 'budget-ledger projections follow' on it)"
                )
            with self.store.schema_change():
                self.store.execute(
                    f"CREATE TABLE IF NOT EXISTS {STATE} (name TEXT NOT NULL,"
                    " generation INTEGER NOT NULL, position BIGINT NOT NULL, recorded_at TEXT,"
                    " active INTEGER NOT NULL, PRIMARY KEY (name, generation))"
                )
                if self.store.postgres:  # catching up waits until the new generation is in
                    self.store.execute(f"LOCK TABLE {STATE} IN SHARE ROW EXCLUSIVE MODE")
                if self._needs_start():
                    self._start_over()
        self._readers: dict[int, BalancesReader] = {}
        # The lines' answers kept at a log position: the process's, when it gives them.
        self.kept_lines = kept_lines if kept_lines is not None else KeptLines()
        # Holders' lives and trees the reads of this process walked (see Trees).
        self.trees = Trees()
        self._writers: dict[int, BalancesWriter] = {}
        # The active generation as a caller last read it (``use``), so that its queries do
        # not each read it again; None: read it when asked.
        self.generation_in_use: int | None = None
        # The log position it was current at, as that caller read it (None: not known).
        self.position_in_use: int | None = None

    @property
    def ledger(self) -> BudgetLedger:
        """The ledger whose log the read models follow, opened on first use if given so."""
        if callable(self._ledger):
            self._ledger = self._ledger()
            check_mapper(self._ledger.mapper)
        return self._ledger

    def close(self) -> None:
        if self._own_store:
            self.store.close()

    # -- State -----------------------------------------------------------------------------

    def active_generation(self) -> int:
        row = self.store.one(
            f"SELECT generation FROM {STATE} WHERE name = ? AND active = 1", (NAME,)
        )
        assert row is not None, "the balances projection has no active generation"
        return int(row[0])

    def reader(self, generation: int | None = None) -> BalancesReader:
        """The queries of a generation (the one in use, else the active one)."""
        generation = generation or self.generation_in_use or self.active_generation()
        if generation not in self._readers:
            self._readers[generation] = BalancesReader(self.store, generation, self.kept_lines)
        return self._readers[generation]

    def writer(self, generation: int | None = None) -> BalancesWriter:
        """The writer of a generation (the one in use, else the active one), kept with what
        it holds in memory between catch-ups."""
        generation = generation or self.generation_in_use or self.active_generation()
        if generation not in self._writers:
            # Imported by the first catch-up: it folds the movements' postings with the
            # domain's classes, which a read of up-to-date read models does not load.
            from projections.balances.writer import BalancesWriter

            self._writers[generation] = BalancesWriter(self.store, generation)
        return self._writers[generation]

    def status(self) -> list[dict[str, Any]]:
        """Each generation of the read models: its state (``active``, or ``being rebuilt``
        while a rebuild holds the lock), the log position it reached, the log's head, and how
        many events it has still to read (positions have gaps: PostgreSQL's sequence keeps
        the values rolled-back writes took). When no rebuild is running, generations left by
        a rebuild that died are removed first and listed as found, after the others."""
        with rebuild_lock(self.store.database) as free:
            removed: list[Leftover] = []
            kept = "being rebuilt"
            if free and (self.read_only or self.store.in_recovery()):
                kept = (
                    "left by an interrupted rebuild: not removed (a standby; the primary's "
                    "status removes them)"
                )
            elif free:
                kept = "left by an interrupted rebuild: not removed (owned by another role)"
                try:
                    removed = self._remove_leftovers()
                except Exception as error:
                    # A hardened application role; the tables' owner's status removes them.
                    if getattr(error, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
                        raise
            generations = self.store.execute(
                f"SELECT name, generation, position, active FROM {STATE} ORDER BY name, generation"
            )
            tables = generation_tables(self.store, NAME)
        head = self.ledger.head_position()
        rows = [
            {
                "name": name,
                "generation": generation,
                "active": bool(active),
                "state": "active" if active else kept,
                "position": position,
                "head": head,
                "behind": self._events_after(int(position)),
                "tables": len(tables.get(int(generation), [])),
            }
            for name, generation, position, active in generations
        ]
        return rows + [
            {
                "name": NAME,
                "generation": leftover.generation,
                "active": False,
                "state": "removed: left by an interrupted rebuild",
                "position": leftover.position,
                "head": head,
                "behind": None,
                "tables": len(leftover.tables),
            }
            for leftover in removed
        ]

    def _events_after(self, position: int) -> int:
        """How many events the log holds after ``position``: an index range count."""
        tables = log_tables(self.ledger.recorder)
        row = self.store.one(
            f"SELECT count(*) FROM {tables.events} WHERE {tables.position} > ?", (position,)
        )
        return int(row[0]) if row else 0

    def _remove_leftovers(self) -> list[Leftover]:
        """With the rebuild lock held, so that no rebuild is running: drop every generation
        no reader uses, in one transaction. Readers use the active generation only, so that
        is every other: one whose rebuild died before switching (its state row says
        inactive) or after switching but before dropping the old tables (no state row)."""
        found = generation_tables(self.store, NAME)
        leftovers = []
        with self.store.transaction():
            if self.store.postgres:  # as in __init__: one process changes the states at once
                self.store.execute(f"LOCK TABLE {STATE} IN SHARE ROW EXCLUSIVE MODE")
            states = {
                int(generation): (int(position), bool(active))
                for generation, position, active in self.store.execute(
                    f"SELECT generation, position, active FROM {STATE} WHERE name = ?", (NAME,)
                )
            }
            for generation in sorted(set(found) | set(states)):
                position, active = states.get(generation, (None, False))
                if active:
                    continue
                for table in found.get(generation, []):
                    self.store.execute(f"DROP TABLE IF EXISTS {table}")
                self.store.execute(
                    f"DELETE FROM {STATE} WHERE name = ? AND generation = ?", (NAME, generation)
                )
                self._forget(generation)
                leftovers.append(Leftover(generation, position, found.get(generation, [])))
        return leftovers

    def state_statement(self) -> str:
        """One row, without a lock: the active generation, its position and the log's
        head (other statements may be joined to it, so that a reader pays one round trip)."""
        head = log_tables_of(self.store.database).head_statement
        return (
            f"SELECT generation, position, ({head}) FROM {STATE}"
            f" WHERE name = '{NAME}' AND active = 1"
        )

    def state(self) -> ReadModelState:
        row = self.store.one(self.state_statement())
        assert row is not None, "the balances projection has no active generation"
        return ReadModelState.of(row)

    def use(self, state: ReadModelState | None) -> None:
        """Serve the next reads from the generation that ``state`` found active, reading
        no more state until the next ``use``; ``None``: read it on each ``reader()``.
        A reader calls it once per request, with the state read for that request. A
        replica's read models answer at their position, current or not (they never catch
        up: the primary's do, and replication brings them)."""
        self.generation_in_use = state.generation if state is not None else None
        served = state is not None and (state.current or self.read_only)
        self.position_in_use = state.position if state is not None and served else None

    def _needs_start(self) -> bool:
        """True when there is no state table or no active generation, or the active one was
        built with another layout."""
        if not self.store.table_exists(STATE):
            return True
        row = self.store.one(
            f"SELECT generation FROM {STATE} WHERE name = ? AND active = 1", (NAME,)
        )
        return row is None or BalancesSchema(self.store, int(row[0])).layout() != LAYOUT

    def _start_over(self) -> None:
        """Make a new, empty generation active and drop every other: the next catch-up
        fills it from the log (the tables of another layout cannot be read)."""
        generations = [
            int(generation)
            for (generation,) in self.store.execute(
                f"SELECT generation FROM {STATE} WHERE name = ?", (NAME,)
            )
        ]
        new = max(generations, default=0) + 1
        self._start_generation(new, active=True)
        for generation in generations:
            self.store.execute(
                f"DELETE FROM {STATE} WHERE name = ? AND generation = ?", (NAME, generation)
            )
            BalancesSchema(self.store, generation).drop()

    def _start_generation(self, generation: int, *, active: bool, indexed: bool = True) -> None:
        schema = BalancesSchema(self.store, generation)
        schema.drop()
        schema.create(indexed=indexed)
        self.store.execute(
            f"DELETE FROM {STATE} WHERE name = ? AND generation = ?", (NAME, generation)
        )
        self.store.execute(
            f"INSERT INTO {STATE} (name, generation, position, recorded_at, active)"
            " VALUES (?, ?, 0, NULL, ?)",
            (NAME, generation, int(active)),
        )

    # -- Catching up -----------------------------------------------------------------------

    def catch_up(
        self,
        generation: int | None = None,
        progress: Progress | None = None,
        *,
        batch_events_max: int | None = None,
    ) -> int:
        """Apply every event after the generation's position; returns how many were read.

        The cyclic garbage collector is paused meanwhile. A writer holds millions of
        small tuples after a long catch-up, and the collector scanned them again and again:
        a 1,000,000-event rebuild ran at 9,800 events/s with it and 17,800 without. The fold
        makes no reference cycles; what the libraries make is collected once it resumes."""
        assert not self.read_only, "a replica's read models are brought by replication"
        writer = self.writer(generation)
        limit = batch_events_max or BATCH_EVENTS_MAX
        read = 0
        collecting = gc.isenabled()
        gc.disable()
        try:
            while True:
                done = self._batch(writer, progress, limit)
                if done == 0:
                    return read
                read += done
        finally:
            if collecting:
                gc.enable()

    def _batch(self, writer: BalancesWriter, progress: Progress | None, limit: int) -> int:
        lock = " FOR UPDATE" if self.store.postgres else ""
        try:
            with self.store.transaction():
                row = self.store.one(
                    f"SELECT position FROM {STATE} WHERE name = ? AND generation = ?" + lock,
                    (NAME, writer.generation),
                )
                assert row is not None
                if writer.position != int(row[0]):
                    writer.forget()  # new, restarted, or another process moved it
                    writer.complete = int(row[0]) == 0
                read = self._apply_next(writer, int(row[0]), limit)
        except BaseException:
            writer.forget()
            raise
        if read and progress is not None:
            progress(writer.position or 0, self.ledger.head_position())
        return read

    def _apply_next(self, writer: BalancesWriter, position: int, limit: int) -> int:
        """Inside the caller's transaction: apply the next batch of at most ``limit`` events
        after ``position`` and record the position reached. Returns how many were read."""
        if writer.clock is None:
            row = self.store.one(
                f"SELECT recorded_at FROM {STATE} WHERE name = ? AND generation = ?",
                (NAME, writer.generation),
            )
            writer.clock = str(row[0]) if row and row[0] else None
        # Only the events the read model uses are read (a movement's own event, the largest,
        # is not). Everything up to the head read first is committed (writers commit in id
        # order), so when a batch comes back short the position can move to that head.
        head = self.ledger.head_position()
        if head <= position:
            writer.position = position
            return 0
        rows = self._read(position, head, limit)
        writer.apply(decode(*row) for row in rows)
        reached = rows[-1][0] if len(rows) == limit else head
        self.store.execute(
            f"UPDATE {STATE} SET position = ?, recorded_at = ? WHERE name = ? AND generation = ?",
            (reached, writer.clock, NAME, writer.generation),
        )
        writer.position = reached
        return reached - position

    def _read(self, position: int, head: int, limit: int) -> list[tuple[Any, ...]]:
        """(position, originator id as text, topic, state) of the next ``limit`` events of
        READ_TOPICS after ``position``, up to ``head``. The library's select_notifications
        does the same but builds a dict and an object per row and formats each UUID in
        Python: about a tenth of a rebuild (cProfile, 100,000 events)."""
        tables = log_tables(self.ledger.recorder)
        originator = "originator_id::text" if tables.postgres else "originator_id"
        marks = ", ".join("?" for _ in READ_TOPICS)
        return self.store.execute(
            f"SELECT {tables.position}, {originator}, topic, state FROM {tables.events}"
            f" WHERE {tables.position} > ? AND {tables.position} <= ? AND topic IN ({marks})"
            f" ORDER BY {tables.position} LIMIT ?",
            (position, head, *READ_TOPICS, limit),
        )

    def follow(
        self,
        stop: threading.Event,
        *,
        wait_s_max: float = 1.0,
        outage: Callable[[BaseException | None], None] | None = None,
        standing_by: Callable[[], None] | None = None,
    ) -> None:
        """Keep the read models up to date until ``stop`` is set: on PostgreSQL woken by the
        NOTIFY every write sends (and at least every ``wait_s_max`` seconds, in case one is
        lost); on SQLite, which has no notifications, polling every ``wait_s_max`` seconds.

        One follower at a time, whichever process (a server's, ``projections follow``): on
        PostgreSQL it first takes the follow lock, standing by while another holds it
        (``standing_by`` is told), and takes over within ``wait_s_max`` once that one stops.
        Two followers would be correct (the state row's lock) but each would reload what
        the other moved.

        While the database does not answer it keeps trying (each try waits for a connection
        as long as the pool does, then ``wait_s_max`` more), listening again on a new
        connection once it answers; ``outage`` is told the error when the database stops
        answering and None when it answers again."""
        with follow_lock(
            self.store.database, stop, wait_s_max, outage=outage, standing_by=standing_by
        ) as leading:
            if leading:
                self._follow(stop, wait_s_max, outage)

    def _follow(
        self,
        stop: threading.Event,
        wait_s_max: float,
        outage: Callable[[BaseException | None], None] | None,
    ) -> None:
        failed = False
        while not stop.is_set():
            try:
                with self._notified(stop) as wait:
                    while not stop.is_set():
                        self.catch_up()
                        if failed and outage is not None:
                            outage(None)
                        failed = False
                        wait(wait_s_max)
            except database_errors() as error:
                if not is_unavailable(error):
                    raise
                if not failed and outage is not None:
                    outage(error)
                failed = True
                stop.wait(wait_s_max)

    @contextmanager
    def _notified(self, stop: threading.Event) -> Iterator[Callable[[float], object]]:
        """``wait(seconds)``: until the log's next NOTIFY (PostgreSQL) or ``stop`` is set,
        at most ``seconds``."""
        if self.store.postgres:
            with self.store.listening(f"{self.ledger.name.lower()}_events") as wait:
                yield wait
        else:
            yield stop.wait

    # -- Rebuilding ------------------------------------------------------------------------

    def rebuild(
        self,
        progress: Progress | None = None,
        *,
        batch_events_max: int | None = None,
        removed: Callable[[Leftover], None] | None = None,
    ) -> int:
        """Build a new generation from position zero while readers keep reading the active
        one; switch readers to it in one transaction once it has caught up; drop the old.

        It holds the rebuild lock throughout (``RebuildRefused`` if another process holds
        it), and first removes what rebuilds that died left (each passed to ``removed``)."""
        with rebuild_lock(self.store.database) as free:
            if not free:
                raise RebuildRefused(
                    "another rebuild is running on this database; nothing was changed: wait "
                    "for it to finish (projections status shows how far it got)"
                )
            for leftover in self._remove_leftovers():
                if removed is not None:
                    removed(leftover)
            return self._rebuild(progress, batch_events_max)

    def _rebuild(self, progress: Progress | None, batch_events_max: int | None) -> int:
        old = self.active_generation()
        row = self.store.one(f"SELECT max(generation) FROM {STATE} WHERE name = ?", (NAME,))
        assert row is not None
        new = int(row[0]) + 1
        with self.store.transaction():
            self._start_generation(new, active=False, indexed=False)
        self.catch_up(new, progress, batch_events_max=batch_events_max or REBUILD_BATCH_EVENTS_MAX)
        self.writer(new).index()
        with self.store.transaction():
            # The lock may have gone with its session (a PostgreSQL restart) and another
            # process's status removed this generation meanwhile: never switch to nothing.
            lock = " FOR UPDATE" if self.store.postgres else ""
            mine = f"SELECT 1 FROM {STATE} WHERE name = ? AND generation = ?" + lock
            if self.store.one(mine, (NAME, new)) is None:
                raise RebuildRefused(
                    f"generation {new} was removed while it ran (its lock was lost, as in a "
                    "database restart); readers still use the active one: run it again"
                )
            # What arrived during the rebuild, applied in the switching transaction.
            writer = self.writer(new)
            while self._apply_next(writer, writer.position or 0, BATCH_EVENTS_MAX):
                pass
            self.store.execute(
                f"UPDATE {STATE} SET active = CASE WHEN generation = ? THEN 1 ELSE 0 END"
                " WHERE name = ?",
                (new, NAME),
            )
            self.store.execute(
                f"DELETE FROM {STATE} WHERE name = ? AND generation <> ?", (NAME, new)
            )
        BalancesSchema(self.store, old).drop()
        self._forget(old)
        return new

    def _forget(self, generation: int) -> None:
        """Drop this process's reader and writer of a generation whose tables are gone."""
        self._readers.pop(generation, None)
        self._writers.pop(generation, None)
