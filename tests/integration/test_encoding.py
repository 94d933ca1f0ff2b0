"""A batch's events (an import's, a reorganisation's) are encoded by ledger/storage/encoding.py,
not by the library's mapper: the bytes stored must be the library's, for every event class a
ledger records, or the log would hold two spellings of one event (and its hash chain and
``verify`` would depend on which path wrote it)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.application import PLAIN_EVENTS, BudgetLedger, open_ledger
from ledger.demo import data
from ledger.demo.clock import DemoClock
from ledger.domain.lines import BudgetLine
from ledger.domain.values import LineKey
from ledger.storage import encoding


def test_every_event_of_the_demo_is_encoded_as_the_library_stores_it(database: str) -> None:
    # The demo records every kind of movement, a year's close and a reorganisation (its
    # successions): every class of PLAIN_EVENTS that is ever made, and the holders' and
    # programs' events, which go through the library's mapper.
    ledger = open_ledger(database, create=True, clock=DemoClock())
    try:
        data.load(ledger, actor="demo")
        stored = list(ledger.recorder.select_notifications(start=1, limit=100_000))
        events = [ledger.mapper.to_domain_event(notification) for notification in stored]
        encoded = encoding.to_stored_events(ledger.mapper, events, PLAIN_EVENTS)
        made = {type(event) for event in events}
    finally:
        ledger.close()
    assert made & PLAIN_EVENTS == PLAIN_EVENTS - {
        BudgetLine.Created,  # the library's base classes, never made themselves
        BudgetLine.Posted,
        *(cls for cls in PLAIN_EVENTS if cls.__qualname__ == "Movement.Created"),
    }
    assert made - PLAIN_EVENTS  # holders and programs: the library's own path
    differing = [
        (notification.id, notification.topic)
        for notification, mine in zip(stored, encoded, strict=True)
        if (mine.originator_id, mine.originator_version, mine.topic, mine.state)
        != (
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            notification.state,
        )
    ]
    assert differing == []


def test_a_number_orjson_refuses_goes_through_the_library(memory_ledger: BudgetLedger) -> None:
    # A line event given values its fields never hold: a number beyond 64 bits (orjson
    # refuses it: the library's mapper encodes it), a date and text with control characters
    # (both encoders, the same bytes).
    key = LineKey("GNBV", "DTPT", "NSTW", 2024, "TW")
    line = BudgetLine.open(key, recorded_at=datetime(2024, 1, 2, tzinfo=UTC))
    [event] = line.collect_events()
    for value in (2**70, -(2**70), date(2024, 1, 2), 'dòng 1\n\tdòng 2\x01 "đ" \\'):
        event.__dict__["extra"] = value
        [mine] = encoding.to_stored_events(memory_ledger.mapper, [event], PLAIN_EVENTS)
        assert mine == memory_ledger.mapper.to_stored_event(event)
