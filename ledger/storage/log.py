"""Where the library keeps the event log in each store, for the few places that read it with
SQL of their own (the chain, verify, import's id lookup, the read models' freshness check)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from ledger.storage.chain import CHAIN_TABLE


@dataclass(frozen=True)
class LogTables:
    events: str  # the events table, schema-qualified on PostgreSQL
    position: str  # its column that is the log position
    chain: str  # the hash chain's table (ledger/storage/chain.py)
    postgres: bool


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


def events_table(recorder: Any) -> str:
    """Any recorder's table (the log's, or the snapshots'), schema-qualified on PostgreSQL."""
    table: str = recorder.events_table_name
    if postgres_recorder(recorder):
        return f"{recorder.datastore.schema}.{table}"
    return table
