"""The worked example of docs/worked-example.md and helpers to drive a ledger in tests."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from ledger.application import BudgetLedger
from ledger.domain.movements import KINDS, MovementRequest, movement
from ledger.domain.values import LineKey

TY = 10**9
LINE = LineKey("GNBV", "DTPT", "NSTW", 2024, "TW")
QUANG_NAM, DONG_GIANG, TAY_GIANG = (
    LINE.with_holder("49"),
    LINE.with_holder("505"),
    LINE.with_holder("504"),
)


def register_tree(ledger: BudgetLedger) -> None:
    for code, name, level, parent in [
        ("TW", "Trung ương", "central", None),
        ("49", "Tỉnh Quảng Nam", "province", "TW"),
        ("505", "Huyện Đông Giang", "district", "49"),
        ("504", "Huyện Tây Giang", "district", "49"),
        ("12", "Tỉnh Lai Châu", "province", "TW"),
        ("110", "Huyện Than Uyên", "district", "12"),
    ]:
        ledger.register_holder(code, name, level, parent, actor="tester")


def request(
    action: str, movement_id: str, day: date, line: LineKey | None = None, **kw: Any
) -> MovementRequest:
    """A movement of the kind ``action`` names; its citation, when not given, is made up."""
    kind = KINDS.get(action)
    reference = kind.reference if kind is not None else None
    if reference and reference not in kw:
        kw[reference] = f"REF {movement_id}"
    return movement(action, movement_id=movement_id, effective_date=day, line=line, **kw)


def record(
    ledger: BudgetLedger,
    action: str,
    movement_id: str,
    day: date,
    line: LineKey | None = None,
    **kw: Any,
) -> dict[str, Any]:
    receipt, _ = ledger.record(request(action, movement_id, day, line, **kw), actor="tester")
    return receipt


def worked_example(ledger: BudgetLedger) -> None:
    """docs/worked-example.md's example: one line, GNBV/DTPT/NSTW/2024, amounts in tỷ."""
    register_tree(ledger)
    record(ledger, "adjust", "w1", date(2024, 1, 2), LINE, amount_vnd=500 * TY)
    record(ledger, "allocate", "w2", date(2024, 1, 5), LINE, counterpart="49", amount_vnd=400 * TY)
    record(
        ledger,
        "allocate",
        "w3",
        date(2024, 1, 10),
        QUANG_NAM,
        counterpart="505",
        amount_vnd=150 * TY,
    )
    record(
        ledger,
        "allocate",
        "w4",
        date(2024, 1, 10),
        QUANG_NAM,
        counterpart="504",
        amount_vnd=100 * TY,
    )
    record(ledger, "disburse", "w5", date(2024, 3, 1), DONG_GIANG, amount_vnd=60 * TY)
    record(
        ledger,
        "reallocate",
        "w6",
        date(2024, 4, 1),
        DONG_GIANG,
        counterpart="504",
        amount_vnd=50 * TY,
    )
    record(ledger, "reverse", "w7", date(2024, 5, 1), reverses="w5", amount_vnd=10 * TY)
    record(ledger, "disburse", "w8", date(2024, 6, 1), TAY_GIANG, amount_vnd=120 * TY)


def state(ledger: BudgetLedger) -> tuple[int, dict[str, dict[str, Any]]]:
    """Everything a refusal must leave untouched: the log's head and every line's figures."""
    lines = {line.key.label: {**asdict(line.key), **line.figures()} for line in ledger.list_lines()}
    return ledger.head_position(), lines


def figures(ledger: BudgetLedger, key: LineKey) -> dict[str, Any]:
    line = ledger.get_line(key)
    assert line is not None
    return line.figures()
