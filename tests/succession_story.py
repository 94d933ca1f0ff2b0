"""A succession on the worked example (tests/story.py), for the readers of events and movements:
504 and 505 end on 1 July 2025 into a new district 506, their 2024 lines (504's extended) and
2025 lines pass on; then a payment and an allocation effective before that day are recorded
late, and 506 pays under the extension it took over."""

from __future__ import annotations

from datetime import date

from ledger.application import BudgetLedger
from ledger.domain.movements import Succeed
from ledger.domain.values import LineKey
from tests.story import LINE, TAY_GIANG, TY, record, worked_example

LINE_2025 = LineKey("GNBV", "DTPT", "NSTW", 2025, "TW")
ENDED_ON = date(2025, 7, 1)
SUCCESSOR = "506"
SUCCESSION = Succeed(
    movement_id="s1",
    effective_date=ENDED_ON,
    from_holders=("504", "505"),
    to_holder=SUCCESSOR,
    name="Huyện Đông Tây Giang",
    level="district",
    parent="49",
    decision="NQ 1/2025/UBTVQH15",
)


def before_the_succession(ledger: BudgetLedger) -> None:
    """The worked example, 504's 2024 line extended, and 2025 lines for 504 and 505."""
    worked_example(ledger)
    record(
        ledger, "extend", "x1", date(2025, 1, 20), TAY_GIANG, until=date(2025, 12, 31), basis="NQ 1"
    )
    record(ledger, "adjust", "a25", date(2025, 1, 5), LINE_2025, amount_vnd=300 * TY)
    record(
        ledger,
        "allocate",
        "b25",
        date(2025, 1, 10),
        LINE_2025,
        counterpart="49",
        amount_vnd=200 * TY,
    )
    province = LINE_2025.with_holder("49")
    record(
        ledger,
        "allocate",
        "c25",
        date(2025, 1, 15),
        province,
        counterpart="505",
        amount_vnd=80 * TY,
    )
    record(
        ledger,
        "allocate",
        "d25",
        date(2025, 1, 15),
        province,
        counterpart="504",
        amount_vnd=60 * TY,
    )
    record(
        ledger,
        "disburse",
        "e25",
        date(2025, 3, 1),
        LINE_2025.with_holder("505"),
        amount_vnd=20 * TY,
    )


def after_the_succession(ledger: BudgetLedger) -> None:
    """Recorded after the succession: a payment and an allocation effective before it (what
    passed on shrinks by 15 and grows by 5), and a payment of 506 under 504's extension."""
    record(
        ledger,
        "disburse",
        "late1",
        date(2025, 6, 20),
        LINE_2025.with_holder("504"),
        amount_vnd=15 * TY,
    )
    record(
        ledger,
        "allocate",
        "late2",
        date(2025, 6, 1),
        LINE_2025.with_holder("49"),
        counterpart="505",
        amount_vnd=5 * TY,
    )
    record(
        ledger,
        "disburse",
        "after1",
        date(2025, 8, 1),
        LINE.with_holder(SUCCESSOR),
        amount_vnd=10 * TY,
    )


def succession_example(ledger: BudgetLedger) -> None:
    before_the_succession(ledger)
    ledger.record(SUCCESSION, actor="tester")
    after_the_succession(ledger)


# The figures it leaves (tỷ), as ``BudgetLine.figures`` names them.
EXPECTED = {
    LINE.with_holder("504"): {"passed_on_vnd": 30, "available_vnd": 0},
    LINE.with_holder("505"): {"passed_on_vnd": 50, "available_vnd": 0},
    LINE.with_holder(SUCCESSOR): {
        "received_vnd": 80, "assigned_vnd": 80, "disbursed_vnd": 10, "available_vnd": 70,
        "extended_vnd": 30, "deadline": date(2025, 12, 31),
    },
    LINE_2025.with_holder("504"): {"disbursed_vnd": 15, "passed_on_vnd": 45, "available_vnd": 0},
    LINE_2025.with_holder("505"): {
        "assigned_vnd": 85, "disbursed_vnd": 20, "passed_on_vnd": 65, "available_vnd": 0
    },
    LINE_2025.with_holder(SUCCESSOR): {"received_vnd": 110, "available_vnd": 110},
}  # fmt: skip


def chained(ledger: BudgetLedger) -> None:
    """After ``succession_example``: 506 ends in turn into the province on 1/10/2025, then a
    payment of 504 effective 25/6 arrives, which takes back from what 504 passed to 506 on
    1/7 and from what 506 passed to 49 on 1/10."""
    ledger.record(
        Succeed(
            movement_id="s2",
            effective_date=date(2025, 10, 1),
            from_holders=(SUCCESSOR,),
            to_holder="49",
            decision="NQ 2/2025",
        ),
        actor="tester",
    )
    record(
        ledger,
        "disburse",
        "late3",
        date(2025, 6, 25),
        LINE_2025.with_holder("504"),
        amount_vnd=5 * TY,
    )
