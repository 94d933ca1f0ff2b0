"""What the API's views use: the ledger and the read models' store (both shared by a
process's threads) and, per thread, the read models' state.

``BudgetLedger`` is safe to share between threads (the library pools its connections; our
command retries keep their state in a context variable). So is a ``ViewStore`` (a pool on
PostgreSQL, a connection per thread on SQLite); each request keeps the one connection it
takes from it until it ends (``keep``/``release``). ``Projections`` caches what it read, so
each server thread gets its own, made on first use.
"""

from __future__ import annotations

import threading

from api.tokens import Found, TokenStore
from ledger.application import BudgetLedger, open_ledger
from projections.runner import Projections, ReadModelState
from projections.sql import ViewStore


class Services:
    def __init__(self, ledger: BudgetLedger | None = None, *, database: str | None = None) -> None:
        """Over an open ``ledger`` (the tests), or the ledger at ``database``, opened on
        first use (a server worker: see ``open``)."""
        self._ledger = ledger
        if ledger is not None:
            assert ledger.database is not None, "open the ledger with open_ledger()"
            database = ledger.database
        assert database is not None
        self.database: str = database
        self.store = ViewStore(self.database)
        self._local = threading.local()
        self._opening = threading.Lock()

    @classmethod
    def open(cls, database: str) -> Services:
        """A server worker's: it starts whether or not the database answers (the server
        checked, once, that it holds a ledger), so that a worker restarted while the
        database is down serves 503s until it is back, rather than stopping the server.
        Even ``open_ledger(check=False)`` connects (the library's recorder registers its
        types on a connection), so the ledger is opened by the first request that needs it."""
        return cls(database=database)

    @property
    def ledger(self) -> BudgetLedger:
        if self._ledger is None:
            with self._opening:
                if self._ledger is None:
                    self._ledger = open_ledger(self.database, check=False)
        return self._ledger

    def projections(self) -> Projections:
        projections: Projections | None = getattr(self._local, "projections", None)
        if projections is None:
            projections = Projections(self.ledger, self.database, store=self.store)
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

    def close(self) -> None:
        self.store.close()
        if self._ledger is not None:
            self._ledger.close()
