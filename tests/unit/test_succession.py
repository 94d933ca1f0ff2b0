"""Issue 14: what the books do at a succession, and money that keeps its deadline when it
moves. Each rule is tried against an in-memory ledger: a refusal is checked, and so is the
fact that nothing changed (lines, log and holders)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ledger.application import BudgetLedger
from ledger.domain.audit import check
from ledger.domain.errors import (
    HolderEnded,
    InsufficientFunds,
    InvalidInput,
    MovementIdConflict,
    NotRelated,
)
from ledger.domain.holders import subtree_of
from ledger.domain.movements import Succeed
from ledger.domain.values import LineKey
from tests.story import (
    DONG_GIANG,
    LINE,
    QUANG_NAM,
    TAY_GIANG,
    figures,
    record,
    register_tree,
    state,
)

D = date(2025, 7, 1)
# A 2025 line: its ordinary deadline (31/01/2026) is after the succession day.
LINE_2025 = LineKey("NTM", "DTPT", "NSTW", 2025, "TW")
P25, A25, B25 = (LINE_2025.with_holder(code) for code in ("49", "504", "505"))


def succeed(
    ledger: BudgetLedger, *olds: str, into: str, day: date = D, **kw: Any
) -> dict[str, Any]:
    request = Succeed(
        movement_id=kw.pop("movement_id", f"s-{'-'.join(olds)}-{into}"),
        effective_date=day,
        from_holders=olds,
        to_holder=into,
        decision=kw.pop("decision", "NQ 1670/NQ-UBTVQH15"),
        **kw,
    )
    receipt, _ = ledger.record(request, actor="tester")
    return receipt


def everything(ledger: BudgetLedger) -> tuple[Any, ...]:
    holders = {
        code: (h.ended_on, h.successor, tuple(map(tuple, h.placements)), h.version)
        for code, h in ledger.holders().items()
    }
    return state(ledger), holders


@pytest.fixture
def ledger(memory_ledger: BudgetLedger) -> BudgetLedger:
    """Quảng Nam (49) gives 2025 money to two districts, 504 and 505; 504 pays some."""
    register_tree(memory_ledger)
    record(memory_ledger, "adjust", "a", date(2025, 1, 2), LINE_2025, amount_vnd=1000)
    record(
        memory_ledger,
        "allocate",
        "b",
        date(2025, 1, 5),
        LINE_2025,
        counterpart="49",
        amount_vnd=600,
    )
    record(
        memory_ledger, "allocate", "c", date(2025, 1, 10), P25, counterpart="504", amount_vnd=300
    )
    record(
        memory_ledger, "allocate", "d", date(2025, 1, 10), P25, counterpart="505", amount_vnd=200
    )
    record(memory_ledger, "disburse", "e", date(2025, 3, 1), A25, amount_vnd=120, voucher="KB 1")
    return memory_ledger


def test_a_succession_passes_each_line_whole_to_the_successor(ledger: BudgetLedger) -> None:
    receipt = succeed(ledger, "504", "505", into="49")
    assert receipt["action"] == "succeed" and receipt["amount_vnd"] == 180 + 200
    old = figures(ledger, A25)
    assert old["available_vnd"] == 0 and old["passed_on_vnd"] == 180
    assert old["disbursed_vnd"] == 120 and old["assigned_vnd"] == 300  # the past stays
    province = figures(ledger, P25)
    assert province["received_vnd"] == 380
    assert province["available_vnd"] == 100 + 380
    assert ledger.get_holder("504").ended_on == D and ledger.get_holder("504").successor == "49"
    assert check(ledger.journal(), ledger.replay_lines()) == []


@pytest.mark.parametrize(
    ("action", "line", "extra"),
    [
        ("disburse", A25, {"amount_vnd": 1, "voucher": "KB 9"}),
        ("allocate", P25, {"counterpart": "504", "amount_vnd": 1}),
        ("reallocate", A25, {"counterpart": "505", "amount_vnd": 1}),
        ("reallocate", P25, {"counterpart": "504", "amount_vnd": 1}),
        ("adjust", A25, {"amount_vnd": 5}),
    ],
)
def test_nothing_effective_on_or_after_the_end_is_recorded_on_an_ended_holder(
    ledger: BudgetLedger, action: str, line: LineKey, extra: dict[str, Any]
) -> None:
    succeed(ledger, "504", into="49")
    before = everything(ledger)
    for day in (D, date(2025, 9, 1)):
        with pytest.raises(HolderEnded, match="49") as refused:
            record(ledger, action, f"late-{day}", day, line, **extra)
        assert refused.value.values["successor"] == "49"
    assert everything(ledger) == before


def test_a_late_payment_before_the_end_shrinks_what_passed_on(ledger: BudgetLedger) -> None:
    succeed(ledger, "504", into="49")
    record(ledger, "disburse", "june", date(2025, 6, 20), A25, amount_vnd=30, voucher="KB 2")
    old = figures(ledger, A25)
    assert (old["disbursed_vnd"], old["passed_on_vnd"], old["available_vnd"]) == (150, 150, 0)
    assert figures(ledger, P25)["received_vnd"] == 150
    assert figures(ledger, P25)["available_vnd"] == 100 + 150
    # A late reversal before the end gives it back, and on to the successor.
    record(ledger, "reverse", "back", date(2025, 6, 25), reverses="june", amount_vnd=10, reason="x")
    assert figures(ledger, A25)["passed_on_vnd"] == 160
    assert figures(ledger, P25)["received_vnd"] == 160
    assert check(ledger.journal(), ledger.replay_lines()) == []


def test_a_late_payment_is_refused_when_the_successor_has_spent_the_money(
    ledger: BudgetLedger,
) -> None:
    succeed(ledger, "504", into="49")
    record(ledger, "disburse", "july", date(2025, 7, 10), P25, amount_vnd=280, voucher="KB 3")
    before = everything(ledger)
    with pytest.raises(InsufficientFunds, match="49"):
        record(ledger, "disburse", "june", date(2025, 6, 20), A25, amount_vnd=30, voucher="KB 2")
    assert everything(ledger) == before
    # The old line itself must stay non-negative before the end.
    with pytest.raises(InsufficientFunds):
        record(ledger, "disburse", "june2", date(2025, 6, 20), A25, amount_vnd=181, voucher="K")
    assert everything(ledger) == before


def test_successions_chain(ledger: BudgetLedger) -> None:
    succeed(ledger, "504", into="505")
    succeed(ledger, "505", into="49", day=date(2026, 1, 1))
    assert figures(ledger, B25)["received_vnd"] == 180
    assert figures(ledger, B25)["passed_on_vnd"] == 380
    record(ledger, "disburse", "june", date(2025, 6, 20), A25, amount_vnd=30, voucher="KB 2")
    assert figures(ledger, A25)["passed_on_vnd"] == 150
    assert figures(ledger, B25)["passed_on_vnd"] == 350
    assert figures(ledger, P25)["received_vnd"] == 350
    assert figures(ledger, B25)["available_vnd"] == 0
    assert check(ledger.journal(), ledger.replay_lines()) == []
    tree = ledger.tree_on(date(2026, 2, 1))
    assert tree["504"] == "49" and tree["505"] == "49"  # both under the last successor


def test_a_new_successor_is_registered_by_the_succession(ledger: BudgetLedger) -> None:
    succeed(ledger, "504", "505", into="506", name="Huyện Mới", level="district", parent="49")
    new = ledger.get_holder("506")
    assert new.since == D and new.parent == "49" and new.name == "Huyện Mới"
    assert figures(ledger, LINE_2025.with_holder("506"))["received_vnd"] == 380
    before = everything(ledger)
    with pytest.raises(HolderEnded, match="from 2025-07-01"):
        record(
            ledger,
            "disburse",
            "x",
            date(2025, 6, 1),
            LINE_2025.with_holder("506"),
            amount_vnd=1,
            voucher="K",
        )
    assert everything(ledger) == before
    assert "506" not in ledger.tree_on(date(2025, 6, 30))
    # A code that ended is never registered again.
    with pytest.raises(InvalidInput, match="never"):
        ledger.register_holder("504", "Khác", "district", "49", actor="tester")


def test_a_merged_unit_may_keep_the_code_of_one_of_its_predecessors(ledger: BudgetLedger) -> None:
    succeed(ledger, "504", "505", into="505")
    assert ledger.get_holder("505").ended_on is None
    assert figures(ledger, B25)["received_vnd"] == 180
    assert ledger.get_holder("504").successor == "505"


@pytest.mark.parametrize(
    ("olds", "into", "kw", "error"),
    [
        (("49",), "504", {}, NotRelated),  # a holder below one that ends
        (("504",), "504", {}, InvalidInput),  # itself
        (("504",), "999", {}, InvalidInput),  # a new one without its name, level, parent
        (("504",), "999", {"name": "X", "level": "district", "parent": "505"}, NotRelated),
        (("504",), "505", {"name": "Other name"}, InvalidInput),
    ],
)
def test_a_succession_that_cannot_be_is_refused_whole(
    ledger: BudgetLedger, olds: tuple[str, ...], into: str, kw: dict[str, Any], error: type
) -> None:
    before = everything(ledger)
    with pytest.raises(error):
        succeed(ledger, *olds, into=into, **kw)
    assert everything(ledger) == before


def test_an_ended_holder_cannot_end_again_nor_receive(ledger: BudgetLedger) -> None:
    succeed(ledger, "504", into="49")
    before = everything(ledger)
    with pytest.raises(HolderEnded):
        succeed(ledger, "504", into="505", movement_id="again")
    with pytest.raises(HolderEnded, match="name 49"):
        succeed(ledger, "505", into="504", movement_id="into-ended")
    assert everything(ledger) == before


def test_a_succession_comes_before_anything_recorded_from_its_day(ledger: BudgetLedger) -> None:
    record(ledger, "disburse", "aug", date(2025, 8, 1), A25, amount_vnd=5, voucher="KB 5")
    before = everything(ledger)
    with pytest.raises(InvalidInput, match="2025-08-01"):
        succeed(ledger, "504", into="49")
    assert everything(ledger) == before


def test_the_same_succession_twice_is_recorded_once(ledger: BudgetLedger) -> None:
    first = succeed(ledger, "504", into="49", movement_id="s")
    head = ledger.head_position()
    assert succeed(ledger, "504", into="49", movement_id="s") == first
    assert ledger.head_position() == head
    with pytest.raises(MovementIdConflict):
        succeed(ledger, "504", into="49", movement_id="s", decision="another")


def test_children_of_an_ended_holder_sit_under_its_successor(memory_ledger: BudgetLedger) -> None:
    register_tree(memory_ledger)
    memory_ledger.register_holder("03388", "Phường Đoàn Kết", "commune", "110", actor="t")
    line = LINE_2025.with_holder("12")
    record(memory_ledger, "adjust", "a", date(2025, 1, 2), LINE_2025, amount_vnd=100)
    record(
        memory_ledger,
        "allocate",
        "b",
        date(2025, 1, 5),
        LINE_2025,
        counterpart="12",
        amount_vnd=100,
    )
    succeed(memory_ledger, "110", into="12")
    assert memory_ledger.tree_on(date(2025, 6, 30))["03388"] == "110"
    assert memory_ledger.tree_on(D)["03388"] == "12"
    assert subtree_of(memory_ledger.tree_on(D).items(), "12") >= {"12", "110", "03388"}
    # From D the province allocates to the commune directly.
    record(memory_ledger, "allocate", "c", D, line, counterpart="03388", amount_vnd=10)
    with pytest.raises(NotRelated):
        record(
            memory_ledger,
            "allocate",
            "d",
            date(2025, 6, 1),
            line,
            counterpart="03388",
            amount_vnd=10,
        )


def test_a_moved_holder_sits_under_its_new_parent_from_the_day(memory_ledger: BudgetLedger) -> None:
    register_tree(memory_ledger)
    memory_ledger.move_holder("110", "49", D, decision="QĐ 1/2025", actor="t")
    assert memory_ledger.tree_on(date(2025, 6, 30))["110"] == "12"
    assert memory_ledger.tree_on(D)["110"] == "49"
    assert memory_ledger.within("110", "12") and memory_ledger.within("110", "49")
    with pytest.raises(NotRelated):
        memory_ledger.move_holder("49", "110", D, decision="QĐ 2", actor="t")
    memory_ledger.rename_holder("110", "Xã Than Uyên", D, decision="QĐ 3", actor="t")
    holder = memory_ledger.get_holder("110")
    assert holder.name_on(date(2025, 6, 30)) == "Huyện Than Uyên"
    assert holder.name_on(D) == "Xã Than Uyên"


# -- Money keeps its vintage and its deadline when it moves ------------------------------------


@pytest.fixture
def extended(memory_ledger: BudgetLedger) -> BudgetLedger:
    """The issue's case: 504's 2024 line has 100 undisbursed at the year's end, extended."""
    register_tree(memory_ledger)
    record(memory_ledger, "adjust", "a", date(2024, 1, 2), LINE, amount_vnd=500)
    record(memory_ledger, "allocate", "b", date(2024, 1, 5), LINE, counterpart="49", amount_vnd=400)
    record(
        memory_ledger,
        "allocate",
        "c",
        date(2024, 1, 10),
        QUANG_NAM,
        counterpart="504",
        amount_vnd=100,
    )
    record(
        memory_ledger,
        "allocate",
        "d",
        date(2024, 1, 10),
        QUANG_NAM,
        counterpart="505",
        amount_vnd=50,
    )
    until = date(2025, 12, 31)
    record(memory_ledger, "extend", "e", date(2025, 1, 20), TAY_GIANG, until=until, amount_vnd=100)
    return memory_ledger


