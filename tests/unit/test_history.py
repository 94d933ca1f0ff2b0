"""The audit trail's running figures: within an effective day a line's credits come before its
debits, so that "available after" adds up row by row and is never below zero when ``check``
finds nothing wrong (the rule is per day: available is never negative at the end of a day)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from ledger.application import BudgetLedger
from ledger.domain.audit import check, history
from tests.story import DONG_GIANG, LINE, TAY_GIANG, TY, record, register_tree
from tests.succession_story import ENDED_ON, EXPECTED, SUCCESSOR, succession_example

DAY = date(2024, 3, 10)


def back_dated_debit_before_a_same_day_credit(ledger: BudgetLedger) -> None:
    """505 pays out all it has on 10/3; a reallocation into 505 dated 10/3 is recorded later,
    and after it a payment back-dated to 5/3 that only that reallocation makes possible. In
    recording order 10/3 reads: 100 − 100 = 0 − 30 → −30, then + 30 → 0."""
    register_tree(ledger)
    record(ledger, "adjust", "a1", date(2024, 1, 2), LINE, amount_vnd=1000)
    record(ledger, "allocate", "a2", date(2024, 1, 2), LINE, counterpart="49", amount_vnd=1000)
    record(
        ledger,
        "allocate",
        "a3",
        date(2024, 1, 3),
        LINE.with_holder("49"),
        counterpart="505",
        amount_vnd=100,
    )
    record(
        ledger,
        "allocate",
        "a4",
        date(2024, 1, 3),
        LINE.with_holder("49"),
        counterpart="504",
        amount_vnd=100,
    )
    record(ledger, "disburse", "p1", DAY, DONG_GIANG, amount_vnd=100)
    record(ledger, "reallocate", "r1", DAY, TAY_GIANG, counterpart="505", amount_vnd=30)
    record(ledger, "disburse", "p2", date(2024, 3, 5), DONG_GIANG, amount_vnd=30)


def running_figures_problems(entries: list[dict[str, Any]]) -> list[str]:
    """Rows whose figures are negative or do not add up, line by line, in the order shown."""
    problems = []
    last: dict[str, int] = defaultdict(int)
    for entry in entries:
        label = "/".join(str(v) for v in entry["line"].values() if v is not None)
        where = f"{entry['movement_id']} on {label}"
        if entry["available_before_vnd"] != last[label]:
            problems.append(f"{where}: before is not the previous row's after")
        if (
            entry["available_before_vnd"] + entry["available_change_vnd"]
            != (entry["available_after_vnd"])
        ):
            problems.append(f"{where}: before + change is not after")
        if entry["available_after_vnd"] < 0 or entry["available_before_vnd"] < 0:
            problems.append(f"{where}: negative figure {entry['available_after_vnd']}")
        last[label] = entry["available_after_vnd"]
    return problems


def test_a_credit_recorded_later_comes_before_the_same_days_debits(
    memory_ledger: BudgetLedger,
) -> None:
    back_dated_debit_before_a_same_day_credit(memory_ledger)
    assert check(memory_ledger.journal(), memory_ledger.list_lines()) == []
    entries = history(memory_ledger.journal(), holder="505")
    assert running_figures_problems(entries) == []
    assert [(e["movement_id"], e["available_after_vnd"]) for e in entries] == [
        ("a3", 100),
        ("p2", 70),
        ("r1", 100),  # the day's credit first ...
        ("p1", 0),  # ... then its debit: the day ends where check says it does
    ]


def test_every_line_and_filter_sees_the_same_order(memory_ledger: BudgetLedger) -> None:
    back_dated_debit_before_a_same_day_credit(memory_ledger)
    whole = history(memory_ledger.journal())
    assert running_figures_problems(whole) == []
    # A filter keeps rows; it never changes a line's running figures.
    by_decision = history(memory_ledger.journal(), decision="REF r1")
    assert {e["line"]["holder"]: e["available_after_vnd"] for e in by_decision} == {
        "504": 70,
        "505": 100,
    }


def test_a_succession_of_two_holders_into_a_new_one_checks_out(
    memory_ledger: BudgetLedger,
) -> None:
    # Both predecessors hold a line of each key: the new holder's line is opened once.
    succession_example(memory_ledger)
    assert check(memory_ledger.journal(), memory_ledger.list_lines()) == []
    for key, expected in EXPECTED.items():
        line = memory_ledger.get_line(key)
        assert line is not None, key
        got = line.figures()
        assert {n: got[n] for n in expected} == {
            n: v * TY if isinstance(v, int) else v for n, v in expected.items()
        }, key


def test_a_succession_shows_on_both_lines_with_their_running_figures(
    memory_ledger: BudgetLedger,
) -> None:
    succession_example(memory_ledger)
    whole = history(memory_ledger.journal())
    assert running_figures_problems(whole) == []

    # The 2025 line that ended: its payment confirmed late sits before the day it ended, the
    # succession and what the late movements changed in what passed on sit on that day.
    ended = history(memory_ledger.journal(), holder="504", year=2025)
    assert [
        (e["movement_id"], e["effective_date"], e["changes"], e["available_after_vnd"] // TY)
        for e in ended
    ] == [
        ("d25", date(2025, 1, 15), {"assigned_vnd": 60 * TY}, 60),
        ("late1", date(2025, 6, 20), {"disbursed_vnd": 15 * TY}, 45),
        ("late1", ENDED_ON, {"passed_on_vnd": -15 * TY}, 60),  # the day's credit first ...
        ("s1", ENDED_ON, {"passed_on_vnd": 60 * TY}, 0),  # ... then its debit
    ]
    # The successor's line: what it received, by the succession and by each late movement.
    received = history(memory_ledger.journal(), holder=SUCCESSOR, year=2025)
    assert [
        (e["movement_id"], e["amount_vnd"] // TY, e["available_after_vnd"] // TY) for e in received
    ] == [
        ("s1", 60, 60),
        ("s1", 60, 120),
        ("late2", 5, 125),  # credits first on the day, each in the order recorded
        ("late1", -15, 110),
    ]
    assert all(
        (e["action"], e["movement_action"]) == ("succeed", "disburse")
        for e in received
        if e["movement_id"] == "late1"
    )
    # A filter by decision finds the succession on every line it touched, and nothing else.
    by_decision = history(memory_ledger.journal(), decision="NQ 1/2025/UBTVQH15")
    assert {e["movement_id"] for e in by_decision} == {"s1"}
    assert {(e["line"]["holder"], e["line"]["year"]) for e in by_decision} == {
        (holder, year) for holder in ("504", "505", SUCCESSOR) for year in (2024, 2025)
    }
    # The subtree of the province holds the successor and its predecessors.
    assert SUCCESSOR in memory_ledger.subtree("49") >= {"504", "505"}
