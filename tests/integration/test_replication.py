"""The test bed of issue 18: a ledger on the PostgreSQL primary, read on its streaming replica
(the ``replicated`` fixture), and ``wait_for_replay``, which the replica tests rely on."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date

import psycopg
import pytest

from ledger.application import open_ledger
from ledger.storage.replicas import measure
from ledger.storage.sql import ViewStore
from tests.replication import (
    Replicated,
    pg_throwaway,
    replay_paused,
    replica_halted,
    wait_for_replay,
)
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
    assert replica_head(replicated.replica_url) == head


def test_waiting_for_a_paused_replica_times_out_saying_how_far_it_got(
    replicated: Replicated,
) -> None:
    with replay_paused(replicated.replica_url):
        head_before = replica_head(replicated.replica_url)
        register_tree_on(replicated.primary_url)
        with pytest.raises(TimeoutError, match="replayed up to .* not the primary's"):
            wait_for_replay(replicated.primary_url, replicated.replica_url, timeout=1)
        assert replica_head(replicated.replica_url) == head_before
    wait_for_replay(replicated.primary_url, replicated.replica_url)
    assert replica_head(replicated.replica_url) > head_before


def test_a_halted_replica_refuses_connections_then_catches_up_once_resumed(
    replicated: Replicated,
) -> None:
    with replica_halted(replicated.replica_dir):
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(replicated.replica_url, connect_timeout=5).close()
        register_tree_on(replicated.primary_url)
    wait_for_replay(replicated.primary_url, replicated.replica_url)
    primary = open_ledger(replicated.primary_url)
    try:
        assert replica_head(replicated.replica_url) == primary.head_position()
    finally:
        primary.close()


def register_tree_on(url: str) -> None:
    ledger = open_ledger(url)
    try:
        register_tree(ledger)
    finally:
        ledger.close()


def replica_head(url: str) -> int:
    ledger = open_ledger(url)
    try:
        return ledger.head_position()
    finally:
        ledger.close()


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


def test_a_database_of_another_cluster_is_never_taken_for_a_replica(
    replicated: Replicated,
) -> None:
    """A --read-database naming another cluster (a staging server's, a replica of another
    primary) compares WAL positions that mean nothing here: it is refused by the clusters'
    system identifiers, whatever its positions say."""
    folder = tempfile.mkdtemp(prefix="budget-ledger-other-pg.")  # the server's user enters it
    other_url = pg_throwaway("start", folder, "", "fsync=off").splitlines()[-1]
    primary, own, other = (
        ViewStore(url) for url in (replicated.primary_url, replicated.replica_url, other_url)
    )
    try:
        assert measure(primary, own).up
        found = measure(primary, other)
        assert not found.up
        assert found.reason.startswith("is not a replica of this primary: its cluster's system")
    finally:
        for store in (primary, own, other):
            store.close()
        pg_throwaway("stop", folder)
        shutil.rmtree(folder, ignore_errors=True)