def test_reallocated_extended_money_keeps_its_deadline(extended: BudgetLedger) -> None:
    record(
        extended, "reallocate", "r", date(2025, 3, 1), TAY_GIANG, counterpart="505", amount_vnd=60
    )
    assert figures(extended, TAY_GIANG)["extended_vnd"] == 40
    assert figures(extended, DONG_GIANG)["extended_vnd"] == 60
    assert figures(extended, DONG_GIANG)["deadline"] == date(2025, 12, 31)
    # 505 pays the 60 after the ordinary deadline without an extension of its own...
    record(extended, "disburse", "p", date(2025, 4, 1), DONG_GIANG, amount_vnd=60, voucher="KB")
    # ...but not its own 50, which was never extended.
    before = everything(extended)
    with pytest.raises(Exception, match="extended"):
        record(extended, "disburse", "q", date(2025, 4, 2), DONG_GIANG, amount_vnd=1, voucher="K")
    assert everything(extended) == before
    total = sum(figures(extended, key)["extended_vnd"] for key in (TAY_GIANG, DONG_GIANG))
    assert total == 100  # no figure counts it twice
    assert check(extended.journal(), extended.replay_lines()) == []


def test_extended_money_passes_with_its_deadline_at_a_succession(extended: BudgetLedger) -> None:
    succeed(extended, "504", into="49")
    assert figures(extended, TAY_GIANG)["extended_vnd"] == 0
    province = figures(extended, QUANG_NAM)
    assert province["extended_vnd"] == 100 and province["deadline"] == date(2025, 12, 31)
    record(extended, "disburse", "p", date(2025, 8, 1), QUANG_NAM, amount_vnd=100, voucher="KB")
    assert check(extended.journal(), extended.replay_lines()) == []


