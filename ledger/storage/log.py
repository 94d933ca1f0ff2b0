"""Where the library keeps the event log in each store, for the few places that read it with
SQL of their own (the chain, verify, import's id lookup, the read models' freshness check)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder

from ledger.storage.chain import CHAIN_TABLE


@dataclass(frozen=True)
class LogTables:
    events: str  # the events table, schema-qualified on PostgreSQL
    position: str  # its column that is the log position
    chain: str  # the hash chain's table (ledger/storage/chain.py)
    postgres: bool


def log_tables(recorder: Any) -> LogTables:
    if isinstance(recorder, PostgresApplicationRecorder):
        schema = recorder.datastore.schema
        chain = f"{schema}.{CHAIN_TABLE}"
        return LogTables(events_table(recorder), "notification_id", chain, True)
    return LogTables(events_table(recorder), "rowid", CHAIN_TABLE, False)


def events_table(recorder: Any) -> str:
    """Any recorder's table (the log's, or the snapshots'), schema-qualified on PostgreSQL."""
    table: str = recorder.events_table_name
    if isinstance(recorder, PostgresAggregateRecorder):
        return f"{recorder.datastore.schema}.{table}"
    return table
