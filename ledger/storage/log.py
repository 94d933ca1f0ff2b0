"""Where the library keeps the event log in each store, for the few places that read it with
SQL of their own (the chain, verify, import's id lookup, the read models' freshness check)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from ledger.storage.chain import CHAIN_TABLE
from ledger.storage.config import is_postgres

# The ledger application's name (``BudgetLedger.name``): the library names PostgreSQL's
# tables after it.
LEDGER_NAME = "Ledger"


@dataclass(frozen=True)
class LogTables:
    events: str  # the events table, schema-qualified on PostgreSQL
    position: str  # its column that is the log position
    chain: str  # the hash chain's table (ledger/storage/chain.py)
    postgres: bool

    @property
    def head_statement(self) -> str:
        """The log's head position, as the library's recorder computes it."""
        return f"SELECT max({self.position}) FROM {self.events}"


def postgres_recorder(recorder: Any, kind: str = "PostgresAggregateRecorder") -> bool:
    """Whether ``recorder`` is one of the library's PostgreSQL recorders (``kind``, a class of
    eventsourcing.postgres). Never before that module is loaded, which the PostgreSQL store
    does: a command on a SQLite file loads neither it nor psycopg."""
    postgres = sys.modules.get("eventsourcing.postgres")
    return postgres is not None and isinstance(recorder, getattr(postgres, kind))


def log_tables(recorder: Any) -> LogTables:
    if postgres_recorder(recorder, "PostgresApplicationRecorder"):
        schema = recorder.datastore.schema
        chain = f"{schema}.{CHAIN_TABLE}"
        return LogTables(events_table(recorder), "notification_id", chain, True)
    return LogTables(events_table(recorder), "rowid", CHAIN_TABLE, False)


def log_tables_of(database: str) -> LogTables:
    """``log_tables`` of the ledger at ``database`` without its recorder, named as the
    library names them for the ledger's settings (ledger/storage/config.py: the library's
    default schema; the application's name, ``Ledger``, in PostgreSQL's table).
    tests/integration/test_services.py checks it against the recorder's on both stores."""
    if is_postgres(database):
        return LogTables(f"public.{LEDGER_NAME.lower()}_events", "notification_id",
                         f"public.{CHAIN_TABLE}", True)  # fmt: skip
    return LogTables("stored_events", "rowid", CHAIN_TABLE, False)


def events_table(recorder: Any) -> str:
    """Any recorder's table (the log's, or the snapshots'), schema-qualified on PostgreSQL."""
    table: str = recorder.events_table_name
    if postgres_recorder(recorder):
        return f"{recorder.datastore.schema}.{table}"
    return table