def test_extended_money_joins_a_line_extended_to_a_later_date_with_its_own_deadline(
    extended: BudgetLedger,
) -> None:
    # 505 has its own 50 extended to 30/6/2026; 60 of 504's money extended to 31/12/2025
    # comes in: both may be paid in 2025, only 505's own 50 after 31/12/2025.
    later = {"until": date(2026, 6, 30), "amount_vnd": 50}
    record(extended, "extend", "e2", date(2025, 1, 20), DONG_GIANG, **later)
    moved = {"counterpart": "505", "amount_vnd": 60}
    record(extended, "reallocate", "r", date(2025, 3, 1), TAY_GIANG, **moved)
    assert figures(extended, DONG_GIANG)["deadline"] == date(2026, 6, 30)
    record(extended, "disburse", "p1", date(2025, 6, 1), DONG_GIANG, amount_vnd=100, voucher="K")
    before = everything(extended)
    with pytest.raises(Exception, match="extended"):
        record(extended, "disburse", "p2", date(2026, 2, 1), DONG_GIANG, amount_vnd=11, voucher="K")
    assert everything(extended) == before
    record(extended, "disburse", "p3", date(2026, 2, 1), DONG_GIANG, amount_vnd=10, voucher="K")
    assert check(extended.journal(), extended.replay_lines()) == []


