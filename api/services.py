"""The one composition root: ``bootstrap(database)`` opens a ledger and everything that lives
beside it in its database (the read models, the API's tokens, the hash-chained log), as one
``Services``. The API (``create_app``), the command line (the ``budget-ledger`` group's
context object) and the tests build them through it, and nothing else opens connections of
its own.

``BudgetLedger`` is safe to share between threads (the library pools its connections; our
command retries keep their state in a context variable). So is a ``ViewStore`` (a pool on
PostgreSQL, a connection per thread on SQLite), made on first use, so that a command that
only records opens no read-model pool; each API request keeps the one connection it takes
from it until it ends (``keep``/``release``). ``Projections`` caches what it read, so each
thread gets its own, made on first use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from api.tokens import Found, TokenStore
from ledger.domain.errors import InvalidInput
from ledger.storage.availability import database_errors, is_unavailable
from ledger.storage.presence import check_holds_ledger
from ledger.storage.replicas import Replica, Replicas, check_read_databases
from ledger.storage.settings import (
    CONNECTION_WAIT_S,
    FOLLOW_FAULT_WAIT_S_MAX,
    FOLLOW_RETRY_S,
    LOCK_WAIT_S,
    MAX_LAG_S,
    MIN_POSITION_POLL_S,
    MIN_POSITION_WAIT_S,
    REPLICA_CONNECTION_WAIT_S,
)
from ledger.storage.sql import ViewStore
from projections.balances.reader import KeptLines
from projections.runner import NotReady, Projections, ReadModelState

if TYPE_CHECKING:
    from ledger.application import BudgetLedger, Clock
    from ledger.storage.integrity import Log


log = logging.getLogger("budget_ledger.api")


def bootstrap(
    database: str,
    *,
    create: bool = False,
    check: bool = True,
    clock: Clock | None = None,
    read_databases: Sequence[str] = (),
    max_lag_s: float = MAX_LAG_S,
) -> Services:
    """The services of the ledger at ``database`` (a SQLite path or a postgresql:// URL).
    ``create``, ``check`` and ``clock`` are ``open_ledger``'s: only ``budget-ledger init`` and
    the demo create; a server worker does not check, so that it starts while the database is
    down; only the demo gives a clock (None: the real one). ``read_databases``: streaming
    replicas of a PostgreSQL ``database`` that serve reads while no further behind than
    ``max_lag_s`` (``reading``).

    Otherwise the ledger (the library's application, the domain's classes) is opened when
    first used: a read the read models answer never opens it (decisions §28). ``check``
    asks first, in one statement, that the database holds a ledger
    (``check_holds_ledger``: NoLedger, or the error of a database that does not answer)."""
    check_read_databases(database, read_databases, max_lag_s)
    if create or clock is not None:
        from ledger.application import open_ledger, utc_now

        ledger = open_ledger(database, create=create, check=check, clock=clock or utc_now)
        return Services(ledger, read_databases=read_databases, max_lag_s=max_lag_s)
    if not check:
        # A server worker: it starts whether or not the database answers (the server
        # checked, once, that it holds a ledger), so that a worker restarted while the
        # database is down serves 503s until it is back rather than failing to boot, which
        # stops the whole server. Even open_ledger(check=False) connects (the library's
        # recorder registers its types on a connection), so the ledger is opened by the
        # first request that needs it.
        return Services(database=database, read_databases=read_databases, max_lag_s=max_lag_s)
    check_holds_ledger(database)
    return Services(database=database, read_databases=read_databases, max_lag_s=max_lag_s)


def replica_failures() -> tuple[type[BaseException], ...]:
    """What a replica may raise that hands a read on to another database
    (``replica_unreachable`` tells which do)."""
    return (NotReady, *database_errors())


def replica_unreachable(error: BaseException) -> bool:
    """Whether a replica that raised ``error`` cannot serve the read: its read models are not
    ready, or it does not answer (not a malformed statement, which is raised)."""
    return isinstance(error, NotReady) or is_unavailable(error)


def _follow_outage(error: BaseException | None) -> None:
    if error is None:
        log.info("the read models' follower reaches the database again")
    else:
        log.warning("the read models' follower cannot reach the database: %s", error)


class Services:
    def __init__(
        self,
        ledger: BudgetLedger | None = None,
        *,
        database: str | None = None,
        read_databases: Sequence[str] = (),
        max_lag_s: float = MAX_LAG_S,
        replica: int | None = None,
    ) -> None:
        """Over an open ``ledger``, or the ledger at ``database``, opened on first use (a
        server worker's: see ``bootstrap``). ``read_databases``: its replicas (``reading``).
        ``replica``: these are the services of replica number ``replica`` (read only)."""
        self._ledger = ledger
        if ledger is not None:
            assert ledger.database is not None, "a ledger in memory has no read models"
            database = ledger.database
        assert database is not None
        self.database: str = database
        self.replica = replica
        self.read_only = replica is not None
        self.label = "primary" if replica is None else f"replica {replica}"
        self._read_databases = list(read_databases)
        self.max_lag_s = max_lag_s
        self._replicas: Replicas[Services] | None = None
        self._follower: threading.Thread | None = None
        self._stop_following = threading.Event()
        # A replica's entry in its primary's Replicas (its health), set by the primary.
        self._entry: Replica[Services] | None = None
        self._store: ViewStore | None = None
        self._store_lock = threading.Lock()
        self._replicas_lock = threading.Lock()
        self._local = threading.local()
        self._opening = threading.Lock()
        # What the threads' read models keep between requests, shared (see KeptLines).
        self._kept_lines = KeptLines()

    @property
    def ledger(self) -> BudgetLedger:
        """The ledger, opened on first use when the services were made without it."""
        if self._ledger is None:
            with self._opening:
                if self._ledger is None:
                    from ledger.application import open_ledger

                    self._ledger = open_ledger(self.database, check=False)
        return self._ledger

    @property
    def store(self) -> ViewStore:
        """The read models' and tokens' connections, shared by every thread."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    wait_s = REPLICA_CONNECTION_WAIT_S if self.read_only else CONNECTION_WAIT_S
                    self._store = ViewStore(self.database, wait_s=wait_s)
        return self._store

    @property
    def has_replicas(self) -> bool:
        """Whether the primary was given replicas (without making their pools)."""
        return bool(self._read_databases)

    @property
    def replicas(self) -> Replicas[Services] | None:
        """The primary's replicas (None: it has none), made on first use."""
        if self._replicas is None and self._read_databases:
            primary_store = self.store
            with self._replicas_lock:
                if self._replicas is None:
                    sides = [
                        Services(database=url, replica=number)
                        for number, url in enumerate(self._read_databases, start=1)
                    ]
                    entries = [Replica(side.replica or 0, side.store, side) for side in sides]
                    for side, entry in zip(sides, entries, strict=True):
                        side._entry = entry
                    self._replicas = Replicas(primary_store, entries, max_lag_s=self.max_lag_s)
        return self._replicas

    def keep_following(self) -> None:
        """With replicas serving the reads, nothing else may bring the primary's read models
        to the server's writes: a thread of this process follows the log (``follow``: woken
        by each write's NOTIFY, it catches up for every write made meanwhile), and across
        the server's processes one follows at a time (the follow lock), the others standing
        by. A catch-up inside each write made the writing threads and processes contend
        for the read models' state row, each reloading what another had moved: writes fell
        to a fifth (bench/replicas.py). A read asking for a write's position waits for a
        replica to get there, else the primary answers it, catching up itself."""
        if self._follower is not None:
            return
        with self._replicas_lock:
            if self._follower is None:
                self._follower = threading.Thread(
                    target=self._follow, name="read models follower", daemon=True
                )
                self._follower.start()

    def keep_checking_replicas(self) -> None:
        """A server's: its replicas are checked on a thread of their own
        (``Replicas.keep_checking``), not by the reads."""
        replicas = self.replicas
        if replicas is not None:
            replicas.keep_checking(self._stop_following)

    def _follow(self) -> None:
        """``Projections.follow`` until the services close, started again whatever stops it
        (it rides out an outage itself, but not one met before it starts, as when the
        database and the server restart together, nor a fault): nothing else keeps the
        read models, and with them the replicas, current. An outage is tried again every
        FOLLOW_RETRY_S; a fault is logged with its traceback, the waits doubling up to
        FOLLOW_FAULT_WAIT_S_MAX."""
        fault_wait_s = FOLLOW_RETRY_S
        said_down = False
        while not self._stop_following.is_set():
            wait_s = FOLLOW_RETRY_S
            try:
                self.projections().follow(
                    self._stop_following, wait_s_max=FOLLOW_RETRY_S, outage=_follow_outage
                )
            except Exception as error:
                if isinstance(error, database_errors()) and is_unavailable(error):
                    if not said_down:
                        _follow_outage(error)
                    said_down = True
                else:
                    log.exception("the read models' follower failed; it starts again")
                    wait_s, fault_wait_s = fault_wait_s, min(
                        FOLLOW_FAULT_WAIT_S_MAX, 2 * fault_wait_s
                    )
            self._local.__dict__.pop("projections", None)  # made afresh on the next try
            self._stop_following.wait(wait_s)

    def reading(self, min_position: int | None = None) -> Services:
        """The services that serve a read: a replica behind the primary by ``max_lag_s`` at
        most and, if ``min_position`` is given, at that log position or past it (waiting up
        to MIN_POSITION_WAIT_S for one to get there); else these, the primary's. A position
        past the log's head is refused (InvalidInput), before any wait: no write answered
        with it."""
        replicas = self.replicas
        checked = min_position is None
        if replicas is not None:
            deadline = time.monotonic() + MIN_POSITION_WAIT_S
            for replica in replicas.eligible():
                try:
                    if min_position is None or replica.side.reached(min_position):
                        return replica.side
                    if not checked:
                        self._check_position(min_position)
                        checked = True
                    if replica.side.reaches(min_position, deadline):
                        return replica.side
                except replica_failures() as error:
                    if not replica_unreachable(error):
                        raise
                    replica.failed(error)
        if not checked:
            assert min_position is not None
            self._check_position(min_position)
        return self

    def _check_position(self, position: int) -> None:
        """InvalidInput if ``position`` is past the log's head (one statement on the read
        models' connection: the log's library is not opened for it)."""
        head = self.projections().state().head
        if position > head:
            raise InvalidInput(
                f"position {position} is past the log's head ({head}): no write "
                "answered with it; give a position a write answered with (Ledger-Position)",
                field="min_position",
            )

    def reached(self, position: int) -> bool:
        """Whether these (a replica's) read models are at ``position`` or past it now."""
        return self.projections().state().position >= position

    def reaches(self, position: int, deadline: float) -> bool:
        """Whether these (a replica's) read models reach ``position`` by ``deadline``."""
        while not self.reached(position):
            if time.monotonic() >= deadline:
                return False
            time.sleep(MIN_POSITION_POLL_S)
        return True

    def replica_failed(self, error: BaseException) -> None:
        """These replica's services found their database not answering mid-request: it
        serves no read until a check finds it back."""
        assert self._entry is not None, "only a replica's services fail over"
        self._entry.failed(error)

    def projections(self) -> Projections:
        projections: Projections | None = getattr(self._local, "projections", None)
        if projections is None:
            projections = Projections(
                lambda: self.ledger,
                self.database,
                store=self.store,
                kept_lines=self._kept_lines,
                read_only=self.read_only,
            )
            self._local.projections = projections
        return projections

    def current_projections(self, state: ReadModelState | None = None) -> Projections:
        """The read models, brought up to the log's head first (reads see every write that
        was answered before they were asked). ``state``: where they stood when this request
        arrived (``authenticate`` reads it), else it is read now."""
        return self.answering(state)[0]

    def answering(self, state: ReadModelState | None = None) -> tuple[Projections, ReadModelState]:
        """``current_projections``, and the state it found (``position`` tells from it the
        log position the answers reflect)."""
        projections = self.projections()
        if state is None:
            state = projections.state()
        if state.current or self.read_only:
            projections.use(state)
            return projections, state
        projections.use(None)
        projections.catch_up()  # on a standby PostgreSQL refuses it: 503 in the API
        return projections, state

    def read_as_standby(self) -> None:
        """Read these services' database as the standby it turned out to be (a command given
        a replica's URL as --database, an auditor's): its read models answer at their own
        position, never catching up. A command's alone: under a server a primary found to be
        a standby is a failover under way, and a read that needs a catch-up answers 503
        until the new primary is named."""
        self.read_only = True
        self.label = "standby"
        self._local.__dict__.pop("projections", None)  # made again, read only

    def position(self, state: ReadModelState) -> int:
        """The log position a read's answer reflects (at least), given the state the read
        found: a replica's read models answer at their own position (they never catch up);
        the primary's are brought to the head it found before they answer."""
        return state.position if self.read_only else state.head

    def authenticate(self, secret: str, address: str) -> tuple[Found, ReadModelState]:
        """The live token with this secret (None: unknown or revoked), the failed
        authentications of ``address``, and where the read models stand, in one statement:
        a read then needs no other round trip before its query, and the token is looked up
        afresh on every request (a revocation counts from the next request on, in every
        process)."""
        projections = self.projections()
        tokens = self.tokens()
        statement, parameters = tokens.find_statement(secret, address)
        row = projections.store.one(
            f"SELECT * FROM ({projections.state_statement()}) s LEFT JOIN ({statement}) t ON 1 = 1",
            parameters,
        )
        assert row is not None, "the balances projection has no active generation"
        return tokens.found(row[3:]), ReadModelState.of(row)

    def tokens(self) -> TokenStore:
        tokens: TokenStore | None = getattr(self._local, "tokens", None)
        if tokens is None:
            tokens = TokenStore(self.store)
            self._local.tokens = tokens
        return tokens

    def log(self) -> Log:
        """The hash-chained event log, to verify or to take its digest."""
        from ledger.storage.integrity import Log

        return Log(self.store, self.ledger.recorder)

    def close(self) -> None:
        self._stop_following.set()
        if self._follower is not None:
            self._follower.join(timeout=LOCK_WAIT_S)
        if self._replicas is not None:
            self._replicas.stop_checking(timeout=LOCK_WAIT_S)
            for replica in self._replicas.replicas:
                replica.side.close()
        if self._store is not None:
            self._store.close()
        if self._ledger is not None:
            self._ledger.close()
