"""The demo's recorded times: when the offices and the treasury would have recorded each of
its movements, so that ``--known-at`` reads the demo's books as they stood at a moment (the
meeting of 17/9/2024 among them). Like the amounts, the times are synthetic.

- A decision (an adjustment, allocation, reallocation, extension, a year's closing, the
  reorganisation) is recorded the morning of its day.
- A payment is recorded when the treasury confirms it: the afternoon of the second to fourth
  working day after it (so payments made in the days before the meeting of 17/9/2024 were
  confirmed after it); a reversal the next working day, after its payment.

The ledger takes every recorded time from its clock (``BudgetLedger.now``). Only the demo's
builder gives it this one and sets its time; no command option or API field can, so the
recorded times of real books are the real ones (docs/decisions.md §20).
"""

from __future__ import annotations

import zlib
from datetime import date, datetime, time, timedelta

from ledger.domain.movements import Disburse, MovementRequest, Reverse
from ledger.domain.values import VIETNAM_TIME

# Before the demo's first movement (seed 000's 2022 plan, 5/1/2022): when its ledger, its
# holders and the built-in programs are recorded.
START_DAY = date(2022, 1, 4)


def office(day: date, hour: int, minutes: int = 0) -> datetime:
    """``minutes`` past ``hour`` o'clock on ``day``, Vietnam time."""
    return datetime.combine(day, time(hour), VIETNAM_TIME) + timedelta(minutes=minutes)


def working_days_after(day: date, count: int) -> date:
    """The ``count``-th working day (Monday to Friday) after ``day``."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def confirmed_at(request: MovementRequest, paid_at: datetime | None = None) -> datetime:
    """When ``request`` is recorded (see the module's docstring); ``paid_at``: for a reversal,
    when its payment was recorded. The spread within a day and the delay of a payment come
    from the movement's id, so the times are the same at every load."""
    spread = zlib.crc32(request.movement_id.encode())
    day = request.effective_date
    if isinstance(request, Disburse):
        confirmed = working_days_after(day, 2 + spread % 3)
        return office(confirmed, 14, 5 + spread % 110)
    if isinstance(request, Reverse):
        reversed_at = office(working_days_after(day, 1), 10, spread % 50)
        if paid_at is not None:
            reversed_at = max(reversed_at, paid_at + timedelta(minutes=30))
        return reversed_at
    return office(day, 8, 30 + spread % 90)


class DemoClock:
    """The time the demo's builder set last (from ``START_DAY`` at 8:00): what the ledger
    records as the time of each write. It never goes back, so recorded times do not decrease
    along the log."""

    def __init__(self) -> None:
        self._at = office(START_DAY, 8)

    def __call__(self) -> datetime:
        return self._at

    def set(self, at: datetime | None) -> None:
        """From now on, record ``at`` (a time earlier than the one set is not taken: into a
        ledger that already recorded later, the demo's movements are recorded at its last
        time)."""
        if at is not None and at > self._at:
            self._at = at