def test_money_that_is_not_extended_moves_without_a_deadline(memory_ledger: BudgetLedger) -> None:
    register_tree(memory_ledger)
    record(memory_ledger, "adjust", "a", date(2024, 1, 2), LINE, amount_vnd=500)
    record(memory_ledger, "allocate", "b", date(2024, 1, 5), LINE, counterpart="49", amount_vnd=400)
    assert figures(memory_ledger, QUANG_NAM)["extended_vnd"] == 0
    assert figures(memory_ledger, QUANG_NAM)["deadline"] == date(2025, 1, 31)


def test_a_late_payment_under_an_extension_passed_on_takes_it_back(
    extended: BudgetLedger,
) -> None:
    succeed(extended, "504", into="49")
    # Paid in June under 504's extension, confirmed after 504 ended on 1 July.
    record(extended, "disburse", "june", date(2025, 6, 20), TAY_GIANG, amount_vnd=30, voucher="K")
    old, province = figures(extended, TAY_GIANG), figures(extended, QUANG_NAM)
    assert (old["disbursed_vnd"], old["passed_on_vnd"], old["extended_vnd"]) == (30, 70, 30)
    assert (province["received_vnd"], province["extended_vnd"]) == (70, 70)
    assert check(extended.journal(), extended.replay_lines()) == []


