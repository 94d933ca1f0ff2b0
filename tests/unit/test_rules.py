"""Every rule of the ledger, each tried against an in-memory ledger: the refusal is checked
and so is the fact that nothing changed."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.application import BudgetLedger
from ledger.domain import limits
from ledger.domain.audit import check
from ledger.domain.errors import (
    InsufficientFunds,
    InvalidInput,
    MovementIdConflict,
    NotExtended,
    NothingToDo,
    NotRelated,
    PastDeadline,
    UnknownHolder,
    UnknownMovement,
)
from ledger.domain.values import LineKey
from tests.story import (
    DONG_GIANG,
    LINE,
    QUANG_NAM,
    TAY_GIANG,
    TY,
    figures,
    record,
    register_tree,
    request,
    state,
    worked_example,
)


@pytest.fixture
def ledger(memory_ledger: BudgetLedger) -> BudgetLedger:
    worked_example(memory_ledger)
    return memory_ledger


def test_worked_example_gives_the_figures_of_its_docs(ledger: BudgetLedger) -> None:
    assert figures(ledger, DONG_GIANG) | {} == {
        "assigned_vnd": 100 * TY,
        "allocated_on_vnd": 0,
        "disbursed_vnd": 50 * TY,
        "lapsed_vnd": 0,
        "passed_on_vnd": 0,
        "received_vnd": 0,
        "available_vnd": 50 * TY,
        "extended_vnd": 0,
        "deadline": date(2025, 1, 31),
    }
    assert figures(ledger, TAY_GIANG)["available_vnd"] == 30 * TY
    assert figures(ledger, TAY_GIANG)["assigned_vnd"] == 150 * TY
    assert figures(ledger, QUANG_NAM)["allocated_on_vnd"] == 250 * TY
    assert figures(ledger, QUANG_NAM)["available_vnd"] == 150 * TY
    assert figures(ledger, LINE)["available_vnd"] == 100 * TY
    assert check(ledger.journal(), ledger.list_lines()) == []


def test_back_dated_payment_that_would_overdraw_a_later_date_is_refused(
    ledger: BudgetLedger,
) -> None:
    # docs/worked-example.md: 60 at 505 dated 01/02 fits on 01/02 but leaves −20 on 01/04.
    before = state(ledger)
    with pytest.raises(InsufficientFunds, match="2024-04-01"):
        record(ledger, "disburse", "late", date(2024, 2, 1), DONG_GIANG, amount_vnd=60 * TY)
    assert state(ledger) == before


def test_back_dated_payment_that_fits_every_later_date_is_recorded(ledger: BudgetLedger) -> None:
    record(ledger, "disburse", "late", date(2024, 2, 1), DONG_GIANG, amount_vnd=40 * TY)
    assert figures(ledger, DONG_GIANG)["available_vnd"] == 10 * TY


def test_allocating_more_than_available_is_refused(ledger: BudgetLedger) -> None:
    before = state(ledger)
    with pytest.raises(InsufficientFunds):
        record(
            ledger,
            "allocate",
            "x",
            date(2024, 6, 1),
            QUANG_NAM,
            counterpart="505",
            amount_vnd=150 * TY + 1,
        )
    assert state(ledger) == before


def test_negative_adjustment_below_zero_on_a_later_date_is_refused(ledger: BudgetLedger) -> None:
    before = state(ledger)
    # TW has 500 from 02/01 but only 100 from 05/01 on: a cut of 200 dated 03/01 is refused.
    with pytest.raises(InsufficientFunds):
        record(ledger, "adjust", "cut", date(2024, 1, 3), LINE, amount_vnd=-200 * TY)
    assert state(ledger) == before
    record(ledger, "adjust", "cut", date(2024, 1, 3), LINE, amount_vnd=-100 * TY)
    assert figures(ledger, LINE)["available_vnd"] == 0


def test_reallocation_that_would_overdraw_changes_neither_side(ledger: BudgetLedger) -> None:
    before = state(ledger)
    with pytest.raises(InsufficientFunds):
        record(
            ledger,
            "reallocate",
            "r",
            date(2024, 7, 1),
            TAY_GIANG,
            counterpart="505",
            amount_vnd=31 * TY,
        )
    assert state(ledger) == before


def test_reallocation_moves_money_both_ways_at_once(ledger: BudgetLedger) -> None:
    receipt = record(
        ledger,
        "reallocate",
        "r",
        date(2024, 7, 1),
        TAY_GIANG,
        counterpart="505",
        amount_vnd=30 * TY,
    )
    assert [entry["available_vnd"] for entry in receipt["lines"]] == [0, 80 * TY]
    assert check(ledger.journal(), ledger.list_lines()) == []


def test_allocation_only_goes_to_a_direct_child(ledger: BudgetLedger) -> None:
    before = state(ledger)
    with pytest.raises(NotRelated):
        record(ledger, "allocate", "x", date(2024, 6, 1), LINE, counterpart="505", amount_vnd=1)
    with pytest.raises(NotRelated):
        record(
            ledger, "allocate", "y", date(2024, 6, 1), QUANG_NAM, counterpart="110", amount_vnd=1
        )
    assert state(ledger) == before


def test_unknown_holders_are_refused(ledger: BudgetLedger) -> None:
    before = state(ledger)
    with pytest.raises(UnknownHolder):
        record(ledger, "adjust", "x", date(2024, 6, 1), LINE.with_holder("999"), amount_vnd=1)
    with pytest.raises(UnknownHolder):
        record(
            ledger, "reallocate", "y", date(2024, 6, 1), TAY_GIANG, counterpart="999", amount_vnd=1
        )
    assert state(ledger) == before


def test_payment_after_the_deadline_is_refused_and_an_extension_moves_it(
    ledger: BudgetLedger,
) -> None:
    before = state(ledger)
    with pytest.raises(PastDeadline):
        record(ledger, "disburse", "x", date(2025, 2, 1), TAY_GIANG, amount_vnd=1 * TY)
    assert state(ledger) == before
    record(ledger, "disburse", "on-deadline", date(2025, 1, 31), TAY_GIANG, amount_vnd=1 * TY)
    record(
        ledger,
        "extend",
        "e",
        date(2025, 1, 20),
        TAY_GIANG,
        until=date(2025, 12, 31),
        amount_vnd=20 * TY,
        basis="NQ 111/2024/QH15",
    )
    assert figures(ledger, TAY_GIANG)["deadline"] == date(2025, 12, 31)
    assert figures(ledger, TAY_GIANG)["extended_vnd"] == 20 * TY
    record(ledger, "disburse", "x", date(2025, 2, 1), TAY_GIANG, amount_vnd=15 * TY)
    # Only the extended 20 may be paid after 31/01/2025; 15 of it is paid.
    with pytest.raises(NotExtended):
        record(ledger, "disburse", "y", date(2025, 3, 1), TAY_GIANG, amount_vnd=6 * TY)
    with pytest.raises(PastDeadline):
        record(ledger, "disburse", "z", date(2026, 1, 1), TAY_GIANG, amount_vnd=1 * TY)


def test_extension_must_move_the_deadline_later_and_fit_what_is_undisbursed(
    ledger: BudgetLedger,
) -> None:
    before = state(ledger)
    with pytest.raises(InvalidInput, match="later date"):
        record(ledger, "extend", "e", date(2025, 1, 20), TAY_GIANG, until=date(2025, 1, 31))
    with pytest.raises(InsufficientFunds):
        record(
            ledger,
            "extend",
            "e",
            date(2025, 1, 20),
            TAY_GIANG,
            until=date(2025, 12, 31),
            amount_vnd=30 * TY + 1,
        )
    assert state(ledger) == before


def test_lapse_returns_what_was_not_disbursed_nor_extended(ledger: BudgetLedger) -> None:
    with pytest.raises(PastDeadline):
        record(ledger, "lapse", "too-early", date(2025, 1, 30), DONG_GIANG)
    record(
        ledger,
        "extend",
        "e",
        date(2025, 1, 10),
        DONG_GIANG,
        until=date(2025, 12, 31),
        amount_vnd=20 * TY,
    )
    receipt = record(ledger, "lapse", "l1", date(2025, 2, 1), DONG_GIANG)
    assert receipt["amount_vnd"] == 30 * TY  # 50 available, 20 carried on
    line = figures(ledger, DONG_GIANG)
    assert (line["lapsed_vnd"], line["available_vnd"]) == (30 * TY, 20 * TY)
    with pytest.raises(NothingToDo):
        record(ledger, "lapse", "l2", date(2025, 2, 2), DONG_GIANG)
    # Nothing is paid from a lapsed amount: a payment dated before the lapse but recorded
    # after it may not take more than the extension left.
    with pytest.raises(InsufficientFunds):
        record(ledger, "disburse", "p", date(2025, 1, 15), DONG_GIANG, amount_vnd=21 * TY)
    receipt = record(ledger, "lapse", "l3", date(2026, 1, 1), DONG_GIANG)
    assert receipt["amount_vnd"] == 20 * TY
    assert figures(ledger, DONG_GIANG)["available_vnd"] == 0
    assert check(ledger.journal(), ledger.list_lines()) == []


def test_close_year_lapses_every_line_past_its_deadline_once(ledger: BudgetLedger) -> None:
    assert ledger.close_year(2024, date(2025, 1, 1), actor="t") == []
    receipts = ledger.close_year(2024, date(2025, 2, 1), actor="t")
    lapsed = {r["lines"][0]["line"]["holder"]: r["amount_vnd"] for r in receipts}
    assert lapsed == {"TW": 100 * TY, "49": 150 * TY, "505": 50 * TY, "504": 30 * TY}
    before = state(ledger)
    assert ledger.close_year(2024, date(2025, 2, 1), actor="t") == []
    assert state(ledger) == before
    assert all(line.available_vnd == 0 for line in ledger.list_lines())
    assert check(ledger.journal(), ledger.list_lines()) == []


def test_reversal_cannot_take_back_more_than_remains(ledger: BudgetLedger) -> None:
    before = state(ledger)
    with pytest.raises(InsufficientFunds):
        record(ledger, "reverse", "r", date(2024, 6, 1), reverses="w5", amount_vnd=50 * TY + 1)
    with pytest.raises(UnknownMovement):
        record(ledger, "reverse", "r", date(2024, 6, 1), reverses="w6")
    with pytest.raises(UnknownMovement):
        record(ledger, "reverse", "r", date(2024, 6, 1), reverses="nope")
    with pytest.raises(InvalidInput, match="before the payment"):
        record(ledger, "reverse", "r", date(2024, 2, 1), reverses="w5")
    assert state(ledger) == before
    receipt = record(ledger, "reverse", "r", date(2024, 6, 1), reverses="w5")
    assert receipt["amount_vnd"] == 50 * TY
    with pytest.raises(NothingToDo):
        record(ledger, "reverse", "r2", date(2024, 6, 1), reverses="w5", amount_vnd=1)


def test_same_id_same_content_records_nothing_and_answers_the_same(ledger: BudgetLedger) -> None:
    first, replayed = ledger.record(
        request("disburse", "p1", date(2024, 6, 2), TAY_GIANG, amount_vnd=30 * TY), actor="a"
    )
    assert not replayed
    before = state(ledger)
    # Replayed after the line was drained: the answer is still the first one, not a refusal.
    again, replayed = ledger.record(
        request("disburse", "p1", date(2024, 6, 2), TAY_GIANG, amount_vnd=30 * TY), actor="b"
    )
    assert replayed and again == first
    assert state(ledger) == before


def test_same_id_with_different_content_is_refused(ledger: BudgetLedger) -> None:
    before = state(ledger)
    with pytest.raises(MovementIdConflict, match="amount_vnd"):
        record(ledger, "disburse", "w8", date(2024, 6, 1), TAY_GIANG, amount_vnd=1)
    with pytest.raises(MovementIdConflict):
        record(ledger, "adjust", "w8", date(2024, 6, 1), TAY_GIANG, amount_vnd=1)
    assert state(ledger) == before


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"amount_vnd": 0}, "amount_vnd"),
        ({"amount_vnd": -5}, "amount_vnd"),
        ({"amount_vnd": limits.AMOUNT_VND_MAX + 1}, "amount_vnd"),
        ({"amount_vnd": 5, "voucher": " "}, "voucher"),
        ({"amount_vnd": 5, "decision": "QĐ 1"}, "decision"),
    ],
    ids=["zero", "negative", "too-large", "blank-voucher", "decision-on-payment"],
)
def test_bad_payments_are_refused_naming_the_field(
    ledger: BudgetLedger, kw: dict, field: str
) -> None:
    before = state(ledger)
    with pytest.raises(InvalidInput) as refused:
        record(ledger, "disburse", "bad", date(2024, 6, 1), TAY_GIANG, **kw)
    assert refused.value.field == field
    assert state(ledger) == before


def test_dates_outside_a_lines_window_are_refused(ledger: BudgetLedger) -> None:
    with pytest.raises(InvalidInput, match="outside"):
        record(ledger, "adjust", "old", date(2020, 1, 1), LINE, amount_vnd=1)


def test_adjustment_may_carry_a_sign_but_not_exceed_the_limit() -> None:
    with pytest.raises(InvalidInput):
        request("adjust", "a", date(2024, 1, 1), LINE, amount_vnd=-(limits.AMOUNT_VND_MAX + 1))
    assert request("adjust", "a", date(2024, 1, 1), LINE, amount_vnd=-limits.AMOUNT_VND_MAX)


def test_the_holder_tree_has_a_depth_limit(memory_ledger: BudgetLedger) -> None:
    register_tree(memory_ledger)
    parent = "505"  # the fourth level: TW, 49, 505
    for number in range(limits.HOLDER_DEPTH_MAX - 3):
        memory_ledger.register_holder(f"A{number}", "Ban QLDA", "agency", parent, actor="t")
        parent = f"A{number}"
    before = memory_ledger.list_holders()
    with pytest.raises(InvalidInput, match=f"at most {limits.HOLDER_DEPTH_MAX}"):
        memory_ledger.register_holder("DEEP", "Ban QLDA", "agency", parent, actor="t")
    assert memory_ledger.list_holders() == before
    assert len(memory_ledger.subtree(parent)) == 1


def test_holders_form_a_tree(memory_ledger: BudgetLedger) -> None:
    register_tree(memory_ledger)
    with pytest.raises(NotRelated):
        memory_ledger.register_holder("03618", "Xã Mường Than", "commune", "TW", actor="t")
    with pytest.raises(InvalidInput):
        memory_ledger.register_holder("TW2", "Second root", "central", "TW", actor="t")
    with pytest.raises(InvalidInput, match="never reused"):
        memory_ledger.register_holder("505", "Another name", "district", "49", actor="t")
    with pytest.raises(UnknownHolder):
        memory_ledger.register_holder("03618", "Xã Mường Than", "commune", "999", actor="t")
    memory_ledger.register_holder("03618", "Xã Mường Than", "commune", "110", actor="t")
    assert [h.code for h in memory_ledger.list_holders()] == [
        "03618",
        "110",
        "12",
        "49",
        "504",
        "505",
        "TW",
    ]


def test_lines_of_different_projects_are_different_lines(memory_ledger: BudgetLedger) -> None:
    register_tree(memory_ledger)
    da4 = LineKey.parse(
        program="gnbv", kind="dtpt", source="nstw", year="2024", holder="tw", project="da4.tda1"
    )
    record(memory_ledger, "adjust", "a", date(2024, 1, 2), da4, amount_vnd=5)
    assert figures(memory_ledger, da4)["available_vnd"] == 5
    assert memory_ledger.get_line(LINE) is None


def test_check_finds_a_movement_missing_from_the_journal(ledger: BudgetLedger) -> None:
    journal = [entry for entry in ledger.journal() if entry[1]["movement_id"] != "w5"]
    problems = check(journal, ledger.list_lines())
    assert any("GNBV/DTPT/NSTW/2024/505: disbursed_vnd" in p for p in problems)


def test_check_finds_money_not_conserved_when_a_posting_is_lost(ledger: BudgetLedger) -> None:
    lines = [line for line in ledger.list_lines() if line.key != TAY_GIANG]
    problems = check(ledger.journal(), lines)
    assert any("money is not conserved" in p for p in problems)
    assert any("never opened" in p for p in problems)


def test_check_finds_a_reversal_larger_than_its_payment(ledger: BudgetLedger) -> None:
    journal = list(ledger.journal())
    for _, movement in journal:
        if movement["movement_id"] == "w7":
            movement["amount_vnd"] = 61 * TY
    assert any("more than the" in p for p in check(journal, ledger.list_lines()))


def test_a_refusal_names_the_field_a_movement_lacks_and_no_option() -> None:
    """The command line adds its option (--of, --until) from ``missing``; an import row or
    an HTTP body names the field itself."""
    for action, field in (("reverse", "reverses"), ("extend", "until")):
        with pytest.raises(InvalidInput) as refused:
            request(action, "m", date(2024, 7, 1), None if action == "reverse" else LINE)
        assert (refused.value.field, refused.value.values) == (field, {"missing": True})
        assert "--" not in refused.value.message
