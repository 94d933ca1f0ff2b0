"""Real concurrent writers in separate processes racing on the same line."""

from __future__ import annotations

import multiprocessing
from datetime import date
from typing import Any

import pytest

from ledger.application import BudgetLedger, open_ledger
from ledger.domain.audit import check
from ledger.domain.errors import LedgerError
from ledger.domain.values import LineKey
from tests.story import DONG_GIANG, TAY_GIANG, TY, figures, record, worked_example

WRITERS = 6


def _refused(
    ledger: BudgetLedger, movement_id: str, day: date, key: LineKey, amount_vnd: int
) -> str:
    """Disburse and expect a refusal that records nothing; returns the rule named."""
    head = ledger.head_position()
    with pytest.raises(LedgerError) as refusal:
        record(ledger, "disburse", movement_id, day, key, amount_vnd=amount_vnd)
    assert ledger.head_position() == head
    return refusal.value.rule


def _race(
    database: str, barrier: Any, results: Any, writer: int, attempts: int, amount: int
) -> None:
    ledger = open_ledger(database)
    try:
        key = LineKey(**TAY_GIANG.__dict__)
        barrier.wait()
        for attempt in range(attempts):
            try:
                record(
                    ledger,
                    "disburse",
                    f"w{writer}-{attempt}",
                    date(2024, 6, 2),
                    key,
                    amount_vnd=amount,
                )
                results.put(("recorded", writer))
            except LedgerError as error:
                results.put((error.rule, writer))
    finally:
        ledger.close()