def test_close_year_leaves_an_ended_holder_s_lines_to_its_successor(
    extended: BudgetLedger,
) -> None:
    # 505's 50 was never extended; 504's 100 was. 505 ends into 49 on 1/7/2025, and then
    # 2024 is closed as of 3/2/2025 (recorded late): nothing lapses on 505's line (it passed
    # on whole); run again, nothing more.
    succeed(extended, "505", into="49")
    extended.close_year(2024, date(2025, 2, 3), actor="tester")
    assert figures(extended, DONG_GIANG)["lapsed_vnd"] == 0
    assert figures(extended, TAY_GIANG)["available_vnd"] == 100  # extended: kept
    before = everything(extended)
    assert extended.close_year(2024, date(2025, 2, 3), actor="tester") == []
    assert everything(extended) == before
    assert check(extended.journal(), extended.replay_lines()) == []


def test_a_payment_taken_back_after_its_holder_ended_comes_back_to_the_successor(
    ledger: BudgetLedger,
) -> None:
    succeed(ledger, "504", into="49")
    province_before = figures(ledger, P25)["available_vnd"]
    record(ledger, "reverse", "back", date(2025, 7, 25), reverses="e", amount_vnd=20, reason="x")
    assert figures(ledger, A25)["disbursed_vnd"] == 120  # the old line keeps its past
    assert figures(ledger, P25)["disbursed_vnd"] == -20
    assert figures(ledger, P25)["available_vnd"] == province_before + 20
    assert check(ledger.journal(), ledger.replay_lines()) == []


def test_a_succession_is_the_same_whatever_order_its_holders_are_named_in() -> None:
    one = Succeed(
        movement_id="s",
        effective_date=D,
        from_holders=("505", "504", "505"),
        to_holder="49",
        decision="NQ",
    )
    other = Succeed(
        movement_id="s",
        effective_date=D,
        from_holders=("504", "505"),
        to_holder="49",
        decision="NQ",
    )
    assert one.from_holders == ("504", "505") and one.fingerprint() == other.fingerprint()
