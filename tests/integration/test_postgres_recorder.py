"""The PostgreSQL recorder sends a write's events as array literals it builds itself: whatever
an id, a topic or a state holds, what is read back is what was written."""

from __future__ import annotations

import uuid

from eventsourcing.persistence import StoredEvent

from ledger.application import open_ledger
from ledger.postgres import LedgerApplicationRecorder


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
