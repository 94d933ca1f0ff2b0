"""Where a ledger takes the time each write records (``BudgetLedger.now``): its clock, the
real one unless the demo gives its own, and never later than the real time."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.application import open_ledger, utc_now
from ledger.demo.clock import DemoClock, office


def test_a_clock_ahead_of_the_real_time_records_the_real_time(database: str) -> None:
    ledger = open_ledger(database, create=True, clock=lambda: datetime(2100, 1, 1, tzinfo=UTC))
    try:
        before = utc_now()
        holder = ledger.register_holder("TW", "Trung ương", "central", None, actor="t")
        assert before <= holder.created_on <= utc_now()
        assert ledger.last_recorded_at() == holder.created_on
    finally:
        ledger.close()


def test_the_demo_clock_records_what_its_builder_set_never_going_back(database: str) -> None:
    clock = DemoClock()
    ledger = open_ledger(database, create=True, clock=clock)
    try:
        started = ledger.last_recorded_at()  # the built-in programs, made with the ledger
        assert started == clock() and started is not None and started.tzinfo == UTC
        clock.set(office(datetime(2024, 3, 1).date(), 9))
        first = ledger.register_holder("TW", "Trung ương", "central", None, actor="t")
        clock.set(office(datetime(2024, 2, 1).date(), 9))  # earlier: not taken
        second = ledger.register_holder("49", "Tỉnh Quảng Nam", "province", "TW", actor="t")
        assert first.created_on == second.created_on == office(datetime(2024, 3, 1).date(), 9)
        assert ledger.last_recorded_at() == second.created_on
    finally:
        ledger.close()
