"""The read model decodes stored events itself (projections/events.py): it must read from
them what the library's mapper reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from eventsourcing.utils import resolve_topic

from ledger.application import BudgetLedger
from ledger.domain.lines import BudgetLine
from ledger.domain.movements import Succeed
from projections.events import (
    EFFECTS,
    EXTENSIONS,
    FIGURES,
    TOPICS,
    HolderChange,
    Opened,
    Posting,
    Recorded,
    clock_text,
    clock_text_of,
    decode,
)
from tests.story import TAY_GIANG, TY, record, worked_example


def test_decoded_events_say_what_the_mapper_says(memory_ledger: BudgetLedger) -> None:
    worked_example(memory_ledger)
    record(
        memory_ledger,
        "extend",
        "e",
        date(2025, 1, 20),
        TAY_GIANG,
        until=date(2025, 12, 31),
        amount_vnd=20 * TY,
    )
    memory_ledger.register_holder(
        "50401", "Xã A", "commune", "504", actor="t", since=date(2024, 2, 1)
    )
    memory_ledger.move_holder("50401", "505", date(2024, 9, 1), decision="QĐ 1", actor="t")
    memory_ledger.rename_holder("50401", "Xã B", date(2024, 9, 1), decision="QĐ 2", actor="t")
    succession = Succeed(
        movement_id="s",
        effective_date=date(2026, 2, 1),
        from_holders=("504",),
        to_holder="49",
        decision="NQ 1670/NQ-UBTVQH15",
    )
    memory_ledger.record(succession, actor="t")
    notifications = memory_ledger.recorder.select_notifications(
        start=1, limit=10_000, topics=sorted(TOPICS)
    )
    assert {n.topic for n in notifications} >= {
        "budget_ledger:Holder.Registered",
        "budget_ledger:Holder.Moved",
        "budget_ledger:Holder.Renamed",
        "budget_ledger:Holder.Ended",
        "budget_ledger:BudgetLine.Opened",
        "budget_ledger:BudgetLine.Disbursed",
        "budget_ledger:BudgetLine.Extended",
        "budget_ledger:Movement.Recorded",
    }
    for n in notifications:
        event = memory_ledger.mapper.to_domain_event(n)
        got = decode(n.id, n.originator_id, n.topic, n.state)
        if isinstance(got, HolderChange):
            assert got.holder_id == event.originator_id.hex
            assert got.recorded_at == clock_text(event.timestamp)
            if got.change == "registered":
                assert (got.code, got.parent, got.name) == (event.code, event.parent, event.name)  # type: ignore[attr-defined]
                assert got.day == (event.since.toordinal() if event.since else 0)  # type: ignore[attr-defined]
            else:
                assert got.day == event.effective_date.toordinal()  # type: ignore[attr-defined]
                assert got.parent == getattr(event, "parent", getattr(event, "successor", None))
                assert got.name == getattr(event, "name", None)
        elif isinstance(got, Opened):
            assert got.line_id == str(event.originator_id)
            assert got[2:] == tuple(
                getattr(event, name)
                for name in ("program", "kind", "source", "year", "holder", "project")
            )
        elif isinstance(got, Recorded):
            # The movement's state as the domain has it (the audit trail's rows).
            assert got.movement == {
                name: value
                for name, value in event.__dict__.items()
                if name not in ("originator_id", "originator_version")
            }
        else:
            assert isinstance(got, Posting)
            assert got.line_id == str(event.originator_id)
            assert got.movement_id == event.movement_id  # type: ignore[attr-defined]
            assert got.day == event.effective_date.toordinal()  # type: ignore[attr-defined]
            # An extension moving with money is read as the line's extended amount after it.
            amount = getattr(event, "extended_vnd", event.amount_vnd)  # type: ignore[attr-defined]
            assert got.amount_vnd == amount
            assert got.recorded_at == clock_text(event.timestamp)  # type: ignore[attr-defined]
            until = getattr(event, "until", None)
            assert got.until_day == (until.toordinal() if until else 0)


def test_no_event_the_read_model_decodes_has_an_upcast() -> None:
    # decode() reads stored JSON as it is: an upcast added to one of these classes must be
    # added to projections/events.py too. Holder.Registered v2 only added ``since``, which
    # decode reads with a default (a v1 event has none).
    handled = {"budget_ledger:Holder.Registered": 2}
    for topic in TOPICS:
        assert getattr(resolve_topic(topic), "class_version", 1) == handled.get(topic, 1), topic


def test_the_effects_table_is_the_line_postings_effects() -> None:
    # projections/events.py writes the postings out so that a read does not load the domain.
    postings = {posting.TOPIC: posting for posting in BudgetLine.postings()}
    assert set(EFFECTS) | EXTENSIONS == set(postings)
    assert EXTENSIONS == {
        BudgetLine.Extended.TOPIC,
        BudgetLine.ExtensionGiven.TOPIC,
        BudgetLine.ExtensionTaken.TOPIC,
    }
    for topic, effect in EFFECTS.items():
        assert set(postings[topic].effect) <= set(FIGURES), topic
        assert effect == tuple(postings[topic].effect.get(name, 0) for name in FIGURES), topic


def test_clock_text_of_a_stored_time_is_its_clock_text() -> None:
    moments = [
        datetime(2024, 3, 1, 8, 30, tzinfo=UTC),
        datetime(2024, 3, 1, 8, 30, 0, 1, tzinfo=UTC),
        datetime(2024, 3, 1, 15, 30, 5, 250_000, tzinfo=timezone(timedelta(hours=7))),
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-5))),
    ]
    for moment in moments:
        assert clock_text_of(moment.isoformat()) == clock_text(moment)
