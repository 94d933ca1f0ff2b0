"""The PostgreSQL recorder sends a write's events as array literals it builds itself: whatever
an id, a topic or a state holds, what is read back is what was written."""

from __future__ import annotations

import itertools
import select
import uuid

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from ledger.application import open_ledger
from ledger.storage.postgres import LedgerApplicationRecorder
from ledger.storage.sql import check_idle_connection


def test_events_come_back_exactly_as_written(postgres_url: str) -> None:
    ledger = open_ledger(postgres_url, create=True)
    try:
        recorder = ledger.recorder
        assert isinstance(recorder, LedgerApplicationRecorder)
        first, second = uuid.uuid4(), uuid.uuid4()
        events = [
            # Characters an array literal gives a meaning to, in a topic and in a state.
            StoredEvent(first, 1, 'odd:Topic "quoted", {braced} \\ back\\slash', b'{"a",\\}'),
            StoredEvent(first, 2, "plain:Topic", bytes(range(256))),
            StoredEvent(second, 1, "NULL", b""),
            StoredEvent(second, 2, "tiếng Việt:Sự kiện", "đồng".encode()),
        ]
        positions = recorder.insert_events(events)
        assert len(positions) == 4 and positions == sorted(positions)
        found = [
            *recorder.select_events(first),
            *recorder.select_events(second),
        ]
        assert [
            (e.originator_id, e.originator_version, e.topic, bytes(e.state)) for e in found
        ] == [(e.originator_id, e.originator_version, e.topic, e.state) for e in events]
        notifications = recorder.select_notifications(start=positions[0], limit=10)
        assert [n.id for n in notifications] == positions
    finally:
        ledger.close()


def test_an_aggregates_events_read_as_the_librarys_query_reads_them(postgres_url: str) -> None:
    """Every shape of select_events (after, up to, newest first, how many), against the
    library's own query on the same table."""
    ledger = open_ledger(postgres_url, create=True)
    try:
        recorder = ledger.recorder
        assert isinstance(recorder, LedgerApplicationRecorder)
        wanted, other = uuid.uuid4(), uuid.uuid4()
        recorder.insert_events(
            [StoredEvent(wanted, v, f"t:{v}", bytes([v]) * v) for v in range(1, 7)]
            + [StoredEvent(other, 1, "t:other", b"x")]
        )
        for gt, lte, desc, limit in itertools.product(
            (None, 0, 2), (None, 4), (False, True), (None, 2)
        ):
            ours = recorder.select_events(wanted, gt=gt, lte=lte, desc=desc, limit=limit)
            theirs = PostgresApplicationRecorder.select_events(
                recorder, wanted, gt=gt, lte=lte, desc=desc, limit=limit
            )
            assert ours == theirs, (gt, lte, desc, limit)
        assert [e.originator_version for e in recorder.select_events(wanted, gt=2, lte=4)] == [3, 4]
        assert recorder.select_events(uuid.uuid4()) == []
    finally:
        ledger.close()


def test_the_pool_hands_out_a_live_connection_unasked_and_finds_a_killed_one(
    postgres_url: str,
) -> None:
    """The pools' check (``check_idle_connection``; the log's pool uses it too) passes an idle
    live connection without asking the server, and raises for one the server ended, which the
    pool then replaces."""
    with psycopg.connect(postgres_url, autocommit=True) as live:
        pid = live.info.backend_pid
        check_idle_connection(live)
        assert live.info.backend_pid == pid and not live.closed
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(100):  # the server's goodbye reaches the socket
            if select.select([live.fileno()], [], [], 0.05)[0]:
                break
        with pytest.raises(psycopg.OperationalError):
            check_idle_connection(live)


def test_an_aggregate_is_read_from_its_latest_snapshot_and_the_events_after_in_one_query(
    postgres_url: str,
) -> None:
    ledger = open_ledger(postgres_url, create=True)
    try:
        recorder = ledger.recorder
        assert isinstance(recorder, LedgerApplicationRecorder) and ledger.snapshots is not None
        snapshots = ledger.snapshots.recorder
        wanted, other = uuid.uuid4(), uuid.uuid4()
        recorder.insert_events([StoredEvent(wanted, v, f"t:{v}", bytes([v])) for v in range(1, 6)])
        recorder.insert_events([StoredEvent(other, 1, "t:other", b"x")])

        def read(aggregate_id: uuid.UUID) -> list[tuple[int, str]]:
            found = recorder.select_from_snapshot(aggregate_id, snapshots)
            assert all(e.originator_id == aggregate_id for e in found)
            return [(e.originator_version, e.topic) for e in found]

        assert read(wanted) == [(v, f"t:{v}") for v in range(1, 6)]  # no snapshot yet
        snapshots.insert_events([StoredEvent(wanted, 2, "snap:2", b"s2")])
        snapshots.insert_events([StoredEvent(wanted, 4, "snap:4", b"s4")])
        assert read(wanted) == [(4, "snap:4"), (5, "t:5")]
        assert read(other) == [(1, "t:other")]
        assert read(uuid.uuid4()) == []
    finally:
        ledger.close()
