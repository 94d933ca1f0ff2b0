"""Random histories with successions among them, in random effective-date and recording
order (late confirmations before a holder's end recorded after it; extended money moving):
whatever is accepted or refused, the rules hold, recomputed from the movements alone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.application import BudgetLedger
from ledger.domain.audit import check
from ledger.domain.errors import LedgerError
from ledger.domain.journal import fold
from ledger.domain.movements import Succeed
from tests.properties.test_random_histories import FUNDING, START, to_request
from tests.story import register_tree, state

# Holders that can end (the districts, a province) and who may take their lines.
ENDING = ["505", "504", "110", "12"]
SUCCESSORS = ["49", "505", "504", "12", "110"]

days = st.integers(min_value=0, max_value=500).map(lambda n: START + timedelta(days=n))
amounts = st.integers(min_value=1, max_value=10**6)
holders = st.sampled_from(["TW", "49", "505", "504", "12", "110"])
step = st.one_of(
    st.tuples(st.just("allocate"), days, holders, holders, amounts),
    st.tuples(st.just("reallocate"), days, holders, holders, amounts),
    st.tuples(st.just("disburse"), days, holders, st.none(), amounts),
    st.tuples(st.just("disburse"), days, holders, st.none(), amounts),
    st.tuples(st.just("reverse"), days, st.none(), st.integers(0, 40), st.none() | amounts),
    st.tuples(st.just("extend"), days, holders, days, st.none() | amounts),
    st.tuples(st.just("lapse"), days, holders, st.none(), st.none()),
    st.tuples(
        st.just("succeed"), days, st.sampled_from(ENDING), st.sampled_from(SUCCESSORS), st.none()
    ),
)


def holders_state(ledger: BudgetLedger) -> dict[str, Any]:
    return {code: (h.ended_on, h.successor, h.version) for code, h in ledger.holders().items()}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=40))
def test_random_histories_with_successions_keep_every_rule(steps: list[tuple[Any, ...]]) -> None:
    ledger = BudgetLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    register_tree(ledger)
    paid: list[str] = []
    for number, (action, day, holder, other, amount) in enumerate([*FUNDING, *steps]):
        try:
            if action == "succeed":
                request: Any = Succeed(
                    movement_id=f"m{number}",
                    effective_date=day,
                    from_holders=(holder,),
                    to_holder=other,
                    decision="NQ",
                )
            else:
                request = to_request(number, (action, day, holder, other, amount), paid)
        except LedgerError:
            continue
        before = (state(ledger), holders_state(ledger))
        try:
            ledger.record(request, actor="hypothesis")
        except LedgerError:
            assert (state(ledger), holders_state(ledger)) == before
        else:
            if request.action == "disburse":
                paid.append(request.movement_id)
            if request.action == "succeed":
                event("a succession recorded")
            elif any(ledger.get_holder(code).ended_on for code in ENDING):
                event("a movement recorded after a succession")
    lines = ledger.replay_lines()
    assert check(ledger.journal(), lines) == []
    # Recomputed from the movements alone: no line is negative at the end of any day.
    for journal_line in fold(ledger.journal()).values():
        running = 0
        for day in sorted(journal_line.available_by_day):
            running += journal_line.available_by_day[day]
            assert running >= 0, (journal_line.key.label, day)
    # An ended holder's lines hold nothing from its end, and nothing is dated after it but
    # what passed on.
    lives = ledger.holders()
    for line in lines:
        holder = lives[line.key.holder]
        if holder.ended_on is None:
            continue
        assert line.available_vnd == 0, line.key.label
        later = [d for d in line.available_change_by_day if d > holder.ended_on.isoformat()]
        assert later == [], (line.key.label, later)
    assert all(
        not lives[code].ended_by(date.max) or lives[code].successor in lives for code in lives
    )
