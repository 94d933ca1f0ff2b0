"""``BudgetLine.available_from`` (every movement's overdraw check, at its date and every later
one) against the plain fold it stands for: walk the days in order, keep the running amount,
note the lowest from the day asked on (up to the day before the line's holder ended)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.lines import BudgetLine
from ledger.domain.values import LineKey

START = date(2024, 1, 1)
KEY = LineKey("GNBV", "DTPT", "NSTW", 2024, "TW")


def folded(changes: dict[str, int], ended_on: str | None, day: date) -> tuple[int, date]:
    start = day.isoformat()
    horizon = ended_on if ended_on is not None and start < ended_on else None
    running = 0
    for key in sorted(changes):
        if key <= start:
            running += changes[key]
    lowest, lowest_day = running, day
    for key in sorted(changes):
        if key <= start:
            continue
        running += changes[key]
        if (horizon is None or key < horizon) and running < lowest:
            lowest, lowest_day = running, date.fromisoformat(key)
    return lowest, lowest_day


days = st.integers(min_value=-3, max_value=370).map(lambda n: START + timedelta(days=n))


@given(
    changes=st.dictionaries(
        days.map(date.isoformat), st.integers(min_value=-50, max_value=50).filter(bool)
    ),
    ended=st.one_of(st.none(), days),
    asked=st.one_of(st.just(date.min), days),
)
def test_the_lowest_amount_from_a_day_is_the_folds(
    changes: dict[str, int], ended: date | None, asked: date
) -> None:
    line = BudgetLine.open(KEY, recorded_at=datetime(2024, 1, 1, tzinfo=UTC))
    line.available_change_by_day = dict(changes)
    line.assigned_vnd = sum(changes.values())
    line.ended_on = ended.isoformat() if ended else None
    assert line.available_from(asked) == folded(changes, line.ended_on, asked)
