"""A succession into a holder that has no line of a key yet opens that line once, however
many predecessors pass a line of that key to it."""

from __future__ import annotations

from datetime import date

from ledger.application import BudgetLedger
from ledger.domain.movements import Succeed
from tests.story import DONG_GIANG, TAY_GIANG, TY, figures, worked_example


def test_two_predecessors_pass_their_lines_of_one_key_to_one_new_line(
    memory_ledger: BudgetLedger,
) -> None:
    worked_example(memory_ledger)  # 505 and 504 each hold a line of the same key
    succession = Succeed(
        movement_id="s",
        effective_date=date(2025, 7, 1),
        from_holders=("504", "505"),
        to_holder="50401",
        decision="NQ 1670/NQ-UBTVQH15",
        name="Xã Tây Giang",
        level="commune",
        parent="49",
    )
    memory_ledger.record(succession, actor="tester")
    merged = figures(memory_ledger, TAY_GIANG.with_holder("50401"))
    assert (merged["received_vnd"], merged["available_vnd"]) == (80 * TY, 80 * TY)
    assert figures(memory_ledger, DONG_GIANG)["passed_on_vnd"] == 50 * TY
