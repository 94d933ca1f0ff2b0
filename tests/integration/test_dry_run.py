"""A dry run of every ledger write: every check runs, the same refusals, nothing recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ledger.application import BudgetLedger
from ledger.domain.errors import InsufficientFunds
from ledger.storage.config import persistence_environment
from tests.story import DONG_GIANG, TAY_GIANG, TY, request, state, worked_example


def test_a_dry_run_movement_records_nothing_and_gives_the_receipt(
    stored_ledger: BudgetLedger,
) -> None:
    worked_example(stored_ledger)
    before = state(stored_ledger)
    move = request(
        "reallocate", "dry-1", date(2024, 2, 1), DONG_GIANG, counterpart="504", amount_vnd=20 * TY
    )
    receipt, replayed = stored_ledger.record(move, actor="tester", dry_run=True)
    assert replayed is False
    assert receipt["movement_id"] == "dry-1"
    assert state(stored_ledger) == before
    # The real write still works afterwards, and gives the same movement.
    real, _ = stored_ledger.record(move, actor="tester")
    assert real["movement_id"] == "dry-1"
    assert state(stored_ledger) != before


def test_a_dry_run_replay_says_so(stored_ledger: BudgetLedger) -> None:
    worked_example(stored_ledger)
    move = request("disburse", "w8", date(2024, 6, 1), TAY_GIANG, amount_vnd=120 * TY)
    before = state(stored_ledger)
    _, replayed = stored_ledger.record(move, actor="tester", dry_run=True)
    assert replayed is True
    assert state(stored_ledger) == before


def test_a_dry_run_overdraw_is_refused_as_the_real_one(stored_ledger: BudgetLedger) -> None:
    worked_example(stored_ledger)
    before = state(stored_ledger)
    move = request(
        "reallocate", "dry-2", date(2024, 2, 1), DONG_GIANG, counterpart="504", amount_vnd=45 * TY
    )
    with pytest.raises(InsufficientFunds) as dry:
        stored_ledger.record(move, actor="tester", dry_run=True)
    with pytest.raises(InsufficientFunds) as real:
        stored_ledger.record(move, actor="tester")
    assert str(dry.value) == str(real.value)
    assert state(stored_ledger) == before


def test_dry_run_holder_program_and_close_year_writes_record_nothing(
    stored_ledger: BudgetLedger,
) -> None:
    worked_example(stored_ledger)
    before = state(stored_ledger)
    stored_ledger.register_holder(
        "506", "Huyện Nam Giang", "district", "49", actor="t", dry_run=True
    )
    stored_ledger.move_holder(
        "505", "12", date(2024, 7, 1), decision="QĐ 1", actor="t", dry_run=True
    )
    stored_ledger.rename_holder(
        "505", "Khác", date(2024, 7, 1), decision="QĐ 1", actor="t", dry_run=True
    )
    receipts = stored_ledger.close_year(2024, date(2025, 2, 1), actor="t", dry_run=True)
    assert receipts  # it says what would lapse
    assert state(stored_ledger) == before
    assert "506" not in stored_ledger.holders()
    assert stored_ledger.get_holder("505").name == "Huyện Đông Giang"


def test_the_preview_shows_a_backdated_reallocation_on_every_later_posting(
    stored_ledger: BudgetLedger,
) -> None:
    worked_example(stored_ledger)
    before = state(stored_ledger)
    move = request(
        "reallocate", "dry-3", date(2024, 2, 1), DONG_GIANG, counterpart="504", amount_vnd=20 * TY
    )
    shown = {
        entry["line"]["holder"]: entry["dates"]
        for entry in stored_ledger.preview(move, actor="tester")
    }
    assert shown["505"] == [
        {"date": date(2024, 2, 1), "before_vnd": 150 * TY, "after_vnd": 130 * TY},
        {"date": date(2024, 3, 1), "before_vnd": 90 * TY, "after_vnd": 70 * TY},
        {"date": date(2024, 4, 1), "before_vnd": 40 * TY, "after_vnd": 20 * TY},
        {"date": date(2024, 5, 1), "before_vnd": 50 * TY, "after_vnd": 30 * TY},
    ]
    assert shown["504"] == [
        {"date": date(2024, 2, 1), "before_vnd": 100 * TY, "after_vnd": 120 * TY},
        {"date": date(2024, 4, 1), "before_vnd": 150 * TY, "after_vnd": 170 * TY},
        {"date": date(2024, 6, 1), "before_vnd": 30 * TY, "after_vnd": 50 * TY},
    ]
    assert state(stored_ledger) == before


def test_dry_run_program_writes_record_nothing(stored_ledger: BudgetLedger) -> None:
    before = (stored_ledger.head_position(), stored_ledger.list_programs())
    stored_ledger.register_program(
        "MTQG2635",
        "Chương trình 2026-2035",
        2026,
        2035,
        decision="NQ 257",
        actor="t",
        dry_run=True,
    )
    assert (stored_ledger.head_position(), stored_ledger.list_programs()) == before
    assert stored_ledger.get_program("MTQG2635") is None



@pytest.fixture
def before_the_registry(database: str) -> Iterator[BudgetLedger]:
    """A stored ledger made before the program registry: it never recorded its built-in
    programs (``open_ledger(create=True)`` records them now)."""
    env = {**persistence_environment(database), "CREATE_TABLE": "yes"}
    ledger = BudgetLedger(env=env, database=database)
    yield ledger
    ledger.close()


def test_a_dry_run_ratio_on_a_built_in_program_never_recorded(
    before_the_registry: BudgetLedger,
) -> None:
    """A dry run of a ratio on a built-in program this ledger never recorded plans on the
    program the real write would record first; it records nothing."""
    ledger = before_the_registry
    assert {p.registered_at for p in ledger.list_programs()} == {None}
    head = ledger.head_position()
    ratio, recorded = ledger.set_counterpart_ratio(
        "GNBV", 2024, "10", "QĐ 1719/QĐ-TTg", actor="kt", dry_run=True
    )
    assert (ratio, recorded) == (1000, True)
    assert ledger.head_position() == head
    assert ledger.counterpart_ratios(2024) == {}
    assert {p.registered_at for p in ledger.list_programs()} == {None}
    # The real write afterwards records the built-in programs, then the ratio.
    real = ledger.set_counterpart_ratio("GNBV", 2024, "10", "QĐ 1719/QĐ-TTg", actor="kt")
    assert real == (1000, True)
    assert ledger.counterpart_ratios(2024) == {"GNBV": 10.0}
