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

import threading
from typing import TYPE_CHECKING

from api.tokens import Found, TokenStore
from ledger.storage.presence import check_holds_ledger
from ledger.storage.sql import ViewStore
from projections.balances.reader import KeptLines
from projections.runner import Projections, ReadModelState

if TYPE_CHECKING:
    from ledger.application import BudgetLedger, Clock
    from ledger.storage.integrity import Log


def bootstrap(
    database: str, *, create: bool = False, check: bool = True, clock: Clock | None = None
) -> Services:
    """The services of the ledger at ``database`` (a SQLite path or a postgresql:// URL).
    ``create``, ``check`` and ``clock`` are ``open_ledger``'s: only ``budget-ledger init`` and
    the demo create; a server worker does not check, so that it starts while the database is
    down; only the demo gives a clock (None: the real one).

    Otherwise the ledger (the library's application, the domain's classes) is opened when
    first used: a read the read models answer never opens it (decisions §28). ``check``
    asks first, in one statement, that the database holds a ledger
    (``check_holds_ledger``: NoLedger, or the error of a database that does not answer)."""
    if create or clock is not None:
        from ledger.application import open_ledger, utc_now

        ledger = open_ledger(database, create=create, check=check, clock=clock or utc_now)
        return Services(ledger)
    if not check:
        # A server worker: it starts whether or not the database answers (the server
        # checked, once, that it holds a ledger), so that a worker restarted while the
        # database is down serves 503s until it is back rather than failing to boot, which
        # stops the whole server. Even open_ledger(check=False) connects (the library's
        # recorder registers its types on a connection), so the ledger is opened by the
        # first request that needs it.
        return Services(database=database)
    check_holds_ledger(database)
    return Services(database=database)


class Services:
    def __init__(self, ledger: BudgetLedger | None = None, *, database: str | None = None) -> None:
        """Over an open ``ledger``, or the ledger at ``database``, opened on first use (a
        server worker's: see ``bootstrap``)."""
        self._ledger = ledger
        if ledger is not None:
            assert ledger.database is not None, "a ledger in memory has no read models"
            database = ledger.database
        assert database is not None
        self.database: str = database
        self._store: ViewStore | None = None
        self._store_lock = threading.Lock()
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
                    self._store = ViewStore(self.database)
        return self._store

    def projections(self) -> Projections:
        projections: Projections | None = getattr(self._local, "projections", None)
        if projections is None:
            projections = Projections(
                lambda: self.ledger, self.database, store=self.store, kept_lines=self._kept_lines
            )
            self._local.projections = projections
        return projections

    def current_projections(self, state: ReadModelState | None = None) -> Projections:
        """The read models, brought up to the log's head first (reads see every write that
        was answered before they were asked). ``state``: where they stood when this request
        arrived (``authenticate`` reads it), else it is read now."""
        projections = self.projections()
        if state is None:
            state = projections.state()
        if state.current:
            projections.use(state)
        else:
            projections.use(None)
            projections.catch_up()
        return projections

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
        if self._store is not None:
            self._store.close()
        if self._ledger is not None:
            self._ledger.close()
