"""The ledger on real stores: a SQLite file and a real PostgreSQL, each test on both."""

from __future__ import annotations

from datetime import date

import pytest
from eventsourcing.persistence import IntegrityError

from ledger.application import BudgetLedger, open_ledger
from ledger.domain import limits
from ledger.domain.audit import check
from ledger.domain.errors import InsufficientFunds
from ledger.domain.lines import BudgetLine
from tests.story import DONG_GIANG, TAY_GIANG, TY, figures, record, state, worked_example


def reopen(database: str) -> BudgetLedger:
    return open_ledger(database)


def test_worked_example_survives_reopening_the_store(
    stored_ledger: BudgetLedger, database: str
) -> None:
    worked_example(stored_ledger)
    expected = state(stored_ledger)
    other = reopen(database)
    try:
        assert state(other) == expected
        assert check(other.journal(), other.list_lines()) == []
        assert figures(other, DONG_GIANG)["available_vnd"] == 50 * TY
    finally:
        other.close()


def test_a_ledger_knows_its_store_from_construction(
    stored_ledger: BudgetLedger, memory_ledger: BudgetLedger, database: str
) -> None:
    assert stored_ledger.database == database
    assert memory_ledger.database is None
    with pytest.raises(AttributeError):
        stored_ledger.database = "elsewhere.sqlite3"  # type: ignore[misc]


def test_a_refusal_writes_nothing_to_the_store(stored_ledger: BudgetLedger, database: str) -> None:
    worked_example(stored_ledger)
    before = state(stored_ledger)
    with pytest.raises(InsufficientFunds):
        record(stored_ledger, "disburse", "late", date(2024, 2, 1), DONG_GIANG, amount_vnd=60 * TY)
    other = reopen(database)
    try:
        assert state(other) == before
    finally:
        other.close()


def test_a_two_line_save_with_one_stale_line_writes_neither(
    stored_ledger: BudgetLedger, database: str
) -> None:
    """The store's own all-or-nothing: the giving line is fresh, the receiving line was
    changed by another writer after it was read; the save fails and neither line changes."""
    worked_example(stored_ledger)
    before = state(stored_ledger)
    giver = stored_ledger.repository.get(TAY_GIANG.line_id)
    receiver = stored_ledger.repository.get(DONG_GIANG.line_id)
    other = reopen(database)
    try:
        record(other, "disburse", "meanwhile", date(2024, 6, 3), DONG_GIANG, amount_vnd=1)
    finally:
        other.close()
    at = giver.modified_on
    giver.reallocate_out("r", date(2024, 7, 1), 10 * TY, at, to_holder="505")
    receiver.reallocate_in("r", date(2024, 7, 1), 10 * TY, at, from_holder="504")
    with pytest.raises(IntegrityError):
        stored_ledger.save(giver, receiver)
    head, lines = state(stored_ledger)
    assert lines[TAY_GIANG.label] == before[1][TAY_GIANG.label]
    assert (
        lines[DONG_GIANG.label]["disbursed_vnd"] == before[1][DONG_GIANG.label]["disbursed_vnd"] + 1
    )


def test_a_long_line_is_snapshotted_and_reloads_to_the_same_state(
    stored_ledger: BudgetLedger, database: str
) -> None:
    worked_example(stored_ledger)
    for number in range(limits.LINE_SNAPSHOT_INTERVAL + 5):
        record(
            stored_ledger,
            "disburse",
            f"p{number}",
            date(2024, 6, 2 + number % 20),
            TAY_GIANG,
            amount_vnd=1_000_000,
        )
    line = stored_ledger.get_line(TAY_GIANG)
    assert line is not None and line.version > limits.LINE_SNAPSHOT_INTERVAL
    assert stored_ledger.snapshots is not None
    snapshots = list(stored_ledger.snapshots.get(TAY_GIANG.line_id))
    assert [s.originator_version for s in snapshots] == [limits.LINE_SNAPSHOT_INTERVAL]
    other = reopen(database)
    try:
        reloaded = other.repository.get(TAY_GIANG.line_id)
        replayed = other.repository.get(TAY_GIANG.line_id, version=line.version)
        assert isinstance(reloaded, BudgetLine)
        assert reloaded.figures() == line.figures() == replayed.figures()
        assert reloaded.available_change_by_day == line.available_change_by_day
        assert check(other.journal(), other.list_lines()) == []
    finally:
        other.close()


def test_a_replay_from_another_process_answers_the_first_receipt(
    stored_ledger: BudgetLedger, database: str
) -> None:
    worked_example(stored_ledger)
    first = record(stored_ledger, "disburse", "once", date(2024, 6, 2), TAY_GIANG, amount_vnd=TY)
    before = state(stored_ledger)
    other = reopen(database)
    try:
        again = record(other, "disburse", "once", date(2024, 6, 2), TAY_GIANG, amount_vnd=TY)
    finally:
        other.close()
    assert again == first
    assert state(stored_ledger) == before


def test_the_audit_feed_pages_through_the_log_in_order(stored_ledger: BudgetLedger) -> None:
    worked_example(stored_ledger)
    head = stored_ledger.head_position()
    seen: list[int] = []
    after = 0
    while True:
        answered_head, page = stored_ledger.audit_feed(after, 7)
        assert answered_head == head
        if not page:
            break
        assert len(page) <= 7
        seen += [event["position"] for event in page]
        after = page[-1]["position"]
    assert seen == sorted(seen) and seen[-1] == head
    first = stored_ledger.audit_feed(0, 1)[1][0]
    assert first["topic"].startswith("budget_ledger:") and first["recorded_at"].tzinfo
    assert "originator_id" not in first["data"] and first["aggregate_version"] == 1
    assert stored_ledger.audit_feed(head, 10) == (head, [])
