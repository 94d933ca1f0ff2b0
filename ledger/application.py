"""``BudgetLedger``: the service layer. Each command reads the aggregates it needs, lets them
check their rules, and saves every resulting event in one transaction, or nothing."""

from __future__ import annotations

import collections
import contextlib
import contextvars
import hashlib
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    PersistenceError,
    StoredEvent,
    Transcoding,
)
from eventsourcing.utils import EnvType

from ledger.domain import limits
from ledger.domain.errors import (
    Busy,
    HolderEnded,
    InsufficientFunds,
    InvalidInput,
    InvariantViolation,
    LedgerError,
    MovementIdConflict,
    NoLedger,
    NotRelated,
    UnknownHolder,
    UnknownMovement,
)
from ledger.domain.holders import Holder, ancestors, check_depth, subtree_of, up_edges
from ledger.domain.lines import BudgetLine
from ledger.domain.movements import Disburse, Lapse, Movement, MovementRequest
from ledger.domain.programs import (
    BUILT_IN,
    BUILT_IN_ACTOR,
    Program,
    ProgramInfo,
    not_valid,
    parse_ratio,
    registry,
)
from ledger.domain.succession import check_alive, settle
from ledger.domain.values import (
    LineKey,
    check_code,
    check_level,
    check_program,
    check_text,
    check_year,
    holder_id,
    movement_aggregate_id,
    program_id,
    today_in_vietnam,
)
from ledger.storage import batch_reads, encoding
from ledger.storage.availability import is_unavailable
from ledger.storage.config import describe, is_postgres, persistence_environment
from ledger.storage.log import LEDGER_NAME
from ledger.storage.presence import check_sqlite_path, not_sqlite
from ledger.storage.repository import LedgerRepository

# A log position a long read has got to (a progress bar's callback; see cli/bars.py).
Reached = Callable[[int], None]

SCAN_PAGE_SIZE = 1000
HOLDER_TOPICS = [
    Holder.Registered.TOPIC,
    Holder.Moved.TOPIC,
    Holder.Renamed.TOPIC,
    Holder.Ended.TOPIC,
]
# Every event class of a line: an event class nested in BudgetLine, with its stable topic.
LINE_TOPICS = sorted(
    value.TOPIC
    for value in vars(BudgetLine).values()
    if isinstance(value, type) and hasattr(value, "TOPIC") and hasattr(value, "mutate")
)

# The event classes of lines and movements, whose fields are plain data: a batch's events of
# these classes are encoded by ledger/storage/encoding.py, byte for byte as the library would.
PLAIN_EVENTS = frozenset(
    value
    for owner in (BudgetLine, Movement)
    for value in vars(owner).values()
    if isinstance(value, type) and hasattr(value, "TOPIC") and hasattr(value, "mutate")
)

A = TypeVar("A")
# What each later event of a holder's life is called in ``holder_life``.
CHANGES: dict[type, str] = {Holder.Moved: "moved", Holder.Renamed: "renamed", Holder.Ended: "ended"}

# A batch (an import) plans many movements against aggregates held here, before saving any.


@dataclass(frozen=True)
class HolderInfo:
    code: str
    name: str
    level: str
    parent: str | None
    actor: str
    registered_at: datetime


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def utc_now() -> datetime:
    return datetime.now(UTC)


# Where a ledger takes the time each write records: the real clock (``utc_now``), or the
# demo's (``ledger.demo.clock``), the one caller that gives another (docs/decisions.md §20).
Clock = Callable[[], datetime]


def open_ledger(
    database: str, *, create: bool = False, check: bool = True, clock: Clock = utc_now
) -> BudgetLedger:
    """Open the ledger stored at ``database`` (a SQLite path or a postgresql:// URL).

    Only ``create=True`` (``budget-ledger init``, the demo) creates tables: concurrent
    ``CREATE TABLE IF NOT EXISTS`` from several processes can fail on PostgreSQL, and a typo
    in a path must not silently start an empty ledger. ``check``: read the log's head now, so
    that a database holding no ledger is refused here (NoLedger); a database that does not
    answer raises its error (see ledger.availability.is_unavailable). ``check=False`` opens without
    touching the database (a server worker, which must start while the database is down).
    ``clock``: see ``BudgetLedger.now``; only the demo gives one."""
    if not is_postgres(database):
        check_sqlite_path(database, create=create)
    env = persistence_environment(database)
    env["CREATE_TABLE"] = "yes" if create else "no"
    try:
        ledger = BudgetLedger(env=env, database=database, clock=clock)
    except sqlite3.DatabaseError as error:
        raise not_sqlite(database, error) from None
    if create:
        # A new ledger starts with its registry: the built-in programs, recorded.
        try:
            ledger.record_built_in_programs()
        except sqlite3.DatabaseError as error:
            ledger.close()
            raise not_sqlite(database, error) from None
        return ledger
    if not check:
        return ledger
    try:
        ledger.head_position()
    except sqlite3.DatabaseError as error:
        ledger.close()
        raise not_sqlite(database, error) from None
    except PersistenceError as error:
        ledger.close()
        if is_unavailable(error):
            raise
        raise NoLedger(
            f"{describe(database)} holds no ledger ({str(error).strip()})",
            field="database",
            database=database,
        ) from None
    return ledger


# The log position of the last event this context saved (None: none since ``forget_written``):
# what a write answers with (Ledger-Position), so that a read can ask for it.
_WRITTEN: contextvars.ContextVar[int | None] = contextvars.ContextVar("written", default=None)


def written_position() -> int | None:
    """The log position of the last event saved in this context since ``forget_written``."""
    return _WRITTEN.get()


def forget_written() -> None:
    """Start over: a server thread calls it as each request begins."""
    _WRITTEN.set(None)


# Set while a write runs as a dry run: every check runs, ``save`` records nothing.
_DRY_RUN: contextvars.ContextVar[bool] = contextvars.ContextVar("dry_run", default=False)


_W = TypeVar("_W")


def dry_runnable(write: Callable[..., _W]) -> Callable[..., _W]:
    """Give a write a ``dry_run`` keyword: with it, every check runs and nothing is saved."""

    def run(self: BudgetLedger, *args: Any, dry_run: bool = False, **kwargs: Any) -> _W:
        with self.dry(dry_run):
            return write(self, *args, **kwargs)

    run.__doc__ = write.__doc__
    run.__name__ = write.__name__
    return run