def _run_writers(database: str, attempts: int, amount: int) -> list[str]:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    processes = [
        context.Process(target=_race, args=(database, barrier, results, n, attempts, amount))
        for n in range(WRITERS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120)[0] for _ in range(WRITERS * attempts)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return outcomes


def test_racing_writers_cannot_both_pass_a_check_only_one_should(
    stored_ledger: BudgetLedger, database: str
) -> None:
    worked_example(stored_ledger)  # 504 has 30 tỷ available
    outcomes = _run_writers(database, attempts=1, amount=20 * TY)
    assert outcomes.count("recorded") == 1
    assert outcomes.count("available-never-negative") == WRITERS - 1
    assert figures(stored_ledger, TAY_GIANG)["available_vnd"] == 10 * TY


def test_many_racing_payments_drain_a_line_exactly_and_never_below_zero(
    stored_ledger: BudgetLedger, database: str
) -> None:
    worked_example(stored_ledger)  # 30 tỷ available: exactly 30 payments of 1 tỷ fit
    outcomes = _run_writers(database, attempts=8, amount=TY)
    assert outcomes.count("recorded") == 30
    assert set(outcomes) <= {"recorded", "available-never-negative"}
    assert figures(stored_ledger, TAY_GIANG)["available_vnd"] == 0
    assert check(stored_ledger.journal(), stored_ledger.list_lines()) == []


def test_a_line_cached_in_one_process_reads_as_another_process_left_it(
    stored_ledger: BudgetLedger, database: str
) -> None:
    worked_example(stored_ledger)  # 504 has 30 tỷ available
    key = LineKey(**TAY_GIANG.__dict__)
    cached = stored_ledger.repository.get(key.line_id)  # now in this process's cache
    other = open_ledger(database)  # another server process, in effect
    try:
        record(other, "disburse", "other-1", date(2024, 6, 2), key, amount_vnd=25 * TY)
        written = other.repository.get(key.line_id)
    finally:
        other.close()
    line = stored_ledger.repository.get(key.line_id)
    assert line.version == written.version == cached.version + 1
    assert line.available_vnd == 5 * TY
    # A command planned on it is refused on what the store holds, and records nothing.
    rule = _refused(stored_ledger, "this-1", date(2024, 6, 3), key, 6 * TY)
    assert rule == "available-never-negative"
    record(stored_ledger, "disburse", "this-2", date(2024, 6, 3), key, amount_vnd=5 * TY)
    assert figures(stored_ledger, TAY_GIANG)["available_vnd"] == 0


def _cached_version(ledger: BudgetLedger, key: LineKey) -> int:
    cache = ledger.repository.cache
    assert cache is not None
    version: int = cache.get(key.line_id).version
    return version


def _stored_version(ledger: BudgetLedger, key: LineKey) -> int:
    return ledger.recorder.select_events(key.line_id, desc=True, limit=1)[0].originator_version


def test_a_line_saved_here_is_cached_as_saved_and_still_reads_another_process_writes(
    stored_ledger: BudgetLedger, database: str
) -> None:
    worked_example(stored_ledger)  # 504 has 30 tỷ available
    key = LineKey(**TAY_GIANG.__dict__)
    record(stored_ledger, "disburse", "this-1", date(2024, 6, 2), key, amount_vnd=TY)
    # Kept as saved: the next read's fast-forward has none of this process's own events to
    # fetch and replay.
    assert _cached_version(stored_ledger, key) == _stored_version(stored_ledger, key)
    other = open_ledger(database)  # another server process, in effect
    try:
        record(other, "disburse", "other-1", date(2024, 6, 2), key, amount_vnd=25 * TY)
    finally:
        other.close()
    # The copy kept here is behind the store now; a command on it is refused on what the
    # store holds (4 tỷ left), and records nothing.
    assert _cached_version(stored_ledger, key) == _stored_version(stored_ledger, key) - 1
    rule = _refused(stored_ledger, "this-2", date(2024, 6, 3), key, 5 * TY)
    assert rule == "available-never-negative"
    assert figures(stored_ledger, TAY_GIANG)["available_vnd"] == 4 * TY
    replayed = next(line for line in stored_ledger.replay_lines() if line.key == key)
    assert figures(stored_ledger, TAY_GIANG) == replayed.figures()


def test_a_line_whose_save_failed_is_not_cached_as_planned(
    stored_ledger: BudgetLedger, database: str
) -> None:
    worked_example(stored_ledger)  # 504 has 30 tỷ available
    key = LineKey(**TAY_GIANG.__dict__)
    stored_ledger.repository.get(key.line_id)  # in this process's cache
    other = open_ledger(database)
    try:
        # The id is taken elsewhere, for another line: this process's payment is planned on
        # 504 (its line changed in hand), then its save fails on the id.
        record(other, "disburse", "taken", date(2024, 6, 2), DONG_GIANG, amount_vnd=TY)
    finally:
        other.close()
    version = _stored_version(stored_ledger, key)
    with pytest.raises(LedgerError) as refusal:
        record(stored_ledger, "disburse", "taken", date(2024, 6, 2), key, amount_vnd=7 * TY)
    assert refusal.value.rule == "movement-id-reused"
    assert _stored_version(stored_ledger, key) == version
    assert _cached_version(stored_ledger, key) == version
    assert figures(stored_ledger, TAY_GIANG)["available_vnd"] == 30 * TY


def test_a_ledger_without_a_cache_records_and_refuses_the_same(
    database: str, monkeypatch: Any
) -> None:
    """AGGREGATE_CACHE_MAXSIZE set empty turns the process cache off (the benchmarks measure
    that way); every command then reads its lines from the store, and nothing may assume a
    cache to keep them in."""
    open_ledger(database, create=True).close()
    monkeypatch.setenv("AGGREGATE_CACHE_MAXSIZE", "")
    ledger = open_ledger(database)
    try:
        assert ledger.repository.cache is None
        worked_example(ledger)  # 504 has 30 tỷ available
        key = LineKey(**TAY_GIANG.__dict__)
        record(ledger, "disburse", "nc-1", date(2024, 6, 2), key, amount_vnd=TY)
        rule = _refused(ledger, "nc-2", date(2024, 6, 3), key, 30 * TY)
        assert rule == "available-never-negative"
        assert figures(ledger, TAY_GIANG)["available_vnd"] == 29 * TY
    finally:
        ledger.close()
