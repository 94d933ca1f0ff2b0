"""Random histories of movements, in random effective-date and recording order: whatever is
accepted or refused, the ledger's rules hold after every command, recomputed by brute force
from the raw movements, and a refused command changes nothing."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import BudgetLedger
from ledger.domain.audit import check
from ledger.domain.errors import LedgerError
from ledger.domain.movements import MovementRequest
from ledger.domain.movements import movement as make_movement
from ledger.domain.values import LineKey
from tests.story import register_tree, state

LINE = LineKey("DTTS", "SN", "NSTW", 2024, "TW")
HOLDERS = ["TW", "49", "505", "504", "12", "110"]
START = date(2024, 1, 1)

days = st.integers(min_value=0, max_value=500).map(lambda n: START + timedelta(days=n))
amounts = st.integers(min_value=1, max_value=10**6)
holders = st.sampled_from(HOLDERS)

movement = st.one_of(
    st.tuples(
        st.just("adjust"), days, holders, st.none(), st.integers(-(10**6), 10**7).filter(bool)
    ),
    st.tuples(st.just("allocate"), days, holders, holders, amounts),
    st.tuples(st.just("reallocate"), days, holders, holders, amounts),
    st.tuples(st.just("disburse"), days, holders, st.none(), amounts),
    st.tuples(st.just("reverse"), days, st.none(), st.integers(0, 40), st.none() | amounts),
    st.tuples(st.just("extend"), days, holders, days, st.none() | amounts),
    st.tuples(st.just("lapse"), days, holders, st.none(), st.none()),
)


FUNDING = [  # every line starts with money, so random steps are mostly meaningful
    ("adjust", START, "TW", None, 4 * 10**7),
    ("allocate", START, "TW", "49", 2 * 10**7),
    ("allocate", START, "TW", "12", 10**7),
    ("allocate", START, "49", "505", 5 * 10**6),
    ("allocate", START, "49", "504", 5 * 10**6),
    ("allocate", START, "12", "110", 5 * 10**6),
]


def to_request(number: int, step: tuple[Any, ...], paid: list[str]) -> MovementRequest:
    action, day, holder, other, amount = step
    fields: dict[str, Any] = {"movement_id": f"m{number}", "effective_date": day}
    if action == "reverse":
        reverses = paid[other % len(paid)] if paid else "none"
        return make_movement(action, reverses=reverses, amount_vnd=amount, reason="r", **fields)
    fields["line"] = LINE.with_holder(holder)
    if action in ("allocate", "reallocate"):
        return make_movement(action, counterpart=other, amount_vnd=amount, decision="d", **fields)
    if action == "extend":
        return make_movement(action, until=other, amount_vnd=amount, basis="b", **fields)
    if action == "lapse":
        return make_movement(action, **fields)
    reference = {"adjust": "decision", "disburse": "voucher"}[action]
    return make_movement(action, amount_vnd=amount, **{reference: "x"}, **fields)


def brute_force_lowest(ledger: BudgetLedger) -> dict[str, int]:
    """Each line's lowest available amount over all dates, from the raw movements alone."""
    change: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    sign = {
        "adjust": [1],
        "allocate": [-1, 1],
        "reallocate": [-1, 1],
        "disburse": [-1],
        "reverse": [1],
        "extend": [0],
        "lapse": [-1],
    }
    for _, recorded in ledger.journal():
        day = date.fromisoformat(recorded["request"]["effective_date"])
        for factor, touched in zip(sign[recorded["action"]], recorded["lines"], strict=True):
            label = LineKey(**touched["line"]).label
            change[label][day] += factor * recorded["amount_vnd"]
    lowest = {}
    for label, by_day in change.items():
        running, low = 0, 0
        for day in sorted(by_day):
            running += by_day[day]
            low = min(low, running)
        lowest[label] = low
    return lowest


def brute_force_late_payments(ledger: BudgetLedger) -> list[str]:
    """Payments recorded with an effective date after their line's deadline at that time."""
    deadline: dict[str, date] = {}
    late = []
    for _, recorded in ledger.journal():
        key = LineKey(**recorded["lines"][0]["line"])
        request = recorded["request"]
        if recorded["action"] == "extend":
            deadline[key.label] = date.fromisoformat(request["until"])
        elif recorded["action"] == "disburse":
            if date.fromisoformat(request["effective_date"]) > deadline.get(
                key.label, key.base_deadline
            ):
                late.append(recorded["movement_id"])
    return late


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(movement, min_size=1, max_size=40))
def test_random_histories_keep_every_rule(steps: list[tuple[Any, ...]]) -> None:
    ledger = BudgetLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    register_tree(ledger)
    paid: list[str] = []
    for number, step in enumerate([*FUNDING, *steps]):
        try:
            request = to_request(number, step, paid)
        except LedgerError:
            continue  # refused before reaching the ledger (e.g. allocating to oneself)
        before = state(ledger)
        try:
            ledger.record(request, actor="hypothesis")
        except LedgerError:
            assert state(ledger) == before
        else:
            if request.action == "disburse":
                paid.append(request.movement_id)
    assert check(ledger.journal(), ledger.list_lines()) == []
    assert all(low >= 0 for low in brute_force_lowest(ledger).values())
    assert brute_force_late_payments(ledger) == []
    for line in ledger.list_lines():
        assert line.disbursed_vnd >= 0 and line.available_vnd >= 0
        if line.disbursed_vnd or line.lapsed_vnd:
            assert line.deadline >= line.key.base_deadline