def check_actor(actor: str) -> str:
    text = check_text(actor, field="actor", length_max=limits.ACTOR_LENGTH_MAX, required=True)
    assert text is not None
    return text


class BudgetLedger(Application[UUID]):
    # Pinned: it names the PostgreSQL tables (ledger_events) and the environment prefix.
    name = LEDGER_NAME
    is_snapshotting_enabled = True
    env = {
        # Aggregates a process has read stay in memory, and each read brings its copy up to
        # the store's version with the events recorded since (one indexed query, usually
        # returning none or one): the cost of a command does not grow with history, and a
        # line another process wrote is not stale here. Without the fast-forward, with
        # several server processes, about half the writes read a stale line, failed the
        # store's version check and were planned again on a line replayed from its
        # snapshot. A stale read can still happen in a race; the version check refuses
        # its save and the command is retried (see record()).
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }

    def __init__(
        self, env: EnvType | None = None, *, database: str | None = None, clock: Clock = utc_now
    ) -> None:
        """``database``: where it is stored (a SQLite path or a postgresql:// URL, as
        ``open_ledger`` was given), None for a ledger in memory; the read models live in the
        same database. ``clock``: where ``now`` takes the time each write records."""
        super().__init__(env)
        self._database = database
        self._clock = clock
        # Programs never change: those found are kept here.
        self._programs: dict[str, ProgramInfo] = {}

    @property
    def database(self) -> str | None:
        return self._database

    @property
    def clock(self) -> Clock:
        """Where ``now`` takes the time (given when the ledger was opened; never changed)."""
        return self._clock

    def now(self) -> datetime:
        """The time a write records (its events' timestamp, which ``--known-at`` reads): the
        ledger's clock, never later than the real time. The clock is the real one except
        for the demo, whose builder sets the times the treasury would have confirmed its
        movements at (ledger/demo/clock.py); no command or request can set a recorded time,
        so an auditor can trust it (docs/decisions.md §20)."""
        at = self._clock()
        assert at.tzinfo is not None, "a recorded time is an aware time"
        return min(at.astimezone(UTC), utc_now())

    def last_recorded_at(self) -> datetime | None:
        """When the log's last event was recorded (None: the log is empty)."""
        head = self.head_position()
        if not head:
            return None
        [notification] = self.recorder.select_notifications(start=head, limit=1)
        at: datetime = getattr(self.mapper.to_domain_event(notification), "timestamp")  # noqa: B009
        return at

    def construct_repository(self) -> LedgerRepository:
        """The library's repository, as the library configures it, reading in fewer round
        trips and less Python (ledger/storage/repository.py)."""
        library = super().construct_repository()
        return LedgerRepository(
            event_store=library.event_store,
            snapshot_store=library.snapshot_store,
            cache_maxsize=getattr(library.cache, "maxsize", 0) if library.cache else None,
            fastforward=library.fastforward,
            fastforward_skipping=library.fastforward_skipping,
            deepcopy_from_cache=library.deepcopy_from_cache,
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- Holders ---------------------------------------------------------------------------

    @dry_runnable
    def register_holder(
        self,
        code: str,
        name: str,
        level: str,
        parent: str | None,
        *,
        actor: str,
        since: date | None = None,
    ) -> Holder:
        code = check_code(code, field="code")
        name_text = check_text(name, field="name", length_max=limits.NAME_LENGTH_MAX, required=True)
        assert name_text is not None
        level = check_level(level)
        parent_holder = self.get_holder(check_code(parent, field="parent")) if parent else None
        existing = self._find(Holder, holder_id(code))
        if existing is not None:
            # As first registered: a holder moved or renamed since is the same holder.
            same = (existing.names[0][1], existing.level, existing.placements[0][1]) == (
                name_text,
                level,
                parent_holder.code if parent_holder else None,
            ) and (since is None or since == existing.since)
            if same:
                return existing
            if existing.ended_on is not None:
                raise InvalidInput(
                    f"holder {code} ended on {existing.ended_on.isoformat()} into "
                    f"{existing.successor}; a code that ended is never registered again",
                    field="code",
                )
            raise InvalidInput(
                f"holder {code} is already registered as {existing.name!r} ({existing.level}, "
                f"under {existing.parent or 'nobody'}); codes are never reused",
                field="code",
            )
        if parent_holder is not None:
            if parent_holder.ended_on is not None or not parent_holder.begun_by(
                since or parent_holder.since or date.min
            ):
                raise HolderEnded(
                    f"holder {parent_holder.code} does not exist "
                    f"{'on ' + since.isoformat() if since else 'throughout'}; place {code} under "
                    "one that does",
                    field="parent",
                    code=parent_holder.code,
                )
            check_depth(ancestors(parent_holder.code, self.parent_of))
        holder = Holder.register(
            code,
            name_text,
            level,
            parent_holder,
            actor=check_actor(actor),
            recorded_at=self.now(),
            since=since,
        )
        try:
            self.save(holder)
        except IntegrityError:
            return self.register_holder(code, name, level, parent, actor=actor, since=since)
        return holder

    @dry_runnable
    def move_holder(
        self, code: str, parent: str, day: date, *, decision: str, actor: str
    ) -> Holder:
        """From ``day`` ``code`` (and its subtree) sits under ``parent``."""
        decision_text = self._decision(decision)
        holder = self.get_holder(check_code(code, field="code"))
        new_parent = self.get_holder(check_code(parent, field="parent"))
        if new_parent.ended_by(day) or not new_parent.begun_by(day):
            raise HolderEnded(
                f"holder {new_parent.code} does not exist on {day.isoformat()}",
                field="parent",
                code=new_parent.code,
            )
        if holder.code in ancestors(new_parent.code, self.parent_of):
            raise NotRelated(
                f"{new_parent.code} sits under {holder.code}; a holder cannot move below itself",
                field="parent",
            )
        check_depth(ancestors(new_parent.code, self.parent_of))
        holder.move(
            new_parent, day, decision=decision_text, actor=check_actor(actor), at=self.now()
        )
        self.save(holder)
        return holder

    @dry_runnable
    def rename_holder(
        self, code: str, name: str, day: date, *, decision: str, actor: str
    ) -> Holder:
        decision_text = self._decision(decision)
        name_text = check_text(name, field="name", length_max=limits.NAME_LENGTH_MAX, required=True)
        assert name_text is not None
        holder = self.get_holder(check_code(code, field="code"))
        holder.rename(
            name_text, day, decision=decision_text, actor=check_actor(actor), at=self.now()
        )
        self.save(holder)
        return holder

    @staticmethod
    def _decision(decision: str) -> str:
        text = check_text(
            decision, field="decision", length_max=limits.REFERENCE_LENGTH_MAX, required=True
        )
        assert text is not None
        return text

    def get_holder(self, code: str) -> Holder:
        """The holder as it stands in the store (read through the process's cache, brought up
        to the store's version: holders move, are renamed and end)."""
        holder = self._find(Holder, holder_id(code))
        if holder is None:
            raise UnknownHolder(f"no holder has code {code}", field="holder", code=code)
        return holder

    def parent_of(self, code: str) -> str | None:
        """The code of ``code``'s parent now (None for the root); UnknownHolder if none has it."""
        return self.get_holder(code).parent

    def within(self, code: str, scope: str, holders: dict[str, Holder] | None = None) -> bool:
        """Whether ``code`` is ``scope`` or lies below it at any time, or passed to it (or to a
        holder below it) by succession: what a token scoped to ``scope`` may read.
        ``holders``: every holder in hand (``holders()``), to ask of many codes at once."""
        get_holder = holders.__getitem__ if holders is not None else self.get_holder
        seen: set[str] = set()
        frontier = [get_holder(code).code]
        while frontier:
            current = frontier.pop()
            if current == scope:
                return True
            if current in seen:
                continue
            seen.add(current)
            holder = get_holder(current)
            above = {entry[1] for entry in holder.placements if entry[1] is not None}
            if holder.successor is not None:
                above.add(holder.successor)
            frontier.extend(above - seen)
        return False

    def holder_life(self, code: str, *, planned: Holder | None = None) -> dict[str, Any]:
        """One holder's life as recorded: its registration, each move, rename and its end
        (dated, with the decision), and its predecessors (the holders that ended into it).
        ``planned``: the holder as a dry run left it, its changes not saved: the life it
        would have."""
        holder = planned or self.get_holder(check_code(code, field="holder"))
        changes: list[dict[str, Any]] = []
        registered: dict[str, Any] = {}
        unsaved = list(planned.pending_events) if planned is not None else []
        for event in [*self.events.get(holder.id), *unsaved]:
            at = getattr(event, "timestamp")  # noqa: B009
            if isinstance(event, Holder.Registered):
                registered = {
                    "since": event.since,
                    "name": event.name,
                    "level": event.level,
                    "parent": event.parent,
                    "actor": event.actor,
                    "recorded_at": at,
                }
            elif isinstance(event, Holder.Moved | Holder.Renamed | Holder.Ended):
                change = CHANGES[type(event)]
                changes.append(
                    {
                        "change": change,
                        "effective_date": event.effective_date,
                        "parent": getattr(event, "parent", None),
                        "name": getattr(event, "name", None),
                        "successor": getattr(event, "successor", None),
                        "decision": event.decision,
                        "movement_id": getattr(event, "movement_id", None),
                        "actor": getattr(event, "actor", None) or self._succession_actor(event),
                        "recorded_at": at,
                    }
                )
        predecessors = []
        for other in sorted(self.holders().values(), key=lambda h: h.code):
            if other.successor != holder.code:
                continue
            ended = [e for e in self.events.get(other.id) if isinstance(e, Holder.Ended)][-1]
            predecessors.append(
                {
                    "code": other.code,
                    "name": other.name,
                    "ended_on": other.ended_on,
                    "decision": ended.decision,
                    "movement_id": ended.movement_id,
                }
            )
        return {
            "code": holder.code,
            "name": holder.name,
            "level": holder.level,
            "parent": holder.parent,
            "since": holder.since,
            "ended_on": holder.ended_on,
            "successor": holder.successor,
            "registered": registered,
            "changes": sorted(changes, key=lambda c: (c["effective_date"], c["recorded_at"])),
            "predecessors": predecessors,
        }

    def _succession_actor(self, event: Any) -> str | None:
        """Who recorded a holder's end: the actor of its succession (the end's own event
        names the movement, which names the actor)."""
        if not isinstance(event, Holder.Ended):
            return None
        movement = self._find(Movement, movement_aggregate_id(event.movement_id))
        return movement.actor if movement is not None else None

    def within_on(self, code: str, scope: str, day: date) -> bool:
        """Whether ``code`` sits at or below ``scope`` in the tree as it stood on ``day``:
        what a token scoped to ``scope`` may write effective that day. A holder ended by
        ``day`` is no longer there (its successor is), so it covers nothing below it from
        then (its own lines are its own; the ledger refuses them from its end)."""
        current: str | None = self.get_holder(code).code
        if current == scope:
            return True  # its own lines: the ledger says whether it still exists that day
        for _ in range(limits.HOLDER_DEPTH_MAX * 4):
            if current is None:
                return False
            holder = self.get_holder(current)
            if holder.ended_by(day) and holder.successor is not None:
                current = holder.successor
                continue
            if current == scope:
                return True
            current = holder.parent_on(day)
        raise InvariantViolation(f"the tree above {code} on {day.isoformat()} forms a cycle")

    def holders(self) -> dict[str, Holder]:
        """Every holder with its whole life (registration, moves, renames, end), by code, in
        one pass over the log."""
        found: dict[UUID, Any] = {}
        for notification in self._notifications(HOLDER_TOPICS):
            event: Any = self.mapper.to_domain_event(notification)
            found[event.originator_id] = event.mutate(found.get(event.originator_id))
        return {holder.code: holder for holder in found.values()}

    def holders_on(self, day: date, *, ended: bool = False) -> list[dict[str, Any]]:
        """The holders as they stood on ``day``, by code: each with its name then and the
        holder above it then (through successions, see ``up_edges``); ``ended``: also those
        ended by then, under the parent they last had, with their end and successor.
        Read from the log; ``holders list`` and ``GET /holders`` answer the same rows from
        the read model (``projections.queries.holders_on``), which a test holds to these."""
        found = self.holders()
        edges = up_edges(found, day)
        rows = []
        for code in sorted(found):
            holder = found[code]
            gone = holder.ended_by(day)
            if code not in edges or (gone and not ended):
                continue
            parent = edges[code]
            if gone:
                assert holder.ended_on is not None
                parent = holder.parent_on(holder.ended_on - timedelta(days=1))
            rows.append(
                {
                    "code": holder.code,
                    "name": holder.name_on(day),
                    "level": holder.level,
                    "parent": parent,
                    "since": holder.since,
                    "ended_on": holder.ended_on if gone else None,
                    "successor": holder.successor if gone else None,
                    "registered_at": holder.created_on,
                    "actor": holder.actor,
                }
            )
        return rows

    def tree_on(self, day: date) -> dict[str, str | None]:
        """The tree as it stood on ``day``, through successions (see ``up_edges``)."""
        return up_edges(self.holders(), day)

    def subtree(self, code: str, day: date | None = None) -> set[str]:
        """The codes of ``code`` and every holder below it on ``day`` (default today),
        predecessors included: an ended holder sits under its successor."""
        root = self.get_holder(check_code(code, field="holder")).code
        return subtree_of(self.tree_on(day or today_in_vietnam()).items(), root)

    def list_holders(self) -> list[HolderInfo]:
        holders = [
            HolderInfo(
                code=state["code"],
                name=state["name"],
                level=state["level"],
                parent=state["parent"],
                actor=state["actor"],
                registered_at=state["timestamp"],
            )
            for _, state in self._scan(Holder.Registered)
        ]
        return sorted(holders, key=lambda h: h.code)

    # -- Programs --------------------------------------------------------------------------

    @dry_runnable
    def register_program(
        self,
        code: str,
        name: str,
        from_year: int | str,
        to_year: int | str | None,
        decision: str,
        *,
        actor: str,
    ) -> tuple[ProgramInfo, bool]:
        """Register a program for plan years ``from_year`` to ``to_year`` (None: open-ended);
        returns it and whether it was recorded now. The same terms again record nothing;
        other terms under a registered code are refused (InvalidInput)."""
        asked = ProgramInfo.parse(code, name, from_year, to_year, decision)
        actor = check_actor(actor)
        existing = self.get_program(asked.code)
        if existing is not None:
            existing.check_same(asked)
            return existing, False
        program = Program.register(asked, actor=actor, recorded_at=self.now())
        try:
            self.save(program)
        except IntegrityError:  # registered meanwhile: the same, or refused
            return self.register_program(code, name, from_year, to_year, decision, actor=actor)
        return program.info, True

    def record_built_in_programs(self) -> int:
        """Record the built-in programs this ledger has not recorded (a new ledger's, or one
        made before the registry existed), all in one transaction; returns how many."""
        at = self.now()
        programs = [
            Program.register(terms, actor=BUILT_IN_ACTOR, recorded_at=at)
            for terms in BUILT_IN.values()
            if self._find(Program, program_id(terms.code)) is None
        ]
        if not programs:
            return 0
        try:
            self.save(*programs)
        except IntegrityError:  # another process recorded them meanwhile
            return 0
        return len(programs)

    def get_program(self, code: str) -> ProgramInfo | None:
        """The program with this code (a built-in one, recorded or not), or None. Kept once
        found, a built-in one not recorded too (its terms are the same recorded or not): a
        ledger made before the registry reads no store for its lines' programs."""
        program = self._programs.get(code)
        if program is None:
            found = self._find(Program, program_id(code))
            program = found.info if found is not None else BUILT_IN.get(code)
            if program is not None:
                self._programs[code] = program
        return program

    def list_programs(self) -> list[ProgramInfo]:
        recorded = (
            ProgramInfo(
                state["code"],
                state["name"],
                state["from_year"],
                state["to_year"],
                state["decision"],
                actor=state["actor"],
                registered_at=state["timestamp"],
            )
            for _, state in self._scan(Program.Registered)
        )
        return registry(recorded)

    @dry_runnable
    def set_counterpart_ratio(
        self, code: str, year: int | str, ratio: str | int | float, decision: str, *, actor: str
    ) -> tuple[int, bool]:
        """Record that program ``code`` asks, for plan year ``year``, local counterpart funds
        (NSĐP) of ``ratio`` percent of its central funds (NSTW); returns the ratio in
        hundredths of a percent and whether it was recorded now (the same ratio again records
        nothing). A built-in program not yet recorded is recorded first."""
        program_code = check_program(code, field="program")
        plan_year = check_year(year, field="year")
        ratio_bp = parse_ratio(ratio)
        decision_text = check_text(
            decision, field="decision", length_max=limits.REFERENCE_LENGTH_MAX, required=True
        )
        assert decision_text is not None
        actor = check_actor(actor)
        terms = self.get_program(program_code)
        if terms is None:
            raise not_valid(program_code, plan_year, None, self.list_programs())
        if not terms.valid_for(plan_year):
            raise InvalidInput(
                f"program {program_code} is valid for plan years {terms.years}, not {plan_year}",
                field="year",
            )
        self.record_built_in_programs()
        program = self._find(Program, program_id(program_code))
        if program is None:
            # A dry run saved no built-in program (a ledger made before the registry):
            # plan on the one the real write records first, its terms the built-in ones.
            program = Program.register(terms, actor=BUILT_IN_ACTOR, recorded_at=self.now())
        recorded = program.set_ratio(
            plan_year, ratio_bp, decision=decision_text, actor=actor, at=self.now()
        )
        if recorded:
            self.save(program)
        return ratio_bp, recorded

    def counterpart_ratios(self, year: int, known_at: datetime | None = None) -> dict[str, float]:
        """Each program's required counterpart ratio (percent) for plan year ``year``, as
        last recorded by ``known_at`` (now when None); programs with none are absent."""
        codes = {program_id(program.code): program.code for program in self.list_programs()}
        found: dict[str, float] = {}
        for _, state in self._scan(Program.RatioSet):
            if known_at is not None and state["timestamp"] > known_at:
                break
            if state["year"] == year:
                found[codes[state["originator_id"]]] = state["ratio_bp"] / 100
        return found

    def check_program(self, key: LineKey) -> None:
        """A line's program is registered for its plan year (ProgramNotValid otherwise)."""
        program = self.get_program(key.program)
        if program is None or not program.valid_for(key.year):
            raise not_valid(key.program, key.year, program, self.list_programs())

    # -- Dry runs --------------------------------------------------------------------------

    @contextlib.contextmanager
    def dry(self, dry_run: bool = True) -> Iterator[None]:
        """While in it (if ``dry_run``), every write plans and checks as usual against the
        store's current state, and ``save`` records nothing: the one place a dry run differs."""
        token = _DRY_RUN.set(dry_run or _DRY_RUN.get())
        try:
            yield
        finally:
            _DRY_RUN.reset(token)

    @property
    def is_dry_run(self) -> bool:
        return _DRY_RUN.get()

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        if _DRY_RUN.get():
            return []
        recordings = super().save(*objs, **kwargs)
        if recordings:
            _WRITTEN.set(max(r.notification.id for r in recordings))
        return recordings

    def preview(self, request: MovementRequest, *, actor: str) -> list[dict[str, Any]]:
        """What a movement would do to each line it touches, recording nothing: for each line,
        its available amount before and after at the end of the effective date and of every
        later date with a posting on the line (where a back-dated movement changes what was
        available). Refuses as ``record`` would."""
        planned = self._plan(request, check_actor(actor), self.now())
        day = request.effective_date
        shown: list[dict[str, Any]] = []
        for line in planned:
            if not isinstance(line, BudgetLine):
                continue
            before = self.get_line(line.key)
            days = {day} | {
                date.fromisoformat(key)
                for key in line.available_change_by_day
                if key >= day.isoformat()
            }
            shown.append(
                {
                    "line": line.key.as_dict(),
                    "dates": [
                        {
                            "date": d,
                            "before_vnd": before.available_on(d) if before is not None else 0,
                            "after_vnd": line.available_on(d),
                        }
                        for d in sorted(days)
                    ],
                }
            )
        return shown

    # -- Movements -------------------------------------------------------------------------

    @dry_runnable
    def record(self, request: MovementRequest, *, actor: str) -> tuple[dict[str, Any], bool]:
        """Record one movement whole, or refuse it and record nothing.

        Returns the receipt and whether it was a replay of a movement already recorded
        under the same id with the same content (then nothing new is recorded)."""
        actor = check_actor(actor)
        for attempt in range(limits.COMMAND_ATTEMPTS_MAX):
            recorded_at = self.now()
            try:
                # Every aggregate is read up to the store's version (see ``env``), so a
                # refusal is never made on a stale copy.
                aggregates = self._plan(request, actor, recorded_at)
            except LedgerError:
                prior = self._prior_receipt(request)
                if prior is not None:
                    return prior, True
                raise
            try:
                self.save(*aggregates)
            except IntegrityError:
                # Either the movement id was taken meanwhile, or another writer changed one
                # of the aggregates since it was read: look, then re-read and re-check.
                prior = self._prior_receipt(request)
                if prior is not None:
                    return prior, True
                _wait_before_retry(attempt)
                continue
            self._keep_lines(aggregates)
            movement = aggregates[0]
            assert isinstance(movement, Movement)
            return movement.receipt(), False
        raise Busy(
            f"the lines of movement {request.movement_id} kept changing under "
            f"{limits.COMMAND_ATTEMPTS_MAX} attempts; nothing was recorded, send it again"
        )

    def _prior_receipt(self, request: MovementRequest) -> dict[str, Any] | None:
        prior = self._find(Movement, request.aggregate_id)
        if prior is None:
            return None
        if prior.fingerprint != request.fingerprint():
            differing = ", ".join(prior.differences(request)) or "content"
            raise MovementIdConflict(
                f"movement id {request.movement_id} was already used on "
                f"{prior.recorded_at.isoformat()} by {prior.actor} for a different "
                f"{prior.action} (differs in: {differing}); choose a new id",
                field="movement_id",
            )
        return prior.receipt()

    def _plan(
        self,
        request: MovementRequest,
        actor: str,
        at: datetime,
        held: dict[UUID, Any] | None = None,
        line_keys: dict[str, set[LineKey]] | None = None,
    ) -> list[Any]:
        """Read, check and change the aggregates of one movement; save nothing. ``held``: a
        batch's own aggregates, read before the store's (see ``Batch``); ``line_keys``: a
        batch's index of every line by holder, if it read one."""
        books = _Books(self, held, actor, line_keys)
        day = request.effective_date
        check_alive(books, [key.holder for key in request.named_lines()], day)
        posted = request.post(books, at)
        if request.effects:  # a line movement's own lines (a reversal's is its payment's)
            check_alive(
                books, [line.key.holder for line in posted.lines[: len(request.effects)]], day
            )
        touched = [*posted.lines, *settle(books, posted.lines, request.movement_id, at)]
        touched = list({id(line): line for line in touched}.values())
        movement = self._movement(request, actor, posted.amount_vnd, touched, at)
        return [movement, *touched, *posted.others]

    @staticmethod
    def _movement(
        request: MovementRequest, actor: str, amount: int, touched: list[BudgetLine], at: datetime
    ) -> Movement:
        lines = [
            _line_entry(line, request.movement_id, default=index < len(request.effects))
            for index, line in enumerate(touched)
        ]
        return Movement.record(request, actor=actor, amount_vnd=amount, lines=lines, recorded_at=at)

    def batch(self) -> Batch:
        """A batch of movements planned in a row, each seeing the ones before, none saved
        (an import's; see ``Batch``)."""
        return Batch(self)

    def _mutate(self, aggregates: dict[UUID, Any], row: Any) -> None:
        """Apply a stored event (or snapshot), a row of the store, to the aggregate it is of."""
        event: Any = self.mapper.to_domain_event(
            StoredEvent(
                originator_id=UUID(str(row["originator_id"])),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
        )
        aggregates[event.originator_id] = event.mutate(aggregates.get(event.originator_id))

    def recorded_movements(self, aggregate_ids: list[UUID]) -> dict[UUID, Movement]:
        """Which of these movements have been recorded, each as first recorded (what was
        asked, its fingerprint; not its later reversals): one query for the lot."""
        movements: dict[UUID, Any] = {}
        for row in batch_reads.first_events(self.recorder, aggregate_ids):
            self._mutate(movements, row)
        assert all(isinstance(m, Movement) for m in movements.values())
        return movements

    def to_stored_events(self, events: list[Any]) -> list[StoredEvent]:
        return encoding.to_stored_events(self.mapper, events, PLAIN_EVENTS)

    def snapshot(self, lines: list[BudgetLine]) -> None:
        """Snapshot these lines as they stand in hand (after a batch recorded them)."""
        assert self.snapshots is not None
        self.snapshots.put([Snapshot.take(line) for line in lines])

    @dry_runnable
    def close_year(self, year: int, day: date, *, actor: str) -> list[dict[str, Any]]:
        """Lapse, on ``day``, what every line of plan year ``year`` can no longer pay: all of
        a line past its deadline, the part not extended of an extended one. All the lapses
        are saved in one transaction; a line with nothing to lapse is left alone."""
        actor = check_actor(actor)
        for attempt in range(limits.COMMAND_ATTEMPTS_MAX):
            at = self.now()
            aggregates = self._plan_close_year(year, day, actor, at)
            if not aggregates:
                return []
            try:
                self.save(*aggregates)
            except IntegrityError:
                _wait_before_retry(attempt)
                continue
            self._keep_lines(aggregates)
            return [a.receipt() for a in aggregates if isinstance(a, Movement)]
        raise Busy(f"lines of {year} kept changing; nothing was lapsed, run close-year again")

    def _plan_close_year(self, year: int, day: date, actor: str, at: datetime) -> list[Any]:
        aggregates: list[Any] = []
        books = _Books(self, None, actor)
        for key in self.list_line_keys(year=year):
            if key.base_deadline > day or books.holder(key.holder).ended_on is not None:
                # A holder that ended passed its lines on whole, their extensions with them:
                # what they could no longer pay lapses on its successor's lines.
                continue
            request = Lapse(
                movement_id=_close_year_movement_id(key, day),
                effective_date=day,
                line=key,
                note=f"close-year {year} on {day.isoformat()}",
            )
            if books.movement(request.movement_id) is not None:
                continue  # lapsed by close-year on this day already
            line = books.existing_line(key)
            if line.lapsable_vnd(day) <= 0:
                continue
            amount = line.lapse(request.movement_id, day, at)
            touched = [line]
            aggregates += [self._movement(request, actor, amount, touched, at), *touched]
        return list({id(aggregate): aggregate for aggregate in aggregates}.values())

    # -- Queries ---------------------------------------------------------------------------

    def get_line(self, key: LineKey) -> BudgetLine | None:
        return self._find(BudgetLine, key.line_id)

    def get_movement(self, movement_id: str) -> Movement:
        movement = self._find(Movement, movement_aggregate_id(movement_id))
        if movement is None:
            raise UnknownMovement(f"no movement has id {movement_id}", field="movement_id")
        return movement

    def list_line_keys(self, **filters: Any) -> list[LineKey]:
        """The lines that exist, optionally filtered on any identity field."""
        keys = []
        for _, state in self._scan(BudgetLine.Opened):
            key = LineKey(
                state["program"],
                state["kind"],
                state["source"],
                state["year"],
                state["holder"],
                state["project"],
            )
            if all(value is None or getattr(key, name) == value for name, value in filters.items()):
                keys.append(key)
        return sorted(keys, key=lambda key: key.order)

    def list_lines(self, **filters: Any) -> list[BudgetLine]:
        lines = [self.get_line(key) for key in self.list_line_keys(**filters)]
        return [line for line in lines if line is not None]

    def replay_lines(self, reached: Reached | None = None) -> list[BudgetLine]:
        """Every line rebuilt from its own stored events in one pass over the log: no
        snapshot, no cache, one sequential read however many lines (verify and check use it:
        loading each line through the repository costs a query or two per line).
        ``reached(position)`` is told how far the pass has got, a page at a time."""
        lines: dict[UUID, BudgetLine] = {}
        for notification in self._notifications(LINE_TOPICS, reached):
            event: Any = self.mapper.to_domain_event(notification)
            line = lines.get(event.originator_id)
            # An event removed from the log behind the ledger's back (verify says where):
            # the line is replayed past it, so that check compares what is left with the
            # journal and names the line, instead of stopping at the gap.
            if line is None and not isinstance(event, BudgetLine.Opened):
                continue  # its opening is gone: check names it, from the journal
            if line is not None and event.originator_version != line.version + 1:
                line.version = event.originator_version - 1
            line = event.mutate(line)
            assert isinstance(line, BudgetLine)
            lines[event.originator_id] = line
        return sorted(lines.values(), key=lambda line: line.key.order)

    def journal(self, reached: Reached | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every recorded movement in log order, as (position, event state);
        ``reached(position)`` is told how far the read has got, a page at a time."""
        yield from self._scan(Movement.Recorded, reached)

    def head_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def audit_feed(self, after: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """The log's head, and at most ``limit`` stored events after position ``after`` in
        log order (the audit feed): each its position, topic, aggregate, version, recording
        time and the event's own fields (``data``). Not named ``events``, as the issue put it:
        that is the library's event store on every ``Application``."""
        head = self.head_position()
        if after >= head:
            return head, []
        found = []
        for notification in self.recorder.select_notifications(
            start=after + 1, limit=limit, stop=head
        ):
            event: Any = self.mapper.to_domain_event(notification)
            data = {
                name: value
                for name, value in event.__dict__.items()
                if name not in ("originator_id", "originator_version", "timestamp")
            }
            found.append(
                {
                    "position": notification.id,
                    "topic": notification.topic,
                    "aggregate_id": str(notification.originator_id),
                    "aggregate_version": notification.originator_version,
                    "recorded_at": getattr(event, "timestamp"),  # noqa: B009
                    "data": data,
                }
            )
        return head, found

    # -- Helpers ---------------------------------------------------------------------------

    def _scan(
        self, event_class: type, reached: Reached | None = None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        topic = event_class.TOPIC  # type: ignore[attr-defined]
        for notification in self._notifications([topic], reached):
            event = self.mapper.to_domain_event(notification)
            state = dict(event.__dict__)
            state["timestamp"] = getattr(event, "timestamp")  # noqa: B009
            yield notification.id, state

    def _notifications(self, topics: list[str], reached: Reached | None = None) -> Iterator[Any]:
        """The stored events with these topics, in log order, a page at a time; once a
        page is read, ``reached`` is given the last position in it."""
        start = 1
        while True:
            page = self.recorder.select_notifications(
                start=start, limit=SCAN_PAGE_SIZE, topics=topics
            )
            yield from page
            if reached is not None and page:
                reached(page[-1].id)
            if len(page) < SCAN_PAGE_SIZE:
                return
            start = page[-1].id + 1

    def _find(
        self, cls: type[A], aggregate_id: UUID, held: dict[UUID, Any] | None = None
    ) -> A | None:
        """Read an aggregate: this process's cached copy brought up to the store's version
        (see ``env``), or a batch's own copy (``held``), which then keeps what is read."""
        if held is not None and aggregate_id in held:
            found = held[aggregate_id]
            assert isinstance(found, cls), (aggregate_id, type(found))
            return found
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(aggregate, cls), (aggregate_id, type(aggregate))
        if held is not None:
            held[aggregate_id] = aggregate
        return aggregate

    def _existing_line(self, key: LineKey, held: dict[UUID, Any] | None = None) -> BudgetLine:
        line = self._find(BudgetLine, key.line_id, held)
        if line is None:
            self.get_holder(key.holder)
            self.check_program(key)
            raise InsufficientFunds(
                f"line {key.label} has never received money; allocate or adjust it first",
                field="amount_vnd",
            )
        return line

    def _line_or_open(
        self, key: LineKey, at: datetime, held: dict[UUID, Any] | None = None
    ) -> BudgetLine:
        line = self._find(BudgetLine, key.line_id, held)
        if line is None:
            self.get_holder(key.holder)
            self.check_program(key)
            line = BudgetLine.open(key, recorded_at=at)
            if held is not None:  # opened once, however often the movement asks for it
                held[key.line_id] = line
        return line

    def _keep_lines(self, aggregates: list[Any]) -> None:
        """After a save, from the lines in hand (no re-read): snapshot a line every
        LINE_SNAPSHOT_INTERVAL events, and put each line in this process's cache as saved.

        The library caches a line as last read, not as saved, when it fast-forwards: the next
        command on the line would fetch and replay this process's own write. Kept as saved,
        the fast-forward fetches only what other processes wrote since (usually nothing). A
        line is put only if newer than the cached copy, and is not changed after this (the
        cache's copy is fast-forwarded in place by later reads, under the library's lock).
        Only lines: they are what later commands read again (a movement is read again only
        by a reversal or a replay), and movements would push lines out of the cache."""
        if _DRY_RUN.get():
            return
        assert self.snapshots is not None
        cache = self.repository.cache  # None when AGGREGATE_CACHE_MAXSIZE is set empty
        for aggregate in aggregates:
            if not isinstance(aggregate, BudgetLine):
                continue
            assert not aggregate.pending_events, "kept only once saved"
            # A line's version grows by one per command (two when a command opens it, from
            # 0 to 2), so it passes through every multiple of the interval.
            if aggregate.version % limits.LINE_SNAPSHOT_INTERVAL == 0:
                self.snapshots.put([Snapshot.take(aggregate)])
            if cache is None:
                continue
            try:
                cached_version = cache.get(aggregate.id).version
            except KeyError:
                cached_version = 0
            # Two threads may race here; the loser leaves an older copy, which the next
            # read's fast-forward brings up to date: never a wrong one.
            if cached_version < aggregate.version:
                cache.put(aggregate.id, aggregate)


class _Books:
    """What a movement reads (``ledger.domain.movements.Books``), from this ledger: each
    aggregate up to the store's version, or a batch's own copy (``held``)."""

    def __init__(
        self,
        ledger: BudgetLedger,
        held: dict[UUID, Any] | None = None,
        actor: str = "",
        line_keys: dict[str, set[LineKey]] | None = None,
    ) -> None:
        self.ledger = ledger
        # Every line's key by holder, read once by a batch (``Batch.index_lines``), or None:
        # each succession then scans the keys of every line in the log.
        self.line_keys = line_keys
        # The aggregates this movement read: a line it touches twice (a succession passing
        # two holders' lines to one) is one object. A batch's own held aggregates, if any.
        self.held: dict[UUID, Any] = held if held is not None else {}
        self.actor = actor
        # The holders this movement read or registered (``registered``), each read once.
        self.holders: dict[str, Holder] = {}
        self.registered: set[str] = set()

    def holder(self, code: str) -> Holder:
        found = self.holders.get(code)
        if found is None:
            found = self.ledger._find(Holder, holder_id(code), self.held)
            if found is None:
                raise UnknownHolder(f"no holder has code {code}", field="holder", code=code)
            self.holders[code] = found
        return found

    def parent_on(self, code: str, day: date) -> str | None:
        parent = self.holder(code).parent_on(day)
        for _ in range(limits.HOLDER_DEPTH_MAX * 4):
            if parent is None:
                return None
            above = self.holder(parent)
            if not above.ended_by(day) or above.successor is None:
                return parent
            parent = above.successor
        raise InvariantViolation(f"the successions above {code} form a cycle")

    def new_holder(
        self, code: str, name: str, level: str, parent: str, *, since: date, at: datetime
    ) -> Holder:
        parent_holder = self.holder(parent)
        if parent_holder.ended_by(since) or not parent_holder.begun_by(since):
            raise HolderEnded(
                f"holder {parent} does not exist on {since.isoformat()}; place the new holder "
                "under one that does",
                field="parent",
                code=parent,
            )
        check_depth(ancestors(parent, lambda c: self.parent_on(c, since)))
        holder = Holder.register(
            code, name, level, parent_holder, actor=self.actor, recorded_at=at, since=since
        )
        self.holders[code] = holder
        self.registered.add(code)
        return holder

    def line_keys_of(self, holders: list[str]) -> list[LineKey]:
        if self.line_keys is not None:
            keys = [key for code in set(holders) for key in self.line_keys.get(code, ())]
            return sorted(keys, key=lambda key: key.order)
        wanted = set(holders)
        return [key for key in self.ledger.list_line_keys() if key.holder in wanted]

    def existing_line(self, key: LineKey) -> BudgetLine:
        return self.ledger._existing_line(key, self.held)

    def line_or_open(self, key: LineKey, at: datetime) -> BudgetLine:
        # A holder registered by this movement has no lines yet; with a batch's index, a key
        # it does not list has none either (the batch holds the write lock): no read.
        unknown = self.line_keys is not None and key not in self.line_keys.get(key.holder, ())
        if key.holder in self.registered or unknown:
            line = self.held.get(key.line_id)
            if line is None:
                line = self.held[key.line_id] = BudgetLine.open(key, recorded_at=at)
            assert isinstance(line, BudgetLine)
            return line
        return self.ledger._line_or_open(key, at, self.held)

    def movement(self, movement_id: str) -> Movement | None:
        return self.ledger._find(Movement, movement_aggregate_id(movement_id), self.held)


class Batch:
    """Many movements planned in a row, each seeing the ones before, none saved: the
    aggregates they touch are read from the store once, then kept (and changed) here, in
    ``aggregates``. An import plans its rows in one; the caller saves or drops the events."""

    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.aggregates: dict[UUID, Any] = {}
        # Every line's key by holder (``index_lines``), kept up to date as lines open.
        self.line_keys: dict[str, set[LineKey]] | None = None
        # The payments planned here, oldest first, kept among ``aggregates`` so that a later
        # movement of the batch may reverse them: the newest ``payments_held_max`` (none
        # unless the caller asks; see limits.IMPORT_PAYMENTS_HELD_MAX).
        self.payments: collections.deque[UUID] = collections.deque()
        self.payments_held_max = 0

    def plan(self, request: MovementRequest, *, actor: str, at: datetime) -> list[Any]:
        """Check one movement against the batch's aggregates and change them; returns every
        aggregate it changed (the Movement first), whose pending events the caller saves or
        drops. Raises a LedgerError, as record() would."""
        aggregates = self.ledger._plan(
            request, check_actor(actor), at, self.aggregates, self.line_keys
        )
        for aggregate in aggregates[1:]:
            self.aggregates[aggregate.id] = aggregate
            if self.line_keys is not None and isinstance(aggregate, BudgetLine):
                self.line_keys.setdefault(aggregate.key.holder, set()).add(aggregate.key)
        if request.action == Disburse.action and self.payments_held_max:
            self.aggregates[aggregates[0].id] = aggregates[0]
            self.payments.append(aggregates[0].id)
            if len(self.payments) > self.payments_held_max:
                self.aggregates.pop(self.payments.popleft(), None)
        return aggregates

    def index_lines(self) -> None:
        """Read the key of every line in the log once, by holder, for the successions this
        batch plans: a succession finds its holders' lines here, not by scanning every
        line's key in the log (which, for a reorganisation of thousands of communes, is a
        scan per succession). Only under the write lock: a line opened by another writer
        after the index was read would be missed."""
        self.line_keys = {}
        for key in self.ledger.list_line_keys():
            self.line_keys.setdefault(key.holder, set()).add(key)

    def load(self, aggregate_ids: list[UUID]) -> None:
        """Read these aggregates (those not held yet) into the batch, each from its latest
        snapshot and the events after it, in two queries for the lot; one not found is left
        to be read (or found missing) one by one. An import reads its lines this way: one by
        one, a line cost a few milliseconds on PostgreSQL."""
        wanted = sorted({i for i in aggregate_ids if i not in self.aggregates})
        if not wanted:
            return
        ledger = self.ledger
        found: dict[UUID, Any] = {}
        assert ledger.snapshots is not None
        for row in batch_reads.latest_events(ledger.snapshots.recorder, wanted):
            ledger._mutate(found, row)
        after = [(i, found[i].version if i in found else 0) for i in wanted]
        for row in batch_reads.events_after(ledger.recorder, after):
            ledger._mutate(found, row)
        self.aggregates.update(found)


# The postings a movement may make besides its kind's own: moving extended money, and
# passing on at a succession.
CARRIED = (
    BudgetLine.ExtensionGiven,
    BudgetLine.ExtensionTaken,
    BudgetLine.PassedOn,
    BudgetLine.SuccessionReceived,
)


def _line_entry(line: BudgetLine, movement_id: str, *, default: bool) -> dict[str, Any]:
    """A line's entry in its movement's record: the line and its available amount after.
    The kind's own posting on it (``default``: the first, see the kind's ``effects``) is
    implied; any other posting the movement made on it (a succession's, what passed on
    after a late movement) is listed, and so is its extension when the movement changed it,
    so that the journal recomputes every figure from the movements alone."""
    entry: dict[str, Any] = {"line": line.key.as_dict(), "available_vnd": line.available_vnd}
    events = [
        event
        for event in line.pending_events
        if isinstance(event, BudgetLine.Posted) and event.movement_id == movement_id
    ]
    if default:  # the kind's own posting: the first that is not a succession's or carry's
        own = next(i for i, event in enumerate(events) if not isinstance(event, CARRIED))
        events = events[:own] + events[own + 1 :]
    others = []
    for event in events:
        if isinstance(event, BudgetLine.ExtensionGiven):
            entry["extension"] = {
                "until": event.until.isoformat(),
                "extended_vnd": event.extended_vnd,
            }
        elif isinstance(event, BudgetLine.ExtensionTaken):
            entry["extension"] = {
                "until": event.deadline.isoformat(),
                "extended_vnd": event.extended_vnd,
            }
        elif event.effect:
            others.append(
                {
                    "effective_date": event.effective_date.isoformat(),
                    "amount_vnd": event.amount_vnd,
                    "changes": {
                        name: unit * event.amount_vnd for name, unit in event.effect.items()
                    },
                }
            )
    if others:
        entry["postings"] = others
    return entry


def _wait_before_retry(attempt: int) -> None:
    time.sleep(random.uniform(0, min(limits.RETRY_WAIT_S_MAX, 0.002 * 2**attempt)))


def _close_year_movement_id(key: LineKey, day: date) -> str:
    digest = hashlib.sha256(key.label.encode("utf-8")).hexdigest()[:16]
    return f"close-year:{key.year}:{day.isoformat()}:{digest}"
