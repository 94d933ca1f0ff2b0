"""The test bed of issue 18: a ledger on the PostgreSQL primary, read on its streaming replica
(the ``replicated`` fixture), and ``wait_for_replay``, which the replica tests rely on."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from ledger.application import open_ledger
from tests.replication import Replicated, wait_for_replay
from tests.story import LINE, TY, record, register_tree


def test_what_the_primary_records_is_read_on_the_replica_once_replayed(
    replicated: Replicated,
) -> None:
    primary = open_ledger(replicated.primary_url)
    try:
        register_tree(primary)
        record(primary, "adjust", "fund", date(2024, 1, 2), LINE, amount_vnd=500 * TY)
        head = primary.head_position()
    finally:
        primary.close()
    wait_for_replay(replicated.primary_url, replicated.replica_url)
    replica = open_ledger(replicated.replica_url)
    try:
        assert replica.head_position() == head
    finally:
        replica.close()


def test_waiting_for_a_paused_replica_times_out_saying_how_far_it_got(
    replicated: Replicated,
) -> None:
    with psycopg.connect(replicated.replica_url, autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            primary = open_ledger(replicated.primary_url)
            try:
                register_tree(primary)
            finally:
                primary.close()
            with pytest.raises(TimeoutError, match="replayed up to .* not the primary's"):
                wait_for_replay(replicated.primary_url, replicated.replica_url, timeout=1)
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")
    wait_for_replay(replicated.primary_url, replicated.replica_url)


# What docs/deployment.md ("What to watch") tells an operator to ask, on the primary and on
# a replica.
REPLICAS_QUERY = (
    "SELECT application_name, client_addr, state, sent_lsn, replay_lsn, replay_lag "
    "FROM pg_stat_replication"
)
SLOTS_QUERY = (
    "SELECT slot_name, active, "
    "pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained "
    "FROM pg_replication_slots"
)
REPLAY_QUERY = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), "
    "now() - pg_last_xact_replay_timestamp() AS since_last_replayed"
)


def test_the_monitoring_queries_show_the_replica_streaming_and_replaying(
    replicated: Replicated,
) -> None:
    with psycopg.connect(replicated.primary_url, autocommit=True) as primary:
        replicas = primary.execute(REPLICAS_QUERY).fetchall()
        slots = primary.execute(SLOTS_QUERY).fetchall()
    assert "streaming" in [row[2] for row in replicas], replicas
    assert True in [row[1] for row in slots], slots
    with psycopg.connect(replicated.replica_url, autocommit=True) as replica:
        row = replica.execute(REPLAY_QUERY).fetchone()
    assert row is not None and row[0] is True and row[1] is not None, row
