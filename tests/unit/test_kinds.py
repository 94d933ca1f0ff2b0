"""The movement kinds (ledger/domain/movements.py KINDS): each kind's one definition is what every
table derived from it says, and what the line aggregate does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from api.tokens import ROLES, writes
from ledger.application import BudgetLedger
from ledger.domain.errors import InvalidInput
from ledger.domain.journal import EFFECTS
from ledger.domain.lines import BudgetLine
from ledger.domain.movements import (
    CANONICAL_FIELDS,
    KINDS,
    Allocate,
    Disburse,
    Extend,
    MovementRequest,
    Reverse,
    Succeed,
    movement,
)
from ledger.domain.values import LineKey
from ledger.interchange.export import ACTION_LABELS
from ledger.interchange.hledger import COUNTER_FIGURE
from projections.events import EFFECTS as POSTING_EFFECTS
from projections.events import FIGURES as POSTING_FIGURES
from tests.story import DONG_GIANG, LINE, TAY_GIANG, TY, record, worked_example

# The tables as they were written out by hand before the kinds had one definition each.
LABELS_BEFORE = {
    "adjust": "điều chỉnh",
    "allocate": "giao vốn",
    "reallocate": "điều chuyển vốn",
    "disburse": "giải ngân",
    "reverse": "thu hồi giải ngân",
    "extend": "kéo dài thời gian giải ngân",
    "lapse": "hủy dự toán",
}
COUNTER_BEFORE = {
    "adjust": "appropriation",
    "allocate": None,
    "reallocate": None,
    "disburse": "disbursed",
    "reverse": "disbursed",
    "extend": None,
    "lapse": "lapsed",
}
EFFECTS_BEFORE: dict[str, tuple[dict[str, int], ...]] = {
    "adjust": ({"assigned_vnd": 1},),
    "allocate": ({"allocated_on_vnd": 1}, {"assigned_vnd": 1}),
    "reallocate": ({"assigned_vnd": -1}, {"assigned_vnd": 1}),
    "disburse": ({"disbursed_vnd": 1},),
    "reverse": ({"disbursed_vnd": -1},),
    "extend": ({},),
    "lapse": ({"lapsed_vnd": 1},),
}
APPROVER_WRITES = {"disburse", "reverse", "allocate", "adjust", "reallocate", "extend", "lapse"}
WRITES_BEFORE = {
    "viewer": set(),
    "clerk": {"disburse", "reverse"},
    "approver": APPROVER_WRITES | {"holder", "program"},  # programs: since issue 14
    "admin": APPROVER_WRITES | {"holder", "program"},
}
POSTING_EFFECTS_BEFORE = {
    "budget_ledger:BudgetLine.Adjusted": (1, 0, 0, 0),
    "budget_ledger:BudgetLine.Allocated": (0, 1, 0, 0),
    "budget_ledger:BudgetLine.AllocationReceived": (1, 0, 0, 0),
    "budget_ledger:BudgetLine.ReallocatedOut": (-1, 0, 0, 0),
    "budget_ledger:BudgetLine.ReallocatedIn": (1, 0, 0, 0),
    "budget_ledger:BudgetLine.Disbursed": (0, 0, 1, 0),
    "budget_ledger:BudgetLine.DisbursementReversed": (0, 0, -1, 0),
    "budget_ledger:BudgetLine.Lapsed": (0, 0, 0, 1),
}


@pytest.mark.parametrize("action", list(LABELS_BEFORE))
def test_the_tables_derived_from_a_kind_say_what_they_said_before(action: str) -> None:
    assert ACTION_LABELS[action] == LABELS_BEFORE[action]
    assert COUNTER_FIGURE[action] == COUNTER_BEFORE[action]
    assert EFFECTS[action] == EFFECTS_BEFORE[action]
    for role, allowed in WRITES_BEFORE.items():
        assert (action in writes(role)) == (action in allowed), role


def test_the_roles_write_what_they_wrote_before_and_approvers_successions() -> None:
    # Issue 14: a succession is recorded by an approver or an admin, like a reallocation.
    succeed = {"approver": {"succeed"}, "admin": {"succeed"}}
    expected = {role: writes | succeed.get(role, set()) for role, writes in WRITES_BEFORE.items()}
    assert {role: set(writes(role)) for role in ROLES} == expected


def test_the_read_model_reads_each_posting_as_before() -> None:
    """The four figures the read model had before issue 14 added ``passed_on_vnd`` and
    ``received_vnd`` (zero for every posting that existed then)."""
    for topic, effect in POSTING_EFFECTS_BEFORE.items():
        assert POSTING_EFFECTS[topic] == (*effect, 0, 0), topic


def test_each_posting_declares_what_applying_it_does(memory_ledger: BudgetLedger) -> None:
    """A posting's ``effect`` (what the read models use) against its ``apply`` (what the line
    does), over a history with a posting of every kind."""
    worked_example(memory_ledger)
    extend = {"until": date(2025, 12, 31), "amount_vnd": 20 * TY}
    record(memory_ledger, "extend", "e", date(2025, 1, 20), TAY_GIANG, **extend)
    record(memory_ledger, "lapse", "l", date(2026, 1, 1), TAY_GIANG)
    # Extended money moving (with its deadline), then a succession passing lines on.
    record(memory_ledger, "extend", "e2", date(2025, 1, 20), DONG_GIANG, **extend)
    record(
        memory_ledger,
        "reallocate",
        "r",
        date(2025, 3, 1),
        DONG_GIANG,
        counterpart="504",
        amount_vnd=5 * TY,
    )
    succession = Succeed(
        movement_id="s",
        effective_date=date(2026, 2, 1),
        from_holders=("504", "505"),
        to_holder="49",
        decision="NQ 1670/NQ-UBTVQH15",
    )
    memory_ledger.record(succession, actor="tester")
    seen: set[str] = set()
    lines: dict[Any, BudgetLine] = {}
    topics = sorted(posting.TOPIC for posting in BudgetLine.postings())
    for notification in memory_ledger.recorder.select_notifications(
        start=1, limit=10_000, topics=[BudgetLine.Opened.TOPIC, *topics]
    ):
        event: Any = memory_ledger.mapper.to_domain_event(notification)
        before = lines[event.originator_id].figures() if event.originator_id in lines else None
        line = event.mutate(lines.get(event.originator_id))
        lines[event.originator_id] = line
        if before is None:
            continue
        seen.add(notification.topic)
        after = line.figures()
        for figure in POSTING_FIGURES:
            change = event.effect.get(figure, 0) * event.amount_vnd
            assert after[figure] - before[figure] == change, (notification.topic, figure)
    assert seen == set(topics)


def test_a_kind_takes_its_fields_and_refuses_the_others() -> None:
    day = date(2024, 3, 1)
    paid = movement(
        "disburse", movement_id="p", effective_date=day, line=LINE, amount_vnd=5, voucher=" KB "
    )
    assert isinstance(paid, Disburse) and paid.voucher == "KB"
    disbursed: dict[str, Any] = {"movement_id": "p", "effective_date": day, "line": LINE}
    disbursed |= {"amount_vnd": 5, "voucher": "KB"}
    with pytest.raises(InvalidInput) as refused:
        movement("disburse", movement_id="p", effective_date=day, line=LINE, amount_vnd=5)
    assert refused.value.field == "voucher"
    with pytest.raises(InvalidInput) as refused:
        movement("disburse", **disbursed, until=day)
    assert refused.value.field == "until"
    with pytest.raises(InvalidInput) as refused:
        movement("reverse", movement_id="r", effective_date=day, line=LINE, reason="x")
    assert refused.value.field == "line"
    assert "takes its line from the payment" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        movement("allocate", movement_id="a", effective_date=day, line=LINE, decision="x")
    assert (refused.value.field, refused.value.message) == (
        "to_holder",
        "allocate needs a receiving holder",
    )
    with pytest.raises(InvalidInput) as refused:
        movement("extend", movement_id="e", effective_date=day, line=LINE, basis="x")
    assert refused.value.field == "until"
    with pytest.raises(InvalidInput) as refused:
        movement("advance", movement_id="x", effective_date=day)
    assert refused.value.field == "action"


def test_what_each_kind_takes_follows_from_its_fields() -> None:
    assert Allocate.holder_field() == "from_holder" and Disburse.holder_field() == "holder"
    assert [k.action for k in KINDS.values() if k.resolves_amount()] == [
        "reverse",
        "extend",
        "lapse",
    ]
    assert Reverse.required_fields() == ("movement_id", "effective_date", "reverses", "reason")
    assert "amount_vnd" not in Extend.required_fields()
    assert [k.action for k in KINDS.values() if k.brings_money_in] == ["adjust"]


@dataclass(frozen=True, kw_only=True)
class Advance(MovementRequest):
    """A kind the ledger does not have, with fields no first kind had."""

    line: LineKey
    amount_vnd: int
    contract: str
    due: date
    instalments: int | None = None
    supplier: str | None = None

    action = "advance"
    reference = "contract"
    label = "tạm ứng"
    effects = ({"disbursed_vnd": 1},)
    counter_figure = "disbursed"
    role = "clerk"
    endpoint = "/advances"
    summary = "Pay an advance on a contract."
    help = {"holder": "Whose line pays.", "due": "Settled by.", "instalments": "Parts."}


def test_a_later_kind_stores_its_own_fields_after_the_first_kinds_shape() -> None:
    day = date(2024, 3, 1)
    advance = Advance(
        movement_id="a1", effective_date=day, line=LINE, amount_vnd=5, contract=" HĐ 1 ", due=day
    )
    canonical = advance.canonical()
    assert list(canonical)[: len(CANONICAL_FIELDS)] == list(CANONICAL_FIELDS)
    assert list(canonical)[len(CANONICAL_FIELDS) :] == [
        "contract",
        "due",
        "instalments",
        "supplier",
    ]
    assert (canonical["action"], canonical["contract"], canonical["due"]) == (
        "advance",
        "HĐ 1",
        "2024-03-01",
    )
    assert Advance.plain_fields() == ("due", "instalments", "supplier")
    assert [Advance.value_type(name) for name in Advance.plain_fields()] == [date, int, str]
    with pytest.raises(InvalidInput) as refused:
        Advance(movement_id="a2", effective_date=day, line=LINE, amount_vnd=5, contract="", due=day)
    assert refused.value.field == "contract"
    with pytest.raises(InvalidInput) as refused:
        Advance(
            movement_id="a3",
            effective_date=day,
            line=LINE,
            amount_vnd=5,
            contract="HĐ 1",
            due=day,
            supplier="A\x1bB",
        )
    assert refused.value.field == "supplier"
