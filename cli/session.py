"""The ``budget-ledger`` group's context object: the services of the database a command was
given, built by the composition root (``api.services.bootstrap``) when the command first asks
for them, and closed when the command line ends. Commands receive it through
``pass_session`` (click's ``make_pass_decorator``); none opens a connection of its own.

Every command keeps its own ``--database`` option (or BUDGET_LEDGER_DATABASE), as before the
group held the services: the command hands its value to ``open``, which is the one place a
command's database is opened."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from api.services import Services, bootstrap
from ledger.storage.config import default_database
from ledger.storage.settings import MAX_LAG_S

if TYPE_CHECKING:
    from ledger.application import Clock


class Session:
    def __init__(self) -> None:
        self._services: Services | None = None

    def open(
        self,
        database: str | None,
        *,
        create: bool = False,
        clock: Clock | None = None,
        read_databases: Sequence[str] = (),
        max_lag_s: float = MAX_LAG_S,
    ) -> Services:
        """The services of ``database`` (default: the default ledger), made on first use.
        ``create``: make the ledger's tables (``init`` and ``demo``); every other command
        refuses a database that holds no ledger. ``clock``: the demo's (see
        ``BudgetLedger.now``; None: the real one). ``read_databases``, ``max_lag_s``: its
        replicas, for a read (``Services.reading``)."""
        database = database or default_database()
        if self._services is None:
            # What the services and their connection pools log (an attempt to connect
            # failed, again; a replica went down) is for a server's log: a command says what
            # happened in a line of its own, and without a handler Python would print each
            # record on stderr.
            for name in ("psycopg.pool", "budget_ledger"):
                logger = logging.getLogger(name)
                if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
                    logger.addHandler(logging.NullHandler())  # once, however many commands
            self._services = bootstrap(
                database,
                create=create,
                clock=clock,
                read_databases=read_databases,
                max_lag_s=max_lag_s,
            )
            # Closed when the command ends, whatever it raised.
            click.get_current_context().call_on_close(self.close)
        assert self._services.database == database, "one command line, one database"
        return self._services

    def close(self) -> None:
        services, self._services = self._services, None
        if services is not None:
            services.close()


pass_session = click.make_pass_decorator(Session, ensure=True)
